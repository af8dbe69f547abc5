/**
 * The contrastive update as message passing (Wang et al. 2023, "A Message
 * Passing Perspective on Learning Dynamics of Contrastive Learning"): one
 * gradient step of a contrastive loss in the unconstrained-feature setting
 * is an alignment update, `propagate` over the augmentation graph, minus a
 * uniformity update, `propagate` over the affinity graph that the features
 * define.
 *
 * Notation as in `losses.ts`: A the augmentation graph, D its weighted
 * degrees, `Ā = D^-1/2 A D^-1/2`, F_f the features f(x) by rows.
 *
 * Conventions (the constant factors are exact):
 * - spectral loss, in the degree-scaled variable `F = D^1/2 F_f`:
 *   `∇_F L_sp = −4 (Ā F − F Fᵀ F)`, and {@link contrastiveStep} takes
 *   `F ← F + β (Ā F − F Fᵀ F)`, a gradient step of size β/4.
 * - InfoNCE, in f itself (no degree scaling), temperature τ:
 *   `∇_f L_NCE = −(1/τ) (2 A F_f − (P + Pᵀ) F_f)` with
 *   `P(x, x') = D_x softmax_x'(log D_x' + f·f'/τ)`, and
 *   {@link contrastiveStep} takes `f ← f + (β/τ) (2 A f − (P + Pᵀ) f)`, a
 *   gradient step of size β.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import type { Graph } from "../graph/graph.js";
import { affinityGraph } from "../mp/affinity.js";
import { denseMatMul } from "../mp/linear.js";
import { propagate } from "../mp/propagate.js";
import {
  checkFeatures,
  checkTemperature,
  normalizedAugmentationGraph,
} from "./losses.js";

/** Options of {@link alignmentUpdate}. */
export interface AlignmentUpdateOptions {
  /**
   * `"sym"` (default): propagate over `Ā = D^-1/2 A D^-1/2`, the update of
   * the degree-scaled features F (the spectral loss). `"none"`: over A's
   * own weights, `A F_f`, the alignment term of InfoNCE in f.
   */
  normalization?: "sym" | "none";
  /**
   * Per-edge multipliers `[E]` in the graph's CSR order (default all 1):
   * edge e carries `m_e` times its weight (attentive alignment).
   */
  edgeMultipliers?: tf.Tensor1D;
}

/**
 * The alignment update: one message-passing (GCN) step over the
 * augmentation graph,
 *
 *   normalization "sym" (default):  U = Ā F,
 *       (Ā F)_x = Σ_x' A(x, x') F_x' / √(D_x D_x')
 *   normalization "none":           U = A F
 *
 * computed by `propagate` over `normalize(A, "sym")` (cached per graph) or
 * over A. In per-sample form, `(Ā F)_x / √D_x` is the mean of f over the
 * positives of x: `Σ_x' (A(x,x')/D_x) f(x')`.
 *
 * @param augmentationGraph A, N nodes, symmetric non-negative weights.
 * @param F features, float32 `[N, k]`.
 * @param options `normalization` (default "sym"), `edgeMultipliers`.
 * @returns `[N, k]`, a new tensor.
 * @throws ShapeError when F is not float32 `[N, k]` or the multipliers
 *   are not `[E]`.
 */
export function alignmentUpdate(
  augmentationGraph: Graph,
  F: tf.Tensor2D,
  options: AlignmentUpdateOptions = {},
): tf.Tensor2D {
  const fn = "alignmentUpdate";
  checkFeatures(fn, "F", augmentationGraph, F);
  const normalization = options.normalization ?? "sym";
  if (normalization !== "sym" && normalization !== "none") {
    throw new ConfigError(
      `${fn}: normalization must be "sym" or "none", got ` +
        `${String(normalization)}`,
    );
  }
  const graph =
    normalization === "sym"
      ? normalizedAugmentationGraph(augmentationGraph)
      : augmentationGraph;
  const m = options.edgeMultipliers;
  if (m === undefined) return propagate(graph, F);
  if (!(m instanceof tf.Tensor) || m.rank !== 1 || m.size !== graph.numEdges) {
    throw new ShapeError(
      `${fn}: edgeMultipliers must have shape [E] = [${graph.numEdges}], ` +
        `got ${m instanceof tf.Tensor ? `[${m.shape}]` : typeof m}`,
    );
  }
  return tf.tidy(() => {
    const w =
      graph.weights === null
        ? m
        : tf.mul(tf.tensor1d(graph.weights, "float32"), m);
    return propagate(graph, F, { weights: w as tf.Tensor1D });
  });
}

