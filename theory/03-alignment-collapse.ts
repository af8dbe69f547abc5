/**
 * Check 3, alignment alone collapses (Wang et al. 2023, §4): without the
 * uniformity term the contrastive step is repeated propagation over the
 * normalized augmentation graph Ā. In the normalized form
 *
 *   F ← (F + β Ā F) / (1 + β)
 *
 * (`contrastiveStep` with `terms: "alignment"`, which takes
 * `F ← F + β Ā F`, divided by 1 + β so that the top part keeps its size)
 * the part of F in the eigenspace of Ā's eigenvalue 1 stays put and every
 * other eigendirection j shrinks by `(1 + βλ_j)/(1 + β)` per step. The
 * eigenspace of 1 is spanned by `D^1/2 1_C`, one vector per connected
 * component C, so the features `F_f = D^-1/2 F` collapse to one point per
 * component, and on a connected graph the non-top part decays at the rate
 * `(1 + βλ2)/(1 + β)`, λ2 the second largest eigenvalue of Ā.
 *
 * Two runs: a stochastic block model with pOut = 0 (three components),
 * for the collapse; a connected two-block one, where λ2 is the community
 * eigenvalue well above the bulk, for the rate.
 */

import { tf } from "../src/backend.js";
import { contrastiveStep, degreeScale } from "../src/contrastive/updates.js";
import { stochasticBlockModel } from "../src/graph/generators.js";
import type { Graph } from "../src/graph/graph.js";
import { lineChart } from "../src/plot/line.js";
import { panels } from "../src/plot/panels.js";
import { mulberry32, randomNormal } from "../src/random.js";
import { connectedComponents } from "../src/spectral/components.js";
import { eigsh } from "../src/spectral/eigsh.js";
import { normalizedAdjacencyOperator } from "../src/spectral/operators.js";
import {
  type CheckOptions,
  type CheckResult,
  formatNumber,
  relativeError,
  resolveCheckOptions,
  type TheoryCheck,
} from "./check.js";

/** Largest relative error between the fitted and predicted rates. */
export const COLLAPSE_RATE_TOLERANCE = 0.02;

/**
 * Largest per-component spread of the features at the end of the
 * collapse run (relative to their root-mean-square norm) that counts as
 * collapsed; float32 rounding alone leaves about 1e-7.
 */
export const COLLAPSE_SPREAD_TOLERANCE = 1e-4;

/** The non-top part falls to this fraction of its start in the rate run. */
const RATE_RUN_DECAY = 1e-4;

/** The features as a float64 copy, row-major `[N, k]`. */
function readFeatures(F: tf.Tensor2D): Float64Array {
  return Float64Array.from(F.dataSync());
}

/** Random normal features `[N, k]` with the given seed, float32. */
function randomFeatures(n: number, k: number, seed: number): tf.Tensor2D {
  const random = mulberry32(seed);
  const f = new Float32Array(n * k);
  for (let i = 0; i < f.length; i++) f[i] = randomNormal(random);
  return tf.tensor2d(f, [n, k]);
}

/**
 * One normalized alignment step `(F + β Ā F)/(1 + β)`; F is not disposed.
 */
function alignmentStep(graph: Graph, F: tf.Tensor2D, beta: number) {
  return tf.tidy(
    () =>
      contrastiveStep(graph, F, { beta, terms: "alignment" }).div(
        1 + beta,
      ) as tf.Tensor2D,
  );
}

/**
 * The Frobenius norm of `(I − v vᵀ) F`, F row-major `[N, k]`, v a unit
 * vector of length N.
 */
function nonTopNorm(f: Float64Array, k: number, v: Float64Array): number {
  const n = v.length;
  const c = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) c[j] += v[i] * f[i * k + j];
  }
  let sq = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) sq += (f[i * k + j] - v[i] * c[j]) ** 2;
  }
  return Math.sqrt(sq);
}

/**
 * The spread of the rows of `F_f = D^-1/2 F` within each component:
 * `sqrt(mean_{x ∈ C} ‖f_x − mean_C f‖²)`, divided by the root-mean-square
 * row norm of F_f over all nodes.
 */
