/**
 * Check 6, the InfoNCE equilibrium (Wang et al. 2023, "A Message Passing
 * Perspective on Learning Dynamics of Contrastive Learning"): gradient
 * descent on InfoNCE,
 *
 *   f ← f + β (2 A f − (P + Pᵀ) f),
 *   P(x, x') = D_x softmax_x'(log D_x' + f·f'),
 *
 * is stationary when the symmetrized learned joint equals the data joint,
 * `(P + Pᵀ)/2 = A`, with A normalized to sum 1 (so D, P and A are all
 * distributions over pairs). With k-dimensional features this can only
 * be met approximately; the residual left at the end of training should
 * fall as k grows. The augmentation graph is a dense Gaussian-kernel
 * graph, so every A(x, x') > 0 and the equilibrium is reachable with
 * finite features (a 0/1 graph would need f·f' → −∞ on its non-edges).
 */

import { tf } from "../src/backend.js";
import { contrastiveStep } from "../src/contrastive/updates.js";
import { Graph } from "../src/graph/graph.js";
import { lineChart } from "../src/plot/line.js";
import { panels } from "../src/plot/panels.js";
import { mulberry32, randomNormal } from "../src/random.js";
import {
  type CheckOptions,
  type CheckResult,
  formatNumber,
  resolveCheckOptions,
  type TheoryCheck,
} from "./check.js";

/** The feature dimensions of the curve. */
export const INFONCE_DIMENSIONS = [2, 4, 8, 16, 32] as const;

/**
 * Predicted smallest ratio of the first residual (k = 2) to the last
 * (k = 32); measured at seed 0: 26.9 at full size, 22.8 at small size,
 * and 22 to 30 at small size for seeds 1 to 5 (with 3,000 steps) (see
 * {@link infoNCEEquilibriumCheck}).
 */
export const INFONCE_RESIDUAL_FACTOR = 10;

/**
 * Relative slack of the monotone trend: each residual may exceed the one
 * of the previous (smaller) k by this fraction; the curve flattens once
 * the features can represent A, and there it is flat up to noise.
 */
export const INFONCE_MONOTONE_SLACK = 0.05;

/**
 * The step is β = this × N, so that β D_x ≈ 1/4 per sample (D averages
 * 1/N). β = N (1 per sample) was unstable at k = 32 in float32: the loss
 * rose again after 500 steps.
 */
const STEP_PER_NODE = 0.25;

/**
 * Training stops when the loss fell by less than this fraction of |L|
 * over the last 100 steps (float32 features: smaller changes are noise).
 */
const STALL = 1e-6;

/** Dimension of the latent points of the kernel graph. */
const LATENT_DIM = 8;

/**
 * The augmentation graph: N points z in R^8 with independent coordinates
 * `z_c ~ N(0, 0.7^(2c))` (a decaying spectrum), and
 * `A(x, x') ∝ exp(−‖z_x − z_x'‖² / 2)` for every pair, loops included,
 * normalized to sum 1. Returns the graph and A densely, row-major.
 */
export function kernelAugmentationGraph(
  n: number,
  seed: number,
): { graph: Graph; dense: Float64Array } {
  const random = mulberry32(seed);
  const z = Float64Array.from(
    { length: n * LATENT_DIM },
    (_, i) => 0.7 ** (i % LATENT_DIM) * randomNormal(random),
  );
  const dense = new Float64Array(n * n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let d2 = 0;
      for (let c = 0; c < LATENT_DIM; c++) {
        d2 += (z[i * LATENT_DIM + c] - z[j * LATENT_DIM + c]) ** 2;
      }
      dense[i * n + j] = Math.exp(-d2 / 2);
      total += dense[i * n + j];
    }
  }
  const src = new Int32Array(n * n);
  const dst = new Int32Array(n * n);
  for (let e = 0; e < n * n; e++) {
    dense[e] /= total;
    src[e] = Math.floor(e / n);
    dst[e] = e % n;
  }
  const graph = Graph.fromEdges(src, dst, { numNodes: n, weights: dense });
  return { graph, dense };
}

/** InfoNCE's loss and the equilibrium residual at features f. */
export interface EquilibriumMeasure {
  /** `L = −Σ A f·f' + Σ_x D_x log Σ_x' D_x' exp(f·f')`. */
  loss: number;
  /** `‖(P + Pᵀ)/2 − A‖_F / ‖A‖_F`. */
  residual: number;
}

