/**
 * Mini-batch contrastive objectives, each in two forms: the loss written
 * out on tensors (for autodiff), and its feature update ΔF = −∂L/∂F
 * computed as message passing, the alignment update over the augmentation
 * graph minus the uniformity update over the affinity graph (Wang et al.
 * 2023, "A Message Passing Perspective on Learning Dynamics of Contrastive
 * Learning").
 *
 * The objectives: InfoNCE / NT-Xent (Chen et al. 2020, SimCLR), GRACE
 * (Zhu et al. 2020, "Deep Graph Contrastive Representation Learning"),
 * the spectral contrastive loss (HaoChen et al. 2021), SimSiam (Chen & He
 * 2021) and BYOL (Grill et al. 2020).
 *
 * Notation. A batch holds n views (n = m·B for B samples with m views
 * each), with features F (n × k) by rows: the output of the network,
 * normalization included (SimCLR's ℓ2 normalization is a layer of the
 * network, before the objective). A is the augmentation graph over the n
 * views (symmetric, weights a_ij ≥ 0; for a sampled batch, 1 between two
 * views of one sample), `d_i = Σ_j a_ij`, `R = D⁻¹ A` the mean over the
 * positives of each view (0 for a view without positives). Each anchor's
 * positive term is the mean over its positives, so a batch with m views
 * weighs every anchor alike whatever m.
 */

import { tf } from "../backend.js";
import { ConfigError, NotImplementedError, ShapeError } from "../errors.js";
import type { Graph } from "../graph/graph.js";
import { matMul } from "../mp/linear.js";
import { propagate } from "../mp/propagate.js";
import { checkFeatures, checkTemperature } from "./losses.js";
import { alignmentUpdate, uniformityUpdate } from "./updates.js";

/** What an objective is evaluated on: one batch of views. */
export interface ObjectiveInput {
  /**
   * F, float32 `[n, k]`: the features the objective sees, one row per
   * view (for SimSiam and BYOL, the online predictor's output).
   */
  features: tf.Tensor2D;
  /**
   * A, the augmentation graph over the n views: symmetric, non-negative
   * weights; positives are its edges (e.g. `sampledAugmentationGraph`).
   */
  augmentation: Graph;
  /**
   * T, float32 `[n, k]`: the targets of SimSiam and BYOL, constants (the
   * stop-gradient branch or the EMA target network), same rows as F.
   */
  targets?: tf.Tensor2D;
  /**
   * Per-anchor weights `a_i >= 0` (length n) of InfoNCE's terms, e.g.
   * the attention weights of SimCLR-Attn (they should sum to 1). Default
   * `1/n` each: the mean over anchors. Only InfoNCE and GRACE take them.
   */
  anchorWeights?: ArrayLike<number>;
}

/** The two parts of ΔF: ΔF = alignment − uniformity. */
export interface FeatureUpdateTerms {
  /** The alignment update (propagation over the augmentation graph). */
  alignment: tf.Tensor2D;
  /**
   * The uniformity update (propagation over the affinity graph), or null
   * for objectives without negatives (SimSiam, BYOL).
   */
  uniformity: tf.Tensor2D | null;
}

/** Names of the objectives of this file. */
export type ObjectiveName =
  | "infonce"
  | "grace"
  | "spectral"
  | "simsiam"
  | "byol";

/** A contrastive objective in its two forms. */
export interface ContrastiveObjective {
  readonly name: ObjectiveName;
  /** Whether the objective reads `targets` (SimSiam, BYOL). */
  readonly usesTargets: boolean;
  /**
   * The loss, a scalar differentiable in F (targets are constants: the
   * caller passes them through a stop-gradient).
   */
  loss(input: ObjectiveInput): tf.Scalar;
  /** `ΔF = −∂L/∂F`, `[n, k]`, as alignment minus uniformity updates. */
  featureUpdate(input: ObjectiveInput): tf.Tensor2D;
  /** The two terms of {@link ContrastiveObjective.featureUpdate}. */
  featureUpdateTerms(input: ObjectiveInput): FeatureUpdateTerms;
}

