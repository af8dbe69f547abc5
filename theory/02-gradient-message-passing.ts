/**
 * Check 2, the gradient is message passing (Wang et al. 2023, §3): the
 * gradient of a contrastive loss in the unconstrained features is minus a
 * constant times the alignment update (propagation over the augmentation
 * graph) minus the uniformity update (propagation over the affinity
 * graph of the features):
 *
 *   spectral, F = D^1/2 F_f:  ∇_F L_sp  = −4 (Ā F − (F Fᵀ) F)
 *   InfoNCE, τ:               ∇_f L_NCE = −(1/τ) (2 A f − (P + Pᵀ) f)
 *
 * with `P(x, x') = D_x softmax_x'(log D_x' + f·f'/τ)`. The left sides are
 * TF.js autodiff of the written-out losses (`spectralLossFeatureSpace`,
 * `infoNCELoss`), the right sides `alignmentUpdate` and
 * `uniformityUpdate`, all in float32, on seeded stochastic-block
 * augmentation graphs with random features.
 */

import { tf } from "../src/backend.js";
import {
  infoNCELoss,
  spectralLossFeatureSpace,
} from "../src/contrastive/losses.js";
import {
  alignmentUpdate,
  uniformityUpdate,
} from "../src/contrastive/updates.js";
import { stochasticBlockModel } from "../src/graph/generators.js";
import { Graph } from "../src/graph/graph.js";
import { lineChart } from "../src/plot/line.js";
import { mulberry32, type Random, randomNormal } from "../src/random.js";
import {
  type CheckOptions,
  type CheckResult,
  formatNumber,
  resolveCheckOptions,
  type TheoryCheck,
} from "./check.js";

/**
 * Largest relative error ‖g − u‖ / ‖g‖ between the autodiff gradient g
 * and the message-passing form u that passes: both are float32, whose
 * rounding gives errors from 1e-7 to about 2e-6 at these sizes.
 */
export const GRADIENT_TOLERANCE = 1e-5;

/** Relative errors below this are drawn at this value on the log axis. */
const ERROR_FLOOR = 1e-12;

/** The InfoNCE temperatures, taken in turn by the trials. */
const TEMPERATURES = [1, 0.5, 2];

/** The relative errors of one trial. */
interface TrialErrors {
  /** Number of nodes N. */
  nodes: number;
  /** Feature dimension k. */
  k: number;
  /** InfoNCE temperature τ. */
  temperature: number;
  /** Relative error of the spectral loss. */
  spectral: number;
  /** Relative error of InfoNCE. */
  infoNCE: number;
}

/**
 * A stochastic-block augmentation graph on `n` nodes (three blocks,
 * pIn = 0.3, pOut = 0.03) with a weight drawn uniformly from [0.5, 2] on
 * each undirected edge and a self-loop of weight 1 on every node (each
 * sample is a positive of itself), so every degree is > 0 as InfoNCE
 * needs.
 */
function augmentationGraph(n: number, seed: number, random: Random): Graph {
  const third = Math.floor(n / 3);
  const { graph } = stochasticBlockModel(
    { sizes: [n - 2 * third, third, third], pIn: 0.3, pOut: 0.03 },
    { seed },
  );
  const src: number[] = [];
  const dst: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < n; i++) {
    src.push(i);
    dst.push(i);
    weights.push(1);
    for (let e = graph.rowPtr[i]; e < graph.rowPtr[i + 1]; e++) {
      const j = graph.colIdx[e];
      if (j <= i) continue;
      const w = 0.5 + 1.5 * random();
      src.push(i, j);
      dst.push(j, i);
      weights.push(w, w);
    }
  }
  return Graph.fromEdges(src, dst, { numNodes: n, weights });
}

/** Float32 features `[n, k]` with entries `scale · N(0, 1)`. */
function randomFeatures(
  n: number,
  k: number,
  scale: number,
  random: Random,
): tf.Tensor2D {
  const data = Float32Array.from(
    { length: n * k },
    () => scale * randomNormal(random),
  );
  return tf.tensor2d(data, [n, k]);
}

/** ‖u − g‖_F / ‖g‖_F in float64 from the two tensors' float32 data. */
function frobeniusRelativeError(u: tf.Tensor, g: tf.Tensor): number {
  const a = u.dataSync();
  const b = g.dataSync();
  let difference = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    difference += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  return Math.sqrt(difference / Math.max(norm, 1e-300));
}

/**
 * Both relative errors on one graph and one pair of random features;
 * the message-passing side is multiplied by `factor` (1 + perturbation).
 */
function trialErrors(
  graph: Graph,
  k: number,
  temperature: number,
  factor: number,
  random: Random,
): { spectral: number; infoNCE: number } {
  const n = graph.numNodes;
  const F = randomFeatures(n, k, 0.2, random);
  const f = randomFeatures(n, k, 0.5, random);

  // spectral: ∇_F L = −4 (Ā F − (F Fᵀ) F)
  const spectral = tf.tidy(() => {
    const gradient = tf.grad((x: tf.Tensor) =>
      spectralLossFeatureSpace(graph, x as tf.Tensor2D),
    )(F);
    const update = tf.mul(
      -4 * factor,
      tf.sub(
        alignmentUpdate(graph, F),
        uniformityUpdate(F, { kind: "spectral" }),
      ),
    );
    return frobeniusRelativeError(update, gradient);
  });

  // InfoNCE: ∇_f L = −(1/τ) (2 A f − (P + Pᵀ) f), P from A's degrees
  const infoNCE = tf.tidy(() => {
    const gradient = tf.grad((x: tf.Tensor) =>
      infoNCELoss(graph, x as tf.Tensor2D, { temperature }),
    )(f);
    const alignment = alignmentUpdate(graph, f, { normalization: "none" });
    const uniformity = uniformityUpdate(f, {
      kind: "infonce",
      temperature,
      degrees: graph.inDegrees(),
    });
    const update = tf.mul(
      -factor / temperature,
      tf.sub(tf.mul(2, alignment), uniformity),
    );
    return frobeniusRelativeError(update, gradient);
  });

  tf.dispose([F, f]);
  return { spectral, infoNCE };
}

