/**
 * Contrastive losses written out on tensors, for autodiff: the spectral
 * contrastive loss of HaoChen et al. (2021), "Provable Guarantees for
 * Self-Supervised Deep Learning with Spectral Contrastive Loss", in sample
 * space and in feature space, and InfoNCE in the population form of Wang &
 * Isola (2020) used by Wang et al. (2023), "A Message Passing Perspective
 * on Learning Dynamics of Contrastive Learning".
 *
 * Notation: A is the augmentation graph over N samples (symmetric,
 * non-negative weights, stored as a `Graph`), `D_x = Σ_x' A(x, x')` its
 * weighted degrees, `Ā = D^-1/2 A D^-1/2`, `F_f` (N × k) the features
 * f(x) by rows and `F = D^1/2 F_f` the degree-scaled features. The paper
 * normalizes A to sum to 1; nothing here requires it (the two spectral
 * forms agree for any scale of A).
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import type { Graph } from "../graph/graph.js";
import { normalize } from "../graph/transforms.js";
import { propagate } from "../mp/propagate.js";

/** Check that `f` is float32 `[N, k]` with N the graph's node count. */
export function checkFeatures(
  fn: string,
  name: string,
  graph: Graph,
  f: tf.Tensor2D,
): void {
  if (!(f instanceof tf.Tensor) || f.rank !== 2) {
    throw new ShapeError(
      `${fn}: ${name} must be a rank-2 tensor [N, k], got ` +
        (f instanceof tf.Tensor ? `shape [${f.shape}]` : typeof f),
    );
  }
  if (f.shape[0] !== graph.numNodes) {
    throw new ShapeError(
      `${fn}: ${name} must have N = ${graph.numNodes} rows (one per ` +
        `node of the augmentation graph), got shape [${f.shape}]`,
    );
  }
  if (f.dtype !== "float32") {
    throw new ShapeError(`${fn}: ${name} must be float32, got ${f.dtype}`);
  }
}

/** Check a temperature: finite and > 0. */
export function checkTemperature(fn: string, tau: number): void {
  if (typeof tau !== "number" || !Number.isFinite(tau) || tau <= 0) {
    throw new ConfigError(
      `${fn}: temperature must be a finite number > 0, got ${tau}`,
    );
  }
}

const normalizedGraphs = new WeakMap<Graph, Graph>();

/**
 * `Ā = D^-1/2 A D^-1/2` of an augmentation graph, computed once per graph
 * object (`normalize(graph, "sym")`) and cached while the graph lives.
 */
export function normalizedAugmentationGraph(graph: Graph): Graph {
  let g = normalizedGraphs.get(graph);
  if (g === undefined) {
    g = normalize(graph, "sym");
    normalizedGraphs.set(graph, g);
  }
  return g;
}

/** The weighted degrees `D_x = Σ_x' A(x, x')` as float32 `[N]`. */
function degreeTensor(graph: Graph): tf.Tensor1D {
  return tf.tensor1d(Float32Array.from(graph.inDegrees()), "float32");
}

/**
 * The spectral contrastive loss in sample space,
 *
 *   L_sp(f) = −2 Σ_{x,x'} A(x, x') f(x)·f(x')
 *             + Σ_{x,x'} D_x D_x' (f(x)·f(x'))²,
 *
 * as a scalar tensor differentiable in `f`. The alignment term is
 * `Σ f ⊙ (A F_f)` (one `propagate` over A); the uniformity term is
 * computed as `‖F_fᵀ D F_f‖²_F` (k × k), which equals the double sum, so
 * nothing of size N × N is formed.
 *
 * @param augmentationGraph A, N nodes, symmetric non-negative weights.
 * @param f the features F_f, float32 `[N, k]`.
 * @returns a scalar; its gradient in F_f is
 *   `−4 A F_f + 4 D F_f (F_fᵀ D F_f)`.
 * @throws ShapeError when f is not float32 `[N, k]`.
 */
export function spectralContrastiveLoss(
  augmentationGraph: Graph,
  f: tf.Tensor2D,
): tf.Scalar {
  checkFeatures("spectralContrastiveLoss", "f", augmentationGraph, f);
  return tf.tidy(() => {
    const align = tf.sum(tf.mul(f, propagate(augmentationGraph, f)));
    const d = degreeTensor(augmentationGraph).reshape([-1, 1]);
    const gram = tf.matMul(tf.transpose(tf.mul(f, d)), f);
    const unif = tf.sum(tf.square(gram));
    return tf.add(tf.mul(align, -2), unif) as tf.Scalar;
  });
}

/**
 * The spectral contrastive loss in feature space, a function of the
 * degree-scaled features `F = D^1/2 F_f`:
 *
 *   L(F) = ‖Ā − F Fᵀ‖²_F − ‖Ā‖²_F = −2 Tr(Fᵀ Ā F) + ‖Fᵀ F‖²_F,
 *
 * evaluated by the right-hand side (one `propagate` over Ā, a k × k Gram
 * matrix), so it equals {@link spectralContrastiveLoss} at
 * `F_f = D^-1/2 F` without forming Ā − F Fᵀ.
 *
 * Its gradient is `∇_F L = −4 (Ā F − F Fᵀ F)`: −4 times the alignment
 * update minus the uniformity update of `updates.ts`.
 *
 * @param augmentationGraph A (Ā is derived from it and cached).
 * @param F degree-scaled features, float32 `[N, k]`.
 * @returns a scalar tensor.
 * @throws ShapeError when F is not float32 `[N, k]`.
 */