// ---------------------------------------------------------------------------
// graphs derived from the augmentation graph
// ---------------------------------------------------------------------------

const meanGraphs = new WeakMap<Graph, Graph>();

/**
 * `R = D⁻¹ A`: edge (j → i) weighs `a_ij / d_i`, so that propagation
 * averages each view's positives. Cached per graph object.
 */
export function positiveMeanGraph(augmentation: Graph): Graph {
  let g = meanGraphs.get(augmentation);
  if (g === undefined) {
    const deg = augmentation.inDegrees();
    const { rowPtr } = augmentation;
    const w = new Float32Array(augmentation.numEdges);
    for (let i = 0; i < augmentation.numNodes; i++) {
      const inv = deg[i] > 0 ? 1 / deg[i] : 0;
      for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
        w[e] = augmentation.weight(e) * inv;
      }
    }
    g = augmentation.withWeights(w);
    meanGraphs.set(augmentation, g);
  }
  return g;
}

/**
 * The graph of `diag(a) R + Rᵀ diag(a)` for a symmetric A: edge (j → i)
 * weighs `a_ij (a_i / d_i + a_j / d_j)`. Its propagation is the gradient
 * of the positive term `Σ_i a_i (R F)_i · F_i` in F.
 */
function symmetricPositiveGraph(
  augmentation: Graph,
  anchorWeights: Float64Array,
): Graph {
  const deg = augmentation.inDegrees();
  const { rowPtr, colIdx } = augmentation;
  const scaled = new Float64Array(deg.length);
  for (let i = 0; i < deg.length; i++) {
    scaled[i] = deg[i] > 0 ? anchorWeights[i] / deg[i] : 0;
  }
  const w = new Float32Array(augmentation.numEdges);
  for (let i = 0; i < augmentation.numNodes; i++) {
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      w[e] = augmentation.weight(e) * (scaled[i] + scaled[colIdx[e]]);
    }
  }
  return augmentation.withWeights(w);
}

// ---------------------------------------------------------------------------
// checks
// ---------------------------------------------------------------------------

/** Check F (and T when `needTargets`) against the augmentation graph. */
function checkInput(fn: string, input: ObjectiveInput, needTargets: boolean) {
  if (input === null || typeof input !== "object") {
    throw new ConfigError(`${fn}: expected an input object, got ${input}`);
  }
  checkFeatures(fn, "features", input.augmentation, input.features);
  if (!needTargets) return;
  const t = input.targets;
  const f = input.features;
  if (
    !(t instanceof tf.Tensor) ||
    t.rank !== 2 ||
    t.shape[0] !== f.shape[0] ||
    t.shape[1] !== f.shape[1] ||
    t.dtype !== "float32"
  ) {
    throw new ShapeError(
      `${fn}: targets must be float32 of the shape of features ` +
        `[${f.shape}], got ` +
        (t instanceof tf.Tensor ? `${t.dtype} [${t.shape}]` : typeof t),
    );
  }
}

/** The anchor weights: the given ones (checked) or 1/n each. */
function resolveAnchorWeights(
  fn: string,
  given: ArrayLike<number> | undefined,
  n: number,
): Float64Array {
  const out = new Float64Array(n);
  if (given === undefined) return out.fill(1 / n);
  if (given.length !== n) {
    throw new ShapeError(
      `${fn}: anchorWeights must have one entry per view (${n}), got ` +
        `${given.length}`,
    );
  }
  for (let i = 0; i < n; i++) {
    const a = given[i];
    if (!(a >= 0) || !Number.isFinite(a)) {
      throw new ConfigError(
        `${fn}: anchorWeights must be finite and >= 0, got ${a} at ${i}`,
      );
    }
    out[i] = a;
  }
  return out;
}

/** Objectives without anchor weights refuse them. */
function refuseAnchorWeights(fn: string, input: ObjectiveInput): void {
  if (input.anchorWeights !== undefined) {
    throw new NotImplementedError(
      `${fn}: anchorWeights are implemented for InfoNCE and GRACE only`,
    );
  }
}