/**
 * The degree-scaled features `F = D^1/2 F_f` (row x times √D_x), the
 * variable of the spectral update, from f. D is A's weighted degrees.
 *
 * @param augmentationGraph A, N nodes.
 * @param f float32 `[N, k]`.
 * @returns float32 `[N, k]`.
 * @throws ShapeError when f is not float32 `[N, k]`.
 */
export function degreeScale(
  augmentationGraph: Graph,
  f: tf.Tensor2D,
): tf.Tensor2D {
  checkFeatures("degreeScale", "f", augmentationGraph, f);
  return scaleRowsBy(augmentationGraph, f, 0.5);
}

/**
 * The features `F_f = D^-1/2 F` back from degree-scaled features (row x
 * divided by √D_x; a node of degree 0 gets a zero row).
 *
 * @param augmentationGraph A, N nodes.
 * @param F float32 `[N, k]`.
 * @returns float32 `[N, k]`.
 * @throws ShapeError when F is not float32 `[N, k]`.
 */
export function degreeUnscale(
  augmentationGraph: Graph,
  F: tf.Tensor2D,
): tf.Tensor2D {
  checkFeatures("degreeUnscale", "F", augmentationGraph, F);
  return scaleRowsBy(augmentationGraph, F, -0.5);
}

/** Row x times `D_x^power` (0 where D_x = 0). */
function scaleRowsBy(graph: Graph, x: tf.Tensor2D, power: number): tf.Tensor2D {
  const deg = graph.inDegrees();
  const s = new Float32Array(deg.length);
  for (let i = 0; i < deg.length; i++) {
    s[i] = deg[i] > 0 ? deg[i] ** power : 0;
  }
  return tf.tidy(() => tf.mul(x, tf.tensor2d(s, [deg.length, 1])));
}

/** Options of {@link uniformityUpdate}. */
export interface UniformityUpdateOptions {
  /**
   * `"spectral"` (default): `(F Fᵀ / τ) F`, the affinity graph of kind
   * "dot". `"infonce"`: `(P + Pᵀ) F` with
   * `P(x, x') = D_x softmax_x'(log D_x' + f·f'/τ)`, the affinity graph of
   * kind "softmax" with `logBias = log D`.
   */
  kind?: "spectral" | "infonce";
  /** τ > 0, default 1 (see the two kinds). */
  temperature?: number;
  /**
   * The marginal D (length N, entries > 0) for "infonce": the augmentation
   * graph's degrees. Default the uniform marginal `D_x = 1/N`. Ignored by
   * "spectral", whose F is already degree-scaled.
   */
  degrees?: ArrayLike<number>;
  /**
   * The row weights r of P for "infonce" (length N, entries >= 0):
   * `P(x, x') = r_x softmax_x'(log D_x' + f·f'/τ)`. Default `r = D`, the
   * population form; per-anchor weights of a mini-batch loss (e.g.
   * attention weights) differ from the column marginal D. Ignored by
   * "spectral".
   */
  anchorWeights?: ArrayLike<number>;
  /**
   * Drop the pairs x' = x from the affinity graph (default false): the
   * softmax of row x runs over the N − 1 other samples (SimCLR's
   * NT-Xent), and the dot graph gets a zero diagonal.
   */
  excludeSelf?: boolean;
  /** Rows per block of the affinity graph (default: its automatic size). */
  blockSize?: number;
}