/**
 * Check 2. Sizes: "small" 4 trials, N = 40, k = 4, 6, 8, 4; "full" 12
 * trials, N from 40 to 300 in even steps, k cycling through 4, 8, 16.
 * Trial t draws its own SBM augmentation graph (seed + t), F with
 * entries 0.2 · N(0, 1) and f with entries 0.5 · N(0, 1), and takes the
 * InfoNCE temperature τ = 1, 0.5, 2 in turn. The perturbation multiplies
 * the message-passing side by `1 + perturbation`.
 *
 * Predicted: 0; measured: the largest relative error over trials and
 * both losses, `‖u − ∇L‖_F / ‖∇L‖_F`, u the message-passing form.
 */
export const gradientMessagePassingCheck: TheoryCheck = {
  id: "2",
  title: "Gradient = message passing",
  claim:
    "The autodiff gradient of the spectral and InfoNCE losses equals " +
    "minus a constant times the alignment update minus the uniformity " +
    "update.",
  async run(options: CheckOptions = {}): Promise<CheckResult> {
    const { size, seed, perturbation } = resolveCheckOptions(
      "gradientMessagePassingCheck",
      options,
    );
    const full = size === "full";
    const trials = full ? 12 : 4;
    const sizes = Array.from({ length: trials }, (_, t) =>
      full ? 40 + Math.round((260 * t) / (trials - 1)) : 40,
    );
    const dimensions = Array.from({ length: trials }, (_, t) =>
      full ? [4, 8, 16][t % 3] : [4, 6, 8, 4][t],
    );

    // both losses on each trial's graph and features
    const random = mulberry32(seed + 1);
    const results: TrialErrors[] = [];
    for (let t = 0; t < trials; t++) {
      const graph = augmentationGraph(sizes[t], seed + t, random);
      const temperature = TEMPERATURES[t % TEMPERATURES.length];
      const errors = trialErrors(
        graph,
        dimensions[t],
        temperature,
        1 + perturbation,
        random,
      );
      results.push({
        nodes: sizes[t],
        k: dimensions[t],
        temperature,
        ...errors,
      });
    }
    const worstSpectral = Math.max(...results.map((r) => r.spectral));
    const worstInfoNCE = Math.max(...results.map((r) => r.infoNCE));
    const worst = Math.max(worstSpectral, worstInfoNCE);

    // figure: the relative error per trial, both losses, and the tolerance
    const trialNumbers = results.map((_, t) => t + 1);
    const floor = (e: number) => Math.max(e, ERROR_FLOOR);
    const spec = lineChart({
      title: "Check 2: autodiff gradient against message passing",
      subtitle: full
        ? `N from ${sizes[0]} to ${sizes[trials - 1]}, k in 4, 8, 16, ` +
          "τ in 1, 0.5, 2 (float32)"
        : `N = ${sizes[0]}, k in 4, 6, 8, τ in 1, 0.5, 2 (float32)`,
      x: { label: full ? "trial (N grows)" : "trial", values: trialNumbers },
      y: { label: "‖u − ∇L‖ / ‖∇L‖" },
      series: [
        {
          name: "spectral: u = −4 (ĀF − FFᵀF)",
          values: results.map((r) => floor(r.spectral)),
        },
        {
          name: "InfoNCE: u = −(2Af − (P + Pᵀ)f)/τ",
          values: results.map((r) => floor(r.infoNCE)),
        },
        {
          name: "tolerance 1e-5",
          values: trialNumbers.map(() => GRADIENT_TOLERANCE),
          dashed: true,
        },
      ],
      logY: true,
      points: true,
      width: 560,
      legend: "bottom",
    });

    // whole trial numbers on x, powers of ten as 1e-7 on the log y axis
    const { encoding } = spec as unknown as {
      encoding: Record<string, Record<string, unknown>>;
    };
    encoding.x.axis = { tickMinStep: 1, format: "d" };
    encoding.y.axis = { ...(encoding.y.axis as object), format: ".0e" };

    return {
      id: "2",
      claim: gradientMessagePassingCheck.claim,
      predicted: 0,
      measured: Number(worst.toPrecision(4)),
      tolerance:
        `max relative error ‖u − ∇L‖/‖∇L‖ over ${trials} trials and ` +
        "both losses < 1e-5 (float32)",
      pass: worst < GRADIENT_TOLERANCE,
      details: {
        trials,
        nodes: sizes.join(", "),
        k: dimensions.join(", "),
        seed,
        maxSpectralError: formatNumber(worstSpectral),
        maxInfoNCEError: formatNumber(worstInfoNCE),
      },
      figures: [{ name: "02-gradient-message-passing", spec }],
    };
  },
};