/** ΔF = alignment − uniformity, the terms freed. */
function combine(terms: FeatureUpdateTerms): tf.Tensor2D {
  if (terms.uniformity === null) return terms.alignment;
  const out = tf.sub(terms.alignment, terms.uniformity) as tf.Tensor2D;
  tf.dispose([terms.alignment, terms.uniformity]);
  return out;
}

// ---------------------------------------------------------------------------
// InfoNCE / NT-Xent and GRACE
// ---------------------------------------------------------------------------

/** Options of {@link infoNCEObjective} and {@link graceObjective}. */
export interface InfoNCEObjectiveOptions {
  /** τ > 0; default 0.5 (SimCLR's CIFAR-10 setting; GRACE's default). */
  temperature?: number;
  /**
   * Leave each anchor out of its own softmax (default true, as NT-Xent
   * and GRACE do: the softmax runs over the n − 1 other views). With
   * false, the anchor's own similarity `‖F_i‖²/τ` joins the denominator.
   */
  excludeSelf?: boolean;
  /**
   * Rows per block of the affinity graph in the update (default: its
   * automatic size).
   */
  blockSize?: number;
}

/**
 * InfoNCE / NT-Xent over a batch of views (SimCLR's loss), with
 * `s_ij = F_i · F_j / τ` and anchor weights a (default 1/n):
 *
 *   L = Σ_i a_i [ −(R S)_ii + log Σ_{j≠i} exp(s_ij) ],
 *
 * where `(R S)_ii = (1/d_i) Σ_j a_ij s_ij` is the mean similarity to the
 * positives (for SimCLR's 2B views, one positive each: the usual
 * `−log exp(s_i,pos(i)) / Σ_{j≠i} exp(s_ij)` averaged over 2B anchors).
 * Its feature update is
 *
 *   ΔF = −∂L/∂F = (1/τ) [ (diag(a) R + Rᵀ diag(a)) F − (P + Pᵀ) F ],
 *   P = diag(a) W,  W_i· = softmax_{j≠i}(s_ij),
 *
 * the alignment update over the augmentation graph (a GCN step over
 * `diag(a) R + Rᵀ diag(a)`, which is 2A/(n(m − 1)) for m views a sample)
 * minus the uniformity update over the softmax affinity graph
 * (`uniformityUpdate` of kind "infonce" with row weights a).
 *
 * F should be ℓ2-normalized by the network (features on the unit sphere,
 * `s_ij` a cosine over τ); nothing here requires it.
 *
 * LIMITATION: `loss` forms the n × n logits densely (memory about eight
 * n² floats with its backward pass): the written-out reference for tests
 * and the "loss" path of the step. The update is blockwise.
 *
 * @param options `temperature` (default 0.5), `excludeSelf` (default
 *   true), `blockSize`.
 * @throws ConfigError for a bad temperature.
 */
export function infoNCEObjective(
  options: InfoNCEObjectiveOptions = {},
): ContrastiveObjective {
  return new InfoNCEObjective("infonce", options);
}

/**
 * GRACE's objective (Zhu et al. 2020): for node i with views u_i, v_i
 * and `θ` the similarity of the (normalized) projections,
 *
 *   ℓ(u_i, v_i) = −log e^{θ(u_i,v_i)/τ} / ( e^{θ(u_i,v_i)/τ}
 *                  + Σ_{k≠i} e^{θ(u_i,v_k)/τ} + Σ_{k≠i} e^{θ(u_i,u_k)/τ} ),
 *
 * inter-view and intra-view negatives, averaged over both directions and
 * all nodes: `J = (1/2N) Σ_i [ℓ(u_i, v_i) + ℓ(v_i, u_i)]`. The
 * denominator runs over all 2N − 1 other views, so J is exactly NT-Xent
 * over the 2N views (rows `[u; v]`, the sampled augmentation graph with
 * B = N): this returns {@link infoNCEObjective} under the name "grace",
 * with the same options and defaults (τ 0.5, `excludeSelf` true).
 */
export function graceObjective(
  options: InfoNCEObjectiveOptions = {},
): ContrastiveObjective {
  return new InfoNCEObjective("grace", options);
}