/**
 * The uniformity update: propagation over the affinity graph of the
 * features, which the contrastive step subtracts.
 *
 *   spectral:  U = (F Fᵀ / τ) F          (U_x = Σ_x' (F_x·F_x'/τ) F_x')
 *   infonce:   U = (P + Pᵀ) F,  P(x, x') = D_x W(x, x'),
 *              W(x, ·) = softmax_x'(log D_x' + F_x·F_x'/τ)
 *
 * (with `r = D` unless `anchorWeights` are given; `excludeSelf` drops
 * the pairs x' = x from both kinds). Both run blockwise (never an N × N
 * tensor). "infonce" takes one pass over the row blocks I of the
 * affinity graph: with the weights `W_I` of the block (b × N),
 * `(P F)_I = r_I ⊙ (W_I F)` is the propagation over the affinity graph
 * and `Pᵀ F = Σ_I W_Iᵀ (r_I ⊙ F_I)` the propagation over its transpose,
 * accumulated block by block. The products run on `denseMatMul` (the
 * native GEMM where it is built; TF.js's matMul with explicit transposes
 * otherwise).
 *
 * NOTE: the spectral update equals `F (Fᵀ F) / τ`, O(N k²) instead of
 * O(N² k); it is computed as propagation on purpose (the affinity graph
 * is the object the theory speaks of); the tests compare it with a
 * dense float64 (F Fᵀ) F.
 * It is an update, not a loss: use `infoNCELoss` or the objectives of
 * `objectives.ts` for autodiff.
 *
 * @param F features, float32 `[N, k]` (F = D^1/2 F_f for spectral, f for
 *   infonce).
 * @param options `kind` (default "spectral"), `temperature` (default 1),
 *   `degrees` (default 1/N each), `anchorWeights` (default D),
 *   `excludeSelf` (default false), `blockSize`.
 * @returns `[N, k]`, a new tensor.
 * @throws ShapeError for F not float32 `[N, k]` or degrees not of length
 *   N; ConfigError for a bad kind, temperature or degree.
 */
export function uniformityUpdate(
  F: tf.Tensor2D,
  options: UniformityUpdateOptions = {},
): tf.Tensor2D {
  const fn = "uniformityUpdate";
  if (!(F instanceof tf.Tensor) || F.rank !== 2 || F.dtype !== "float32") {
    throw new ShapeError(
      `${fn}: F must be a float32 tensor [N, k], got ` +
        (F instanceof tf.Tensor ? `${F.dtype} [${F.shape}]` : typeof F),
    );
  }
  const kind = options.kind ?? "spectral";
  const tau = options.temperature ?? 1;
  checkTemperature(fn, tau);
  const blockSize = options.blockSize;
  const excludeSelf = options.excludeSelf ?? false;
  const n = F.shape[0];

  if (kind === "spectral") {
    const g = affinityGraph(F, {
      kind: "dot",
      temperature: tau,
      blockSize,
      excludeSelf,
    });
    return propagate(g, F);
  }
  if (kind !== "infonce") {
    throw new ConfigError(
      `${fn}: kind must be "spectral" or "infonce", got ${String(kind)}`,
    );
  }

  // the marginal D, its logarithm (the logit bias of every column) and
  // the row weights r
  const deg = nodeWeights(fn, "degrees", options.degrees, n, true);
  const rows =
    options.anchorWeights === undefined
      ? deg
      : nodeWeights(fn, "anchorWeights", options.anchorWeights, n, false);
  const logBias = deg.map(Math.log);
  const size = Math.min(n, blockSize ?? Math.max(1, Math.floor(2 ** 24 / n)));

  // one pass over the row blocks: (P F)_I and the running sum of Pᵀ F
  const k = F.shape[1];
  const r = tf.tensor2d(rows, [n, 1]);
  // a constant bias (uniform D) cancels in the softmax: skip its pass
  const constant = logBias.every((v) => v === logBias[0]);
  const bias = constant ? null : tf.tensor2d(logBias, [1, n]);
  const parts: tf.Tensor2D[] = [];
  let ptf: tf.Tensor2D = tf.zeros([n, k]);
  for (let r0 = 0; r0 < n; r0 += size) {
    const b = Math.min(n, r0 + size) - r0;
    const [pfI, next] = tf.tidy(() => {
      const w = softmaxAffinityBlock(F, bias, tau, excludeSelf, r0, b);
      const rI = tf.slice(r, [r0, 0], [b, 1]);
      const pfI = tf.mul(rI, denseMatMul(w, F));
      const rfI = tf.mul(rI, tf.slice(F, [r0, 0], [b, k])) as tf.Tensor2D;
      const ptfI = denseMatMul(w, rfI, { transposeA: true });
      return [pfI, tf.add(ptf, ptfI)];
    });
    ptf.dispose();
    ptf = next as tf.Tensor2D;
    parts.push(pfI as tf.Tensor2D);
  }
  tf.dispose(bias === null ? [r] : [r, bias]);
  const pf = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
  if (parts.length > 1) tf.dispose(parts);
  const out = tf.add(pf, ptf) as tf.Tensor2D;
  tf.dispose([pf, ptf]);
  return out;
}