export function spectralLossFeatureSpace(
  augmentationGraph: Graph,
  F: tf.Tensor2D,
): tf.Scalar {
  checkFeatures("spectralLossFeatureSpace", "F", augmentationGraph, F);
  const abar = normalizedAugmentationGraph(augmentationGraph);
  return tf.tidy(() => {
    const align = tf.sum(tf.mul(F, propagate(abar, F)));
    const gram = tf.matMul(tf.transpose(F), F);
    return tf.add(tf.mul(align, -2), tf.sum(tf.square(gram))) as tf.Scalar;
  });
}

/** Options of {@link infoNCELoss}. */
export interface InfoNCEOptions {
  /**
   * τ > 0, default 1: every similarity `f·f'` is divided by τ (both in
   * the alignment term and inside the log-sum-exp), i.e. the loss at
   * features f is the τ = 1 loss at `f / √τ`.
   */
  temperature?: number;
}

/**
 * InfoNCE in population form (Wang & Isola 2020), with τ the temperature:
 *
 *   L(f) = −Σ_{x,x'} A(x, x') f·f'/τ
 *          + Σ_x D_x log Σ_x' D_x' exp(f·f'/τ),
 *
 * as a scalar tensor differentiable in `f`. Its gradient is
 * `∇_f L = −(1/τ) (2A − P − Pᵀ) F_f` with
 * `P(x, x') = D_x softmax_x'(log D_x' + f·f'/τ)`.
 *
 * LIMITATION: the log-sum-exp forms the N × N logits densely (N² floats)
 * and its backward pass is TF.js's own matMul gradient, which uses the
 * slow transposed products on the WASM backend; it is meant for tests and
 * small N. Large N goes through the blockwise update of `updates.ts`.
 *
 * @param augmentationGraph A, N nodes, symmetric non-negative weights;
 *   every node needs a degree > 0 (log D_x' must be finite).
 * @param f the features F_f, float32 `[N, k]`.
 * @param options `temperature` (default 1).
 * @returns a scalar tensor.
 * @throws ShapeError for f not float32 `[N, k]`; ConfigError for a bad
 *   temperature or a node of degree 0.
 */
export function infoNCELoss(
  augmentationGraph: Graph,
  f: tf.Tensor2D,
  options: InfoNCEOptions = {},
): tf.Scalar {
  const fn = "infoNCELoss";
  checkFeatures(fn, "f", augmentationGraph, f);
  const tau = options.temperature ?? 1;
  checkTemperature(fn, tau);
  const deg = augmentationGraph.inDegrees();
  for (let i = 0; i < deg.length; i++) {
    if (!(deg[i] > 0)) {
      throw new ConfigError(
        `${fn}: every node needs a degree > 0, node ${i} has ${deg[i]}`,
      );
    }
  }
  return tf.tidy(() => {
    const d = tf.tensor1d(Float32Array.from(deg), "float32");
    const align = tf.div(
      tf.sum(tf.mul(f, propagate(augmentationGraph, f))),
      tau,
    );

    // the log-normaliser of every row: log Σ_x' D_x' exp(f·f'/τ)
    const logits = tf.add(
      tf.div(tf.matMul(f, tf.transpose(f)), tau),
      tf.log(d).reshape([1, -1]),
    );
    const lse = tf.logSumExp(logits, 1);
    return tf.sub(tf.sum(tf.mul(d, lse)), align) as tf.Scalar;
  });
}

/** Both forms of the spectral loss, from {@link spectralLossDense64}. */
export interface SpectralLossForms {
  /** `−2 Σ A f·f' + Σ D D' (f·f')²`, summed directly. */
  readonly sampleSpace: number;
  /** `‖Ā − F Fᵀ‖²_F − ‖Ā‖²_F` with F = D^1/2 F_f, Ā formed densely. */
  readonly featureSpace: number;
}

/**
 * Reference in float64 on plain arrays: the spectral contrastive loss in
 * both forms, each computed literally (the double sums over all pairs, and
 * the dense N × N matrices Ā and F Fᵀ). O(N² k) time, N² memory: for
 * tests and theory checks on small graphs.
 *
 * @param augmentationGraph A, N nodes (duplicate edges add up).
 * @param f F_f row-major `[N, k]` (length N·k).
 * @param k the feature dimension.
 * @throws ShapeError when f does not have N·k entries.
 */
export function spectralLossDense64(
  augmentationGraph: Graph,
  f: ArrayLike<number>,
  k: number,
): SpectralLossForms {
  const n = augmentationGraph.numNodes;
  if (!Number.isInteger(k) || k < 1 || f.length !== n * k) {
    throw new ShapeError(
      `spectralLossDense64: f must hold N·k = ${n}·${k} entries, got ` +
        `${f.length}`,
    );
  }

  // the dense A, its degrees, and the Gram matrix S = F_f F_fᵀ
  const a = new Float64Array(n * n);
  const { rowPtr, colIdx } = augmentationGraph;
  for (let i = 0; i < n; i++) {
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      a[i * n + colIdx[e]] += augmentationGraph.weight(e);
    }
  }
  const deg = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) deg[i] += a[i * n + j];
  }
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let c = 0; c < k; c++) v += f[i * k + c] * f[j * k + c];
      s[i * n + j] = v;
    }
  }

  // sample space: the two double sums
  let sampleSpace = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = s[i * n + j];
      sampleSpace += -2 * a[i * n + j] * v + deg[i] * deg[j] * v * v;
    }
  }

  // feature space: Ā and F Fᵀ = D^1/2 S D^1/2, dense
  let residual = 0;
  let abarNorm = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const norm = Math.sqrt(deg[i] * deg[j]);
      const abar = norm > 0 ? a[i * n + j] / norm : 0;
      const ff = norm * s[i * n + j];
      residual += (abar - ff) ** 2;
      abarNorm += abar * abar;
    }
  }
  return { sampleSpace, featureSpace: residual - abarNorm };
}