/** InfoNCE, shared by {@link infoNCEObjective} and {@link graceObjective}. */
class InfoNCEObjective implements ContrastiveObjective {
  readonly name: "infonce" | "grace";
  readonly usesTargets = false;
  readonly temperature: number;
  readonly excludeSelf: boolean;
  readonly blockSize: number | undefined;

  constructor(name: "infonce" | "grace", options: InfoNCEObjectiveOptions) {
    const fn = name === "grace" ? "graceObjective" : "infoNCEObjective";
    this.name = name;
    this.temperature = options.temperature ?? 0.5;
    checkTemperature(fn, this.temperature);
    const excludeSelf = options.excludeSelf ?? true;
    if (typeof excludeSelf !== "boolean") {
      throw new ConfigError(
        `${fn}: excludeSelf must be a boolean, got ${String(excludeSelf)}`,
      );
    }
    this.excludeSelf = excludeSelf;
    this.blockSize = options.blockSize;
  }

  loss(input: ObjectiveInput): tf.Scalar {
    const fn = `${this.name}.loss`;
    checkInput(fn, input, false);
    const f = input.features;
    const n = f.shape[0];
    const a = resolveAnchorWeights(fn, input.anchorWeights, n);
    const tau = this.temperature;
    return tf.tidy(() => {
      // the logits s_ij, the anchor's own pair pushed to −∞ (exp 0)
      let logits = tf.div(matMul(f, tf.transpose(f)), tau);
      if (this.excludeSelf) logits = tf.sub(logits, tf.mul(tf.eye(n), 1e30));
      const lse = tf.logSumExp(logits, 1);

      // the mean similarity of each anchor to its positives, (R S)_ii
      const rf = propagate(positiveMeanGraph(input.augmentation), f);
      const positive = tf.div(tf.sum(tf.mul(f, rf), 1), tau);

      const weights = tf.tensor1d(Float32Array.from(a));
      return tf.sum(tf.mul(weights, tf.sub(lse, positive))) as tf.Scalar;
    });
  }

  featureUpdate(input: ObjectiveInput): tf.Tensor2D {
    return combine(this.featureUpdateTerms(input));
  }

  featureUpdateTerms(input: ObjectiveInput): FeatureUpdateTerms {
    const fn = `${this.name}.featureUpdate`;
    checkInput(fn, input, false);
    const f = input.features;
    const n = f.shape[0];
    const a = resolveAnchorWeights(fn, input.anchorWeights, n);
    const inv = 1 / this.temperature;

    // alignment: propagation over diag(a) R + Rᵀ diag(a)
    const positives = symmetricPositiveGraph(input.augmentation, a);
    const alignment = tf.tidy(() =>
      tf.mul(alignmentUpdate(positives, f, { normalization: "none" }), inv),
    ) as tf.Tensor2D;

    // uniformity: (P + Pᵀ) F over the softmax affinity graph, P = diag(a) W
    const uniformity = tf.tidy(() =>
      tf.mul(
        uniformityUpdate(f, {
          kind: "infonce",
          temperature: this.temperature,
          anchorWeights: a,
          excludeSelf: this.excludeSelf,
          blockSize: this.blockSize,
        }),
        inv,
      ),
    ) as tf.Tensor2D;
    return { alignment, uniformity };
  }
}

// ---------------------------------------------------------------------------
// spectral contrastive loss
// ---------------------------------------------------------------------------

/** Options of {@link spectralObjective}. */
export interface SpectralObjectiveOptions {
  /**
   * Leave the pairs j = i out of the uniformity term (default false): the
   * mean runs over the n(n − 1) ordered pairs of distinct views instead
   * of all n² pairs.
   */
  excludeSelf?: boolean;
  /** Rows per block of the affinity graph (default: automatic). */
  blockSize?: number;
}