/**
 * Rows `[r0, r0 + b)` of the softmax affinity graph's weights, as
 * `affinityGraph(F, { kind: "softmax", logBias, excludeSelf })` defines
 * them: `W_I = softmax_rows(F_I Fᵀ / τ + 1 βᵀ)` (β null: no bias), the
 * pairs (i, i) at
 * weight 0 with `excludeSelf`; b × N, no gradient. The similarity product
 * is `denseMatMul` (the native GEMM where it is built).
 */
function softmaxAffinityBlock(
  F: tf.Tensor2D,
  bias: tf.Tensor2D | null,
  tau: number,
  excludeSelf: boolean,
  r0: number,
  b: number,
): tf.Tensor2D {
  return tf.tidy(() => {
    // 1/τ on the b × k rows, not on the b × N product
    const fi = tf.mul(tf.slice(F, [r0, 0], [b, F.shape[1]]), 1 / tau);
    let logits = denseMatMul(fi as tf.Tensor2D, F, { transposeB: true });
    if (bias !== null) logits = tf.add(logits, bias);
    if (excludeSelf) {
      // NOTE: a scatter of b entries; a broadcast tf.where runs far slower
      // on the WASM backend. −1e30 has exp 0 and no NaN times 0.
      const index = new Int32Array(2 * b);
      for (let t = 0; t < b; t++) {
        index[2 * t] = t;
        index[2 * t + 1] = r0 + t;
      }
      logits = tf.tensorScatterUpdate(
        logits,
        tf.tensor2d(index, [b, 2], "int32"),
        tf.fill([b], -1e30),
      );
    }
    return tf.softmax(logits) as tf.Tensor2D;
  });
}

/**
 * Per-node weights of {@link uniformityUpdate} as float32: length N,
 * finite, > 0 (`positive`) or >= 0; `undefined` gives 1/N each.
 */
function nodeWeights(
  fn: string,
  name: string,
  given: ArrayLike<number> | undefined,
  n: number,
  positive: boolean,
): Float32Array {
  const out = new Float32Array(n);
  if (given === undefined) return out.fill(1 / n);
  if (given.length !== n) {
    throw new ShapeError(
      `${fn}: ${name} must have length N = ${n}, got ${given.length}`,
    );
  }
  for (let i = 0; i < n; i++) {
    const d = given[i];
    const ok = positive ? d > 0 : d >= 0;
    if (!ok || !Number.isFinite(d)) {
      throw new ConfigError(
        `${fn}: ${name} must be finite and ${positive ? ">" : ">="} 0, ` +
          `got ${d} at ${i}`,
      );
    }
    out[i] = d;
  }
  return out;
}

