/**
 * Check 1, feature-space equivalence (HaoChen et al. 2021; Wang et al.
 * 2023, §3): the spectral contrastive loss written over pairs of samples,
 *
 *   L_sp(f) = −2 Σ_{x,x'} A(x, x') f·f' + Σ_{x,x'} D_x D_x' (f·f')²,
 *
 * equals the feature-space form `‖Ā − F Fᵀ‖²_F − ‖Ā‖²_F` with
 * `F = D^1/2 F_f` and `Ā = D^-1/2 A D^-1/2`. Both sides are computed
 * literally in float64 on a stochastic-block augmentation graph, for
 * several random F_f of different scales.
 */

import { tf } from "../src/backend.js";
import {
  spectralContrastiveLoss,
  spectralLossDense64,
  spectralLossFeatureSpace,
} from "../src/contrastive/losses.js";
import { degreeScale } from "../src/contrastive/updates.js";
import { stochasticBlockModel } from "../src/graph/generators.js";
import type { Graph } from "../src/graph/graph.js";
import { lineChart } from "../src/plot/line.js";
import { panels } from "../src/plot/panels.js";
import { mulberry32, randomNormal } from "../src/random.js";
import {
  type CheckOptions,
  type CheckResult,
  formatNumber,
  relativeError,
  resolveCheckOptions,
  type TheoryCheck,
} from "./check.js";

/** Largest relative error between the two forms that passes. */
export const FEATURE_SPACE_TOLERANCE = 1e-6;

/** Relative errors below this are drawn at this value on the log axis. */
const ERROR_FLOOR = 1e-17;

/**
 * The feature-space form `‖Ā − F Fᵀ‖²_F − ‖Ā‖²_F` in float64, with
 * `F = D^exponent F_f` (the theory's exponent is 1/2) and Ā formed
 * densely from the graph's edges. f is row-major `[N, k]`.
 */
function featureSpaceForm(
  graph: Graph,
  f: Float64Array,
  k: number,
  exponent: number,
): number {
  const n = graph.numNodes;

  // the dense A and its degrees
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let e = graph.rowPtr[i]; e < graph.rowPtr[i + 1]; e++) {
      a[i * n + graph.colIdx[e]] += graph.weight(e);
    }
  }
  const deg = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) deg[i] += a[i * n + j];
  }

  // F = D^exponent F_f, then the two squared norms entry by entry
  const big = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const s = deg[i] > 0 ? deg[i] ** exponent : 0;
    for (let c = 0; c < k; c++) big[i * k + c] = s * f[i * k + c];
  }
  let residual = 0;
  let abarNorm = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const d = Math.sqrt(deg[i] * deg[j]);
      const abar = d > 0 ? a[i * n + j] / d : 0;
      let ff = 0;
      for (let c = 0; c < k; c++) ff += big[i * k + c] * big[j * k + c];
      residual += (abar - ff) ** 2;
      abarNorm += abar * abar;
    }
  }
  return residual - abarNorm;
}

/**
 * Check 1. Sizes: "small" N = 60 (3 blocks), k = 4, 8 trials; "full"
 * N = 300, k = 8, 12 trials. Trial t draws F_f with i.i.d. normal entries
 * scaled by `2^e / √(N d̄)` (d̄ the mean degree), e from −1.5 to 1.5 in
 * even steps, so the loss ranges from near 0 to a few hundred across
 * trials. The perturbation changes the exponent of D in the prediction
 * to `(1 + perturbation) / 2`.
 *
 * Predicted: the feature-space form; measured: the sample-space form
 * (`spectralLossDense64`); the reported numbers are those of the last
 * trial, and the verdict is on the largest relative error over trials.
 * The float32 tensor forms of `losses.ts` are compared too, as a detail.
 */
export const featureSpaceCheck: TheoryCheck = {
  id: "1",
  title: "Feature-space equivalence of the spectral loss",
  claim:
    "The spectral contrastive loss over sample pairs equals " +
    "‖Ā − F Fᵀ‖² − ‖Ā‖² with F = D^1/2 F_f.",
  async run(options: CheckOptions = {}): Promise<CheckResult> {
    const { size, seed, perturbation } = resolveCheckOptions(
      "featureSpaceCheck",
      options,
    );
    const full = size === "full";
    const blockSize = full ? 100 : 20;
    const k = full ? 8 : 4;
    const trials = full ? 12 : 8;

    // the augmentation graph: three latent classes
    const { graph } = stochasticBlockModel(
      { sizes: [blockSize, blockSize, blockSize], pIn: 0.3, pOut: 0.05 },
      { seed },
    );
    const n = graph.numNodes;
    const meanDegree = graph.numEdges / n;

    // both forms on each random F_f
    const random = mulberry32(seed + 1);
    const sample: number[] = [];
    const feature: number[] = [];
    const errors: number[] = [];
    let lastF = new Float64Array(0);
    for (let t = 0; t < trials; t++) {
      const exponent = (3 * t) / (trials - 1) - 1.5;
      const scale = 2 ** exponent / Math.sqrt(n * meanDegree);
      const f = new Float64Array(n * k);
      for (let i = 0; i < f.length; i++) f[i] = scale * randomNormal(random);
      const measured = spectralLossDense64(graph, f, k).sampleSpace;
      const predicted = featureSpaceForm(graph, f, k, (1 + perturbation) / 2);
      sample.push(measured);
      feature.push(predicted);
      errors.push(relativeError(measured, predicted));
      lastF = f;
    }
    const worst = Math.max(...errors);

    // the float32 tensor forms of losses.ts on the last F_f, as a detail
    const float32Error = tf.tidy(() => {
      const ff = tf.tensor2d(Float32Array.from(lastF), [n, k]);
      const sampleLoss = spectralContrastiveLoss(graph, ff).dataSync()[0];
      const featureLoss = spectralLossFeatureSpace(
        graph,
        degreeScale(graph, ff),
      ).dataSync()[0];
      return relativeError(sampleLoss, featureLoss);
    });

    // figure: the two forms per trial, and their relative error (log)
    const x = {
      label: "trial (scale grows)",
      values: sample.map((_, t) => t + 1),
    };
    const values = lineChart({
      title: "Both forms of the spectral loss",
      x,
      y: { label: "loss" },
      series: [
        { name: "sample space", values: sample },
        { name: "feature space", values: feature, dashed: true },
      ],
      width: 360,
      height: 240,
      legend: "bottom",
    });
    const errorChart = lineChart({
      title: "Relative error (float64)",
      subtitle: `tolerance 1e-6; 0 would be drawn at ${ERROR_FLOOR}`,
      x,
      y: { label: "relative error" },
      series: [
        {
          name: "|sample − feature| / |feature|",
          values: errors.map((e) => Math.max(e, ERROR_FLOOR)),
        },
      ],
      logY: true,
      width: 360,
      height: 240,
      legend: "bottom",
    });
    const spec = panels([values, errorChart], {
      columns: 2,
      title: `Check 1: feature-space equivalence (SBM, N = ${n}, k = ${k})`,
    });

    return {
      id: "1",
      claim: featureSpaceCheck.claim,
      predicted: feature[trials - 1],
      measured: sample[trials - 1],
      tolerance: `max relative error over ${trials} trials < 1e-6 (float64)`,
      pass: worst < FEATURE_SPACE_TOLERANCE,
      details: {
        nodes: n,
        edges: graph.numEdges / 2,
        k,
        trials,
        seed,
        maxRelativeError: formatNumber(worst),
        float32TensorRelativeError: formatNumber(float32Error),
      },
      figures: [{ name: "01-feature-space", spec }],
    };
  },
};