/**
 * The spectral contrastive loss (HaoChen et al. 2021) on a batch,
 * `−2 E_{x,x⁺} f·f⁺ + E_{x,x'} (f·f')²` with the positive expectation
 * the mean over anchors of the mean over their positives and the second
 * over all pairs of views:
 *
 *   L = −(2/n) Σ_i (R F F ᵀ)_ii + c Σ_{i,j} (F_i · F_j)²,
 *
 * c = 1/n² (or 1/(n(n − 1)) over the pairs j ≠ i with `excludeSelf`).
 * For a batch of m views a sample it equals `spectralContrastiveLoss` on
 * A normalized to sum 1 (D_x = 1/n). Its feature update is
 *
 *   ΔF = (2/n) (R + Rᵀ) F − 4c (F Fᵀ) F,
 *
 * the alignment update over the augmentation graph minus the uniformity
 * update over the dot affinity graph (`uniformityUpdate` "spectral",
 * zero diagonal with `excludeSelf`).
 *
 * NOTE: HaoChen et al.'s code also rescales features whose norm exceeds
 * √μ; that is a layer of the network here, not part of the loss.
 *
 * @param options `excludeSelf` (default false), `blockSize`.
 */
export function spectralObjective(
  options: SpectralObjectiveOptions = {},
): ContrastiveObjective {
  const excludeSelf = options.excludeSelf ?? false;
  if (typeof excludeSelf !== "boolean") {
    throw new ConfigError(
      `spectralObjective: excludeSelf must be a boolean, got ` +
        `${String(excludeSelf)}`,
    );
  }
  const blockSize = options.blockSize;
  const pairScale = (n: number) =>
    excludeSelf ? 1 / (n * Math.max(1, n - 1)) : 1 / (n * n);

  const terms = (input: ObjectiveInput): FeatureUpdateTerms => {
    const fn = "spectral.featureUpdate";
    checkInput(fn, input, false);
    refuseAnchorWeights(fn, input);
    const f = input.features;
    const n = f.shape[0];
    const a = new Float64Array(n).fill(1 / n);
    const positives = symmetricPositiveGraph(input.augmentation, a);
    const alignment = tf.tidy(() =>
      tf.mul(alignmentUpdate(positives, f, { normalization: "none" }), 2),
    ) as tf.Tensor2D;
    const uniformity = tf.tidy(() =>
      tf.mul(
        uniformityUpdate(f, { kind: "spectral", excludeSelf, blockSize }),
        4 * pairScale(n),
      ),
    ) as tf.Tensor2D;
    return { alignment, uniformity };
  };

  return {
    name: "spectral",
    usesTargets: false,
    loss(input: ObjectiveInput): tf.Scalar {
      const fn = "spectral.loss";
      checkInput(fn, input, false);
      refuseAnchorWeights(fn, input);
      const f = input.features;
      const n = f.shape[0];
      return tf.tidy(() => {
        // alignment: −(2/n) Σ_i F_i · (R F)_i
        const rf = propagate(positiveMeanGraph(input.augmentation), f);
        const align = tf.mul(tf.sum(tf.mul(f, rf)), -2 / n);

        // uniformity: Σ_ij (F_i · F_j)² = ‖Fᵀ F‖², less Σ_i ‖F_i‖⁴
        const gram = matMul(tf.transpose(f), f);
        let pairs = tf.sum(tf.square(gram));
        if (excludeSelf) {
          pairs = tf.sub(pairs, tf.sum(tf.square(tf.sum(tf.square(f), 1))));
        }
        return tf.add(align, tf.mul(pairs, pairScale(n))) as tf.Scalar;
      });
    },
    featureUpdate: (input) => combine(terms(input)),
    featureUpdateTerms: terms,
  };
}

// ---------------------------------------------------------------------------
// SimSiam and BYOL: alignment with stop-gradient targets
// ---------------------------------------------------------------------------

/**
 * SimSiam's objective (Chen & He 2021), the negative cosine between the
 * predictor output p and the stop-gradient projection z of the other
 * view, symmetrized, `L = ½ D(p₁, z₂) + ½ D(p₂, z₁)`. With F = p/‖p‖ and
 * T = z/‖z‖ (normalizations are layers of the network) and A the
 * augmentation graph:
 *
 *   L = −(1/n) Σ_i F_i · (R T)_i,        ΔF = (1/n) R T:
 *
 * pure alignment, one propagation of the targets over the augmentation
 * graph (mean over each view's positives), and no uniformity update.
 * Needs `targets`.
 */