/** Options of {@link contrastiveStep}. */
export interface ContrastiveStepOptions {
  /**
   * Step size β > 0 (required); the spectral fixed point is stable for
   * β < 1.
   */
  beta: number;
  /** `"spectral"` (default) or `"infonce"`; see the file's conventions. */
  kind?: "spectral" | "infonce";
  /** τ > 0 of the uniformity update (and of InfoNCE's step), default 1. */
  temperature?: number;
  /**
   * Which terms to apply (default "both"): "alignment" or "uniformity"
   * alone give the dynamics of the theory's collapse and flattening
   * results.
   */
  terms?: "both" | "alignment" | "uniformity";
  /**
   * Renormalize every row to unit length after the step (default false),
   * as SimCLR's ℓ2-normalized features; a zero row stays zero.
   */
  sphere?: boolean;
  /**
   * Attentive alignment (default off): edge e = (x, x') of A gets the
   * multiplier `m_e = E · softmax_e(cos(F_x, F_x') / T)`, the softmax over
   * all E stored edges of the cosine similarities of the current features
   * (detached: constants of the step), T = `temperature` (default 1). The
   * weights `m_e / E` sum to one; equal cosines give m_e = 1, the plain
   * update. Cosines are symmetric, so the reweighted graph stays symmetric.
   * NOTE: this weights the alignment edges only. The published SimCLR-Attn
   * code (a mini-batch loss) weights each anchor's whole InfoNCE term,
   * alignment and uniformity parts together, by one softmax over anchors.
   */
  attention?: { temperature?: number };
  /**
   * Multi-stage alignment (default none): stored earlier features T
   * (`[N, k]`, same coordinates as F). The alignment messages then carry
   * `(1 − mix) F + mix T` instead of F: each positive's current feature
   * mixed with its stored one.
   */
  target?: tf.Tensor2D;
  /** Weight of `target` in the alignment messages, in [0, 1], default 0.5. */
  mix?: number;
  /** Rows per block of the affinity graph (default: automatic). */
  blockSize?: number;
}

/**
 * One contrastive step: alignment (propagation over the augmentation
 * graph) minus uniformity (propagation over the affinity graph).
 *
 *   spectral (F = D^1/2 F_f):  F ← F + β (Ā F − (F Fᵀ/τ) F)
 *   infonce  (f):              f ← f + (β/τ) (2 A f − (P + Pᵀ) f)
 *
 * with P built from D = A's degrees (see {@link uniformityUpdate}). At
 * τ = 1 the spectral step is gradient descent of step β/4 on
 * `spectralLossFeatureSpace`, the infonce step gradient descent of step
 * β on `infoNCELoss` (at any τ). Then the options: `terms` drops one
 * term, `attention` reweights the alignment edges, `target` mixes stored
 * features into the alignment messages, `sphere` renormalizes the rows.
 *
 * @param augmentationGraph A, N nodes, symmetric non-negative weights.
 * @param F features, float32 `[N, k]`; not disposed.
 * @param options see {@link ContrastiveStepOptions}.
 * @returns the new features `[N, k]`.
 * @throws ShapeError for mismatched shapes; ConfigError for a bad option.
 */