function componentSpreads(
  f: Float64Array,
  k: number,
  degrees: ArrayLike<number>,
  ids: Int32Array,
  count: number,
): number[] {
  const n = ids.length;
  const g = new Float64Array(n * k);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const s = degrees[i] > 0 ? 1 / Math.sqrt(degrees[i]) : 0;
    for (let j = 0; j < k; j++) {
      g[i * k + j] = s * f[i * k + j];
      total += g[i * k + j] ** 2;
    }
  }
  const rms = Math.sqrt(total / n);
  const mean = new Float64Array(count * k);
  const size = new Float64Array(count);
  for (let i = 0; i < n; i++) {
    size[ids[i]] += 1;
    for (let j = 0; j < k; j++) mean[ids[i] * k + j] += g[i * k + j];
  }
  for (let c = 0; c < count; c++) {
    for (let j = 0; j < k; j++) mean[c * k + j] /= size[c];
  }
  const spread = new Float64Array(count);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      spread[ids[i]] += (g[i * k + j] - mean[ids[i] * k + j]) ** 2;
    }
  }
  return Array.from(spread, (s, c) => Math.sqrt(s / size[c]) / rms);
}

/**
 * The least-squares slope of `log y` against t over the given points,
 * returned as the per-step factor `exp(slope)`.
 */
export function fitDecayFactor(
  t: readonly number[],
  y: readonly number[],
): number {
  const m = t.length;
  let st = 0;
  let sl = 0;
  for (let i = 0; i < m; i++) {
    st += t[i];
    sl += Math.log(y[i]);
  }
  const tm = st / m;
  const lm = sl / m;
  let num = 0;
  let den = 0;
  for (let i = 0; i < m; i++) {
    num += (t[i] - tm) * (Math.log(y[i]) - lm);
    den += (t[i] - tm) ** 2;
  }
  return Math.exp(num / den);
}

/**
 * Check 3. Sizes: "small" collapse graph 3 blocks of 20 (pIn 0.5), rate
 * graph 2 blocks of 40 (pIn 0.5, pOut 0.04); "full" 3 blocks of 200
 * (pIn 0.1) and 2 blocks of 400 (pIn 0.1, pOut 0.008). k = 4 feature
 * columns, β = 1 (rate) and 0.5 (collapse), features F = D^1/2 F_f with
 * F_f i.i.d. normal. The collapse run takes 200 steps; the rate run takes
 * as many steps as the prediction needs to shrink the non-top part by
 * 1e-4, and the rate is fitted by least squares on the log of its norm
 * over the second half of the run. The perturbation multiplies the
 * predicted rate by `1 + perturbation`.
 */