export function simSiamObjective(): ContrastiveObjective {
  return targetAlignment("simsiam", 1);
}

/**
 * BYOL's objective (Grill et al. 2020): `‖q̄ − z̄'‖² = 2 − 2 cos(q, z')`
 * between the online prediction q of one view and the EMA target
 * network's projection z' of the other, summed over the two directions
 * and averaged over the batch. With F = q/‖q‖, T = z'/‖z'‖:
 *
 *   L = (2/n) Σ_i [2 − 2 F_i · (R T)_i],   ΔF = (4/n) R T
 *
 * (for a view without positives the bracket is 0). For m views a sample
 * it is the mean over anchors times 2, BYOL's symmetrized loss at m = 2.
 * Pure alignment with the target network's features. Needs `targets`.
 */
export function byolObjective(): ContrastiveObjective {
  return targetAlignment("byol", 4);
}

/**
 * The objectives `L = c₀ − (c/n) Σ_i F_i · (R T)_i` with ΔF = (c/n) R T:
 * SimSiam (c = 1, c₀ = 0) and BYOL (c = 4, c₀ = (4/n) · #views with
 * positives).
 */
function targetAlignment(
  name: "simsiam" | "byol",
  scale: number,
): ContrastiveObjective {
  const terms = (input: ObjectiveInput): FeatureUpdateTerms => {
    const fn = `${name}.featureUpdate`;
    checkInput(fn, input, true);
    refuseAnchorWeights(fn, input);
    const n = input.features.shape[0];
    const mean = positiveMeanGraph(input.augmentation);
    const alignment = tf.tidy(() =>
      tf.mul(
        alignmentUpdate(mean, input.targets as tf.Tensor2D, {
          normalization: "none",
        }),
        scale / n,
      ),
    ) as tf.Tensor2D;
    return { alignment, uniformity: null };
  };

  return {
    name,
    usesTargets: true,
    loss(input: ObjectiveInput): tf.Scalar {
      const fn = `${name}.loss`;
      checkInput(fn, input, true);
      refuseAnchorWeights(fn, input);
      const f = input.features;
      const n = f.shape[0];
      let offset = 0;
      if (name === "byol") {
        const deg = input.augmentation.inDegrees();
        for (let i = 0; i < n; i++) if (deg[i] > 0) offset += 4 / n;
      }
      return tf.tidy(() => {
        const rt = propagate(
          positiveMeanGraph(input.augmentation),
          input.targets as tf.Tensor2D,
        );
        const dot = tf.sum(tf.mul(f, rt));
        return tf.add(tf.mul(dot, -scale / n), offset) as tf.Scalar;
      });
    },
    featureUpdate: (input) => combine(terms(input)),
    featureUpdateTerms: terms,
  };
}

// ---------------------------------------------------------------------------
// by name
// ---------------------------------------------------------------------------

/** An objective by name with its options, e.g. from a config file. */
export type ObjectiveSpec =
  | ({ name: "infonce" } & InfoNCEObjectiveOptions)
  | ({ name: "grace" } & InfoNCEObjectiveOptions)
  | ({ name: "spectral" } & SpectralObjectiveOptions)
  | { name: "simsiam" }
  | { name: "byol" };

/** Every {@link ObjectiveName}, in a stable order. */
export const OBJECTIVE_NAMES: readonly ObjectiveName[] = [
  "infonce",
  "grace",
  "spectral",
  "simsiam",
  "byol",
];

/**
 * The objective a spec names, with its options.
 *
 * @throws ConfigError for an unknown name or a bad option.
 */
export function createObjective(spec: ObjectiveSpec): ContrastiveObjective {
  switch (spec?.name) {
    case "infonce":
      return infoNCEObjective(spec);
    case "grace":
      return graceObjective(spec);
    case "spectral":
      return spectralObjective(spec);
    case "simsiam":
      return simSiamObjective();
    case "byol":
      return byolObjective();
    default:
      throw new ConfigError(
        `createObjective: name must be one of ${OBJECTIVE_NAMES.join(", ")}, ` +
          `got ${String((spec as { name?: unknown })?.name)}`,
      );
  }
}
