/**
 * Check 7, oversmoothing is collapse (Wang et al. 2023, §5): a linear GCN
 * layer without weights, `H ← D̃^-1/2 (A + I) D̃^-1/2 H` with D̃ = D + I
 * (Kipf & Welling 2017), is the alignment update of contrastive learning
 * on the augmentation graph A + I (each sample is also its own positive):
 * `alignmentUpdate` with its default "sym" normalization computes
 * `Ā F` for Ā the normalized A + I. So L layers are L alignment steps, and
 * the features of both paths lose their Dirichlet energy alike as depth
 * grows: the collapse of alignment alone is oversmoothing.
 */

import { tf } from "../src/backend.js";
import { alignmentUpdate } from "../src/contrastive/updates.js";
import { stochasticBlockModel } from "../src/graph/generators.js";
import { addSelfLoops, normalize } from "../src/graph/transforms.js";
import { propagate } from "../src/mp/propagate.js";
import { lineChart } from "../src/plot/line.js";
import { mulberry32, randomNormal } from "../src/random.js";
import { dirichletEnergy } from "../src/spectral/energy.js";
import {
  type CheckOptions,
  type CheckResult,
  formatNumber,
  relativeError,
  resolveCheckOptions,
  type TheoryCheck,
} from "./check.js";

/**
 * Largest entry-wise difference between the two paths that passes. Both
 * run the same float32 kernel over the same normalized graph, so the
 * difference is expected to be exactly 0; the tolerance allows for a
 * backend that would sum in another order.
 */
export const OVERSMOOTHING_TOLERANCE = 1e-6;

/** Energies below this are drawn at this value on the log axis. */
const ENERGY_FLOOR = 1e-30;

/**
 * Check 7. Sizes: "small" N = 120 (3 blocks), k = 8, 16 layers; "full"
 * N = 900, k = 16, 48 layers. The graph is a stochastic block model
 * (pIn 0.15 small / 0.03 full, pOut a tenth of it); H0 has i.i.d. normal
 * entries. Predicted: the alignment path; measured: the GCN path. The
 * verdict is on the largest |GCN − alignment| entry over all depths and
 * on the largest relative difference of their Dirichlet energies (same
 * tolerance). The perturbation scales each alignment step by
 * `1 + perturbation`.
 */
export const oversmoothingCheck: TheoryCheck = {
  id: "7",
  title: "Oversmoothing is collapse",
  claim:
    "L layers of a weightless linear GCN are exactly L alignment steps " +
    "on the augmentation graph A + I, with the same falling Dirichlet " +
    "energy.",
  async run(options: CheckOptions = {}): Promise<CheckResult> {
    const { size, seed, perturbation } = resolveCheckOptions(
      "oversmoothingCheck",
      options,
    );
    const full = size === "full";
    const blockSize = full ? 300 : 40;
    const k = full ? 16 : 8;
    const depth = full ? 48 : 16;
    const pIn = full ? 0.03 : 0.15;

    // the graph, the GCN's operator and the augmentation graph A + I
    const { graph } = stochasticBlockModel(
      { sizes: [blockSize, blockSize, blockSize], pIn, pOut: pIn / 10 },
      { seed },
    );
    const n = graph.numNodes;
    const withLoops = addSelfLoops(graph);
    const gcnOperator = normalize(withLoops, "sym");

    // the initial features
    const random = mulberry32(seed + 1);
    const h0 = new Float32Array(n * k);
    for (let i = 0; i < h0.length; i++) h0[i] = randomNormal(random);

    // both paths, layer by layer, with their energies on the graph
    let gcn = tf.tensor2d(h0, [n, k]);
    let aligned = tf.tensor2d(h0, [n, k]);
    const gcnEnergy = [dirichletEnergy(graph, gcn)];
    const alignedEnergy = [dirichletEnergy(graph, aligned)];
    let maxDifference = 0;
    let maxEnergyError = 0;
    for (let layer = 1; layer <= depth; layer++) {
      const nextGcn = propagate(gcnOperator, gcn);
      const nextAligned = tf.tidy(() => {
        const u = alignmentUpdate(withLoops, aligned);
        return perturbation === 0 ? u : tf.mul(1 + perturbation, u);
      }) as tf.Tensor2D;
      gcn.dispose();
      aligned.dispose();
      gcn = nextGcn;
      aligned = nextAligned;

      const a = gcn.dataSync();
      const b = aligned.dataSync();
      for (let i = 0; i < a.length; i++) {
        maxDifference = Math.max(maxDifference, Math.abs(a[i] - b[i]));
      }
      gcnEnergy.push(dirichletEnergy(graph, gcn));
      alignedEnergy.push(dirichletEnergy(graph, aligned));
      maxEnergyError = Math.max(
        maxEnergyError,
        relativeError(gcnEnergy[layer], alignedEnergy[layer]),
      );
    }
    gcn.dispose();
    aligned.dispose();

    // figure: energy against depth for both paths (log y)
    const spec = lineChart({
      title: "Check 7: Dirichlet energy against depth",
      subtitle:
        `SBM, N = ${n}, k = ${k}; GCN layers (solid) and alignment ` +
        "steps on A + I (dashed)",
      x: { label: "depth L", values: gcnEnergy.map((_, l) => l) },
      y: { label: "Dirichlet energy" },
      series: [
        {
          name: "linear GCN",
          values: gcnEnergy.map((e) => Math.max(e, ENERGY_FLOOR)),
        },
        {
          name: "alignment steps",
          values: alignedEnergy.map((e) => Math.max(e, ENERGY_FLOOR)),
          dashed: true,
        },
      ],
      logY: true,
      width: 520,
      height: 320,
    });

    // NOTE: the energy spans ten decades; tick labels in exponent form
    // ("1e-7") stay short where Vega's default would print 0.0000001
    const y = (spec as { encoding: { y: { axis: object } } }).encoding.y;
    y.axis = { ...y.axis, format: "~e" };

    return {
      id: "7",
      claim: oversmoothingCheck.claim,
      predicted: 0,
      measured: maxDifference,
      tolerance:
        "max |GCN − alignment| entry and relative energy difference " +
        "≤ 1e-6 (float32; exactly 0 expected)",
      pass:
        maxDifference <= OVERSMOOTHING_TOLERANCE &&
        maxEnergyError <= OVERSMOOTHING_TOLERANCE,
      details: {
        nodes: n,
        edges: graph.numEdges / 2,
        k,
        depth,
        seed,
        maxEnergyRelativeDifference: formatNumber(maxEnergyError),
        energyAtDepth0: formatNumber(gcnEnergy[0]),
        energyAtDepthL: formatNumber(gcnEnergy[depth]),
      },
      figures: [{ name: "07-oversmoothing", spec }],
    };
  },
};