/**
 * InfoNCE's loss (τ = 1) and the relative equilibrium residual
 * `‖(P + Pᵀ)/2 − A‖_F / ‖A‖_F`, in float64 from the dense A (`[N, N]`,
 * summing to 1) and the features f (`[N, k]`), with
 * `P(x, x') = D_x D_x' exp(f·f') / Σ_x'' D_x'' exp(f·f'')`.
 */
export function equilibriumMeasure(
  a: Float64Array,
  f: ArrayLike<number>,
  n: number,
  k: number,
): EquilibriumMeasure {
  const deg = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) deg[i] += a[i * n + j];
  }

  // P row by row, with a stable log-sum-exp, and the loss on the way
  const p = new Float64Array(n * n);
  const logits = new Float64Array(n);
  let loss = 0;
  for (let x = 0; x < n; x++) {
    let max = -Infinity;
    for (let y = 0; y < n; y++) {
      let dot = 0;
      for (let c = 0; c < k; c++) dot += f[x * k + c] * f[y * k + c];
      loss -= a[x * n + y] * dot;
      logits[y] = dot + Math.log(deg[y]);
      max = Math.max(max, logits[y]);
    }
    let z = 0;
    for (let y = 0; y < n; y++) z += Math.exp(logits[y] - max);
    loss += deg[x] * (max + Math.log(z));
    for (let y = 0; y < n; y++) {
      p[x * n + y] = (deg[x] * Math.exp(logits[y] - max)) / z;
    }
  }

  // the residual of the symmetrized joint against A
  let residual = 0;
  let norm = 0;
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < n; y++) {
      const sym = (p[x * n + y] + p[y * n + x]) / 2;
      residual += (sym - a[x * n + y]) ** 2;
      norm += a[x * n + y] ** 2;
    }
  }
  return { loss, residual: Math.sqrt(residual / norm) };
}

/** One dimension's training: its residual, loss and step count. */
interface DimensionRun {
  k: number;
  residual: number;
  loss: number;
  steps: number;
}

/**
 * Train InfoNCE (`contrastiveStep`, kind "infonce", τ = 1, step
 * β = N / 4) from f with i.i.d. N(0, 0.1²) entries until the loss
 * stalls: checked every `every` steps, stopping when it fell by less
 * than `STALL × |L|` since the last check, or after `maxSteps`.
 */
function train(
  graph: Graph,
  a: Float64Array,
  k: number,
  seed: number,
  maxSteps: number,
): DimensionRun {
  const n = graph.numNodes;
  const every = 100;
  const random = mulberry32(seed);
  const start = Float32Array.from(
    { length: n * k },
    () => 0.1 * randomNormal(random),
  );
  let f = tf.tensor2d(start, [n, k]);
  let previous = Infinity;
  let measure = equilibriumMeasure(a, start, n, k);
  let steps = 0;
  while (steps < maxSteps) {
    const next = contrastiveStep(graph, f, {
      beta: STEP_PER_NODE * n,
      kind: "infonce",
    });
    f.dispose();
    f = next;
    steps++;
    if (steps % every === 0) {
      measure = equilibriumMeasure(a, f.dataSync(), n, k);
      if (previous - measure.loss < STALL * Math.abs(measure.loss)) break;
      previous = measure.loss;
    }
  }
  measure = equilibriumMeasure(a, f.dataSync(), n, k);
  f.dispose();
  return { k, residual: measure.residual, loss: measure.loss, steps };
}