export function contrastiveStep(
  augmentationGraph: Graph,
  F: tf.Tensor2D,
  options: ContrastiveStepOptions,
): tf.Tensor2D {
  const fn = "contrastiveStep";
  checkFeatures(fn, "F", augmentationGraph, F);
  const beta = options?.beta;
  if (typeof beta !== "number" || !Number.isFinite(beta) || beta <= 0) {
    throw new ConfigError(
      `${fn}: beta must be a finite number > 0, got ${beta}`,
    );
  }
  const kind = options.kind ?? "spectral";
  if (kind !== "spectral" && kind !== "infonce") {
    throw new ConfigError(
      `${fn}: kind must be "spectral" or "infonce", got ${String(kind)}`,
    );
  }
  const tau = options.temperature ?? 1;
  checkTemperature(fn, tau);
  const terms = options.terms ?? "both";
  if (terms !== "both" && terms !== "alignment" && terms !== "uniformity") {
    throw new ConfigError(
      `${fn}: terms must be "both", "alignment" or "uniformity", got ` +
        `${String(terms)}`,
    );
  }
  const mix = options.mix ?? 0.5;
  if (!(mix >= 0 && mix <= 1)) {
    throw new ConfigError(`${fn}: mix must lie in [0, 1], got ${mix}`);
  }
  if (options.target !== undefined) {
    const t = options.target;
    if (
      !(t instanceof tf.Tensor) ||
      t.rank !== 2 ||
      t.shape[0] !== F.shape[0] ||
      t.shape[1] !== F.shape[1]
    ) {
      throw new ShapeError(
        `${fn}: target must have the shape of F [${F.shape}], got ` +
          (t instanceof tf.Tensor ? `[${t.shape}]` : typeof t),
      );
    }
  }
  const attentionTau = options.attention?.temperature ?? 1;
  if (options.attention !== undefined) checkTemperature(fn, attentionTau);
  const normalization = kind === "spectral" ? "sym" : "none";

  return tf.tidy(() => {
    let delta: tf.Tensor2D | null = null;

    // alignment: propagation over Ā (spectral) or 2A (infonce)
    if (terms !== "uniformity") {
      const messages =
        options.target === undefined
          ? F
          : tf.add(tf.mul(F, 1 - mix), tf.mul(options.target, mix));
      const edgeMultipliers =
        options.attention === undefined
          ? undefined
          : attentionMultipliers(augmentationGraph, F, attentionTau);
      let align = alignmentUpdate(augmentationGraph, messages as tf.Tensor2D, {
        normalization,
        edgeMultipliers,
      });
      if (kind === "infonce") align = tf.mul(align, 2);
      delta = align;
    }

    // uniformity: propagation over the affinity graph, subtracted
    if (terms !== "alignment") {
      const unif = uniformityUpdate(F, {
        kind,
        temperature: tau,
        degrees: kind === "infonce" ? augmentationGraph.inDegrees() : undefined,
        blockSize: options.blockSize,
      });
      delta = (
        delta === null ? tf.neg(unif) : tf.sub(delta, unif)
      ) as tf.Tensor2D;
    }

    const step = kind === "infonce" ? beta / tau : beta;
    let next = tf.add(F, tf.mul(delta as tf.Tensor2D, step)) as tf.Tensor2D;
    if (options.sphere === true) {
      const norms = tf.norm(next, 2, 1, true);
      next = tf.div(next, tf.maximum(norms, 1e-30));
    }
    return next;
  });
}

/**
 * The attentive alignment multipliers of every stored edge e = (src, dst)
 * of A, in CSR order: `m_e = E · softmax_e(cos(F_src, F_dst) / T)`,
 * computed on the current features as constants (no gradient flows).
 * Zero rows have cosine 0 with everything.
 *
 * @param augmentationGraph A with E stored edges.
 * @param F float32 `[N, k]`.
 * @param temperature T > 0.
 * @returns float32 `[E]`, mean 1.
 */
export function attentionMultipliers(
  augmentationGraph: Graph,
  F: tf.Tensor2D,
  temperature: number,
): tf.Tensor1D {
  const fn = "attentionMultipliers";
  checkFeatures(fn, "F", augmentationGraph, F);
  checkTemperature(fn, temperature);
  const [n, k] = F.shape;
  const x = F.dataSync();
  const { rowPtr, colIdx } = augmentationGraph;
  const numEdges = augmentationGraph.numEdges;

  // unit rows, then the cosine of every edge and its softmax (float64)
  const unit = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += x[i * k + c] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < k; c++) unit[i * k + c] = x[i * k + c] * inv;
  }
  const logits = new Float64Array(numEdges);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      const j = colIdx[e];
      let c = 0;
      for (let t = 0; t < k; t++) c += unit[i * k + t] * unit[j * k + t];
      logits[e] = c / temperature;
      if (logits[e] > max) max = logits[e];
    }
  }
  let z = 0;
  for (let e = 0; e < numEdges; e++) z += Math.exp(logits[e] - max);
  const out = new Float32Array(numEdges);
  for (let e = 0; e < numEdges; e++) {
    out[e] = (numEdges * Math.exp(logits[e] - max)) / z;
  }
  return tf.tensor1d(out, "float32");
}