export const alignmentCollapseCheck: TheoryCheck = {
  id: "3",
  title: "Alignment alone collapses each component",
  claim:
    "Alignment alone, F ← (F + β Ā F)/(1 + β), collapses each connected " +
    "component to one point, and the non-top part of F decays at the rate " +
    "(1 + βλ2)/(1 + β).",
  async run(options: CheckOptions = {}): Promise<CheckResult> {
    const { size, seed, perturbation } = resolveCheckOptions(
      "alignmentCollapseCheck",
      options,
    );
    const full = size === "full";
    const k = 4;

    // the collapse run: three components, pOut = 0
    const collapseBlock = full ? 200 : 20;
    const { graph: split } = stochasticBlockModel(
      {
        sizes: [collapseBlock, collapseBlock, collapseBlock],
        pIn: full ? 0.1 : 0.5,
        pOut: 0,
      },
      { seed },
    );
    const components = connectedComponents(split);
    const collapseBeta = 0.5;
    const collapseSteps = 200;
    const splitDegrees = split.inDegrees();
    const spreads: number[][] = Array.from(
      { length: components.count },
      () => [],
    );
    const record = (F: tf.Tensor2D) => {
      const s = componentSpreads(
        readFeatures(F),
        k,
        splitDegrees,
        components.ids,
        components.count,
      );
      for (let c = 0; c < s.length; c++) spreads[c].push(s[c]);
    };
    let F = tf.tidy(() =>
      degreeScale(split, randomFeatures(split.numNodes, k, seed + 1)),
    );
    record(F);
    for (let t = 0; t < collapseSteps; t++) {
      const next = alignmentStep(split, F, collapseBeta);
      F.dispose();
      F = next;
      record(F);
    }
    F.dispose();
    const finalSpread = Math.max(...spreads.map((s) => s[s.length - 1]));

    // the rate run: a connected graph, λ2 from eigsh
    const rateBlock = full ? 400 : 40;
    const { graph } = stochasticBlockModel(
      {
        sizes: [rateBlock, rateBlock],
        pIn: full ? 0.1 : 0.5,
        pOut: full ? 0.008 : 0.04,
      },
      { seed: seed + 2 },
    );
    const rateComponents = connectedComponents(graph).count;
    const eig = eigsh(normalizedAdjacencyOperator(graph), 3);
    const [lambda1, lambda2, lambda3] = eig.values;
    const top = new Float64Array(graph.numNodes);
    for (let i = 0; i < top.length; i++) top[i] = eig.vectors[i * 3];
    const beta = 1;
    const exact = (1 + beta * lambda2) / (1 + beta);
    const predicted = exact * (1 + perturbation);
    const steps = Math.ceil(Math.log(RATE_RUN_DECAY) / Math.log(exact));
    const norms: number[] = [];
    F = tf.tidy(() =>
      degreeScale(graph, randomFeatures(graph.numNodes, k, seed + 3)),
    );
    norms.push(nonTopNorm(readFeatures(F), k, top));
    for (let t = 0; t < steps; t++) {
      const next = alignmentStep(graph, F, beta);
      F.dispose();
      F = next;
      norms.push(nonTopNorm(readFeatures(F), k, top));
    }
    F.dispose();
    const start = Math.floor(steps / 2);
    const tail = norms.map((_, t) => t).slice(start);
    const measured = fitDecayFactor(
      tail,
      tail.map((t) => norms[t]),
    );
    const error = relativeError(measured, predicted);

    // figures: the non-top part's norm with the predicted line through the
    // first point of the fit window, and the per-component spread
    const stepsAxis = norms.map((_, t) => t);
    const rateChart = lineChart({
      title: "Non-top part, connected graph",
      subtitle:
        `β = ${beta}, λ2 = ${formatNumber(lambda2)}: predicted ` +
        `${predicted.toFixed(5)}, fitted ${measured.toFixed(5)}`,
      x: { label: "step", values: stepsAxis },
      y: { label: "‖(I − v1 v1ᵀ) F‖" },
      series: [
        { name: "measured", values: norms },
        {
          name: "predicted rate",
          values: stepsAxis.map((t) => norms[start] * predicted ** (t - start)),
          dashed: true,
        },
      ],
      logY: true,
      width: 360,
      height: 240,
      legend: "bottom",
    });
    const spreadAxis = spreads[0].map((_, t) => t);
    const count = components.count;
    const spreadChart = lineChart({
      title: "Spread of f within each component",
      subtitle: `${count} components (pOut = 0), β = ${collapseBeta}`,
      x: { label: "step", values: spreadAxis },
      y: { label: "relative spread" },
      series: spreads.map((s, c) => ({
        name: `component ${c + 1}`,
        values: s.map((v) => Math.max(v, 1e-12)),
      })),
      logY: true,
      width: 360,
      height: 240,
      legend: "bottom",
    });
    const spec = panels([rateChart, spreadChart], {
      columns: 2,
      title: "Check 3: alignment alone, F ← (F + βĀF)/(1 + β)",
    });

    return {
      id: "3",
      claim: alignmentCollapseCheck.claim,
      predicted,
      measured,
      tolerance:
        `fitted rate within ${COLLAPSE_RATE_TOLERANCE * 100}% of ` +
        `(1 + βλ2)/(1 + β); final per-component spread < ` +
        `${COLLAPSE_SPREAD_TOLERANCE}`,
      pass:
        error < COLLAPSE_RATE_TOLERANCE &&
        finalSpread < COLLAPSE_SPREAD_TOLERANCE &&
        rateComponents === 1,
      details: {
        seed,
        rateNodes: graph.numNodes,
        rateComponents,
        lambda1: formatNumber(lambda1),
        lambda2: formatNumber(lambda2),
        lambda3: formatNumber(lambda3),
        beta,
        rateSteps: steps,
        fitWindow: `steps ${start}–${steps}`,
        rateRelativeError: formatNumber(error),
        collapseNodes: split.numNodes,
        components: components.count,
        collapseBeta,
        collapseSteps,
        finalSpread: formatNumber(finalSpread),
      },
      figures: [{ name: "03-alignment-collapse", spec }],
    };
  },
};