/**
 * Check 6. Sizes: "small" N = 40, at most 1,500 steps per k (about
 * 10 s); "full" N = 60, at most 3,000 (about 16 s). For every k in
 * {@link INFONCE_DIMENSIONS} the features are trained until the loss
 * stalls (see `train`), and the residual `‖(P + Pᵀ)/2 − A‖_F / ‖A‖_F`
 * is measured.
 *
 * Predicted: the residual is non-increasing in k (each within
 * {@link INFONCE_MONOTONE_SLACK} of the previous) and the first is at
 * least {@link INFONCE_RESIDUAL_FACTOR} times the last. The perturbation
 * p multiplies the predicted factor by (1 + p). Measured: the factor
 * first / last and the largest relative rise between neighbours.
 * Measured at seed 0, k = 2, 4, 8, 16, 32: full size 0.274, 0.135,
 * 0.0105, 0.0101, 0.0102 (factor 26.9); small size 0.274, 0.122,
 * 0.0122, 0.0119, 0.0120 (factor 22.8). The curve flattens from k = 8
 * on, the dimension of the kernel's latent points: there the residual
 * is what the step budget leaves, and it is flat up to 1.5%.
 *
 * LIMITATION: for k ≥ 4 the loss has not stalled within the step
 * budget (the details give each k's step count); the residuals are
 * those at the cap, still falling slowly, not at the stationary point.
 */
export const infoNCEEquilibriumCheck: TheoryCheck = {
  id: "6",
  title: "InfoNCE equilibrium: (P + Pᵀ)/2 → A as k grows",
  claim:
    "At the end of InfoNCE training the residual ‖(P + Pᵀ)/2 − A‖ / ‖A‖ " +
    "(A summing to 1) falls as the feature dimension k grows.",
  async run(options: CheckOptions = {}): Promise<CheckResult> {
    const { size, seed, perturbation } = resolveCheckOptions(
      "infoNCEEquilibriumCheck",
      options,
    );
    const full = size === "full";
    const n = full ? 60 : 40;
    const maxSteps = full ? 3000 : 1500;

    // the graph, then one training run per dimension
    const { graph, dense } = kernelAugmentationGraph(n, seed);
    const runs = INFONCE_DIMENSIONS.map((k) =>
      train(graph, dense, k, seed + k, maxSteps),
    );
    const residuals = runs.map((r) => r.residual);

    // the trend: largest rise between neighbours, and first / last
    let worstRise = -Infinity;
    for (let i = 1; i < residuals.length; i++) {
      worstRise = Math.max(worstRise, residuals[i] / residuals[i - 1] - 1);
    }
    const factor = residuals[0] / residuals[residuals.length - 1];
    const predictedFactor = INFONCE_RESIDUAL_FACTOR * (1 + perturbation);
    const pass =
      worstRise <= INFONCE_MONOTONE_SLACK && factor >= predictedFactor;

    // figure: residual and final loss against k
    const x = { label: "feature dimension k", values: [...INFONCE_DIMENSIONS] };
    const residualChart = lineChart({
      title: "Equilibrium residual",
      subtitle: `first / last = ${formatNumber(factor)}`,
      x,
      y: { label: "‖(P + Pᵀ)/2 − A‖ / ‖A‖" },
      series: [{ name: "residual at the end", values: residuals }],
      logX: true,
      logY: true,
      width: 360,
      height: 260,
      legend: "bottom",
    });
    const lossChart = lineChart({
      title: "InfoNCE loss at the end",
      subtitle: `trained until the loss stalls (≤ ${maxSteps} steps)`,
      x,
      y: { label: "loss" },
      series: [{ name: "loss", values: runs.map((r) => r.loss) }],
      logX: true,
      width: 360,
      height: 260,
      legend: "bottom",
    });
    const spec = panels([residualChart, lossChart], {
      columns: 2,
      title: `Check 6: InfoNCE equilibrium (Gaussian-kernel graph, N = ${n})`,
    });

    const details: Record<string, number | string> = {
      nodes: n,
      seed,
      stepSize: STEP_PER_NODE * n,
      maxSteps,
    };
    for (const r of runs) {
      details[`residual k=${r.k}`] = formatNumber(r.residual);
      details[`steps k=${r.k}`] = r.steps;
    }
    return {
      id: "6",
      claim: infoNCEEquilibriumCheck.claim,
      predicted:
        `non-increasing in k (slack ${INFONCE_MONOTONE_SLACK}); ` +
        `first / last ≥ ${formatNumber(predictedFactor)}`,
      measured:
        `largest rise ${formatNumber(worstRise)}; first / last ` +
        `${formatNumber(factor)}`,
      tolerance:
        `each residual ≤ (1 + ${INFONCE_MONOTONE_SLACK}) × the ` +
        "previous one",
      pass,
      details,
      figures: [{ name: "06-infonce-equilibrium", spec }],
    };
  },
};
