/**
 * Alignment and uniformity of features on the unit hypersphere: the two
 * properties a contrastive objective trades off, measured on their own.
 * Alignment is small when positive pairs map close together; uniformity
 * is low (very negative) when the features spread over the sphere.
 *
 * Follows T. Wang and P. Isola, "Understanding contrastive representation
 * learning through alignment and uniformity on the hypersphere", ICML
 * 2020 (their `align_loss` and `uniform_loss`, with the defaults α = 2 and
 * t = 2 of the paper).
 */

import { ConfigError, ShapeError } from "../errors.js";
import { Graph } from "../graph/graph.js";
import { type FeatureMatrix, normalizeRows, readMatrix } from "./matrix.js";

/** Options of {@link alignment}. */
export interface AlignmentOptions {
  /** The exponent α > 0 of the distance (default 2). */
  alpha?: number;
  /**
   * Whether rows are l2-normalized first (default true, as in the paper:
   * the metrics are defined on the sphere). A zero row stays zero.
   */
  normalize?: boolean;
}

/** Options of {@link uniformity}. */
export interface UniformityOptions {
  /** The temperature t > 0 of the Gaussian potential (default 2). */
  t?: number;
  /** Whether rows are l2-normalized first (default true). */
  normalize?: boolean;
  /**
   * Rows per block of the pairwise sweep (default 256). Only the speed
   * depends on it (cache reuse); memory is O(N k) for the normalized copy
   * whatever the block.
   */
  blockSize?: number;
}

/**
 * The alignment of Wang & Isola (2020): the mean α-th power of the
 * distance between the features of positive pairs,
 *
 *   L_align = E_(x, x⁺) ‖f(x) − f(x⁺)‖₂^α,
 *
 * with features l2-normalized first unless `normalize: false`. The
 * positive pairs are either row i of `x` with row i of `positives` (an
 * N × k matrix: the second view of each sample), or the edges of an
 * augmentation graph over the rows of `x` (a `Graph` with N nodes): then
 * each stored edge j → i is a pair (x_i, x_j) weighted by its weight, and
 * the mean is `Σ w_ij ‖f_i − f_j‖^α / Σ w_ij`.
 *
 * @param x N × k features.
 * @param positives N × k features of the positives, or a graph on N nodes.
 * @param options `alpha` (default 2), `normalize` (default true).
 * @throws ShapeError on mismatched shapes; ConfigError for a bad option or
 *   a graph with no edge weight; NumericalError on NaN/Inf features.
 */
export function alignment(
  x: FeatureMatrix,
  positives: FeatureMatrix | Graph,
  options: AlignmentOptions = {},
): number {
  const fn = "alignment";
  const alpha = options.alpha ?? 2;
  if (!(alpha > 0) || !Number.isFinite(alpha)) {
    throw new ConfigError(`${fn}: alpha must be finite and > 0, got ${alpha}`);
  }
  const normalize = options.normalize ?? true;
  const a = readMatrix(fn, "x", x);
  const k = a.cols;
  const fa = normalize ? normalizeRows(a) : a.data;
  const power = (sq: number): number =>
    alpha === 2 ? sq : Math.sqrt(sq) ** alpha;

  // positives as an augmentation graph: a weighted mean over its edges
  if (positives instanceof Graph) {
    if (positives.numNodes !== a.rows) {
      throw new ShapeError(
        `${fn}: the positives graph must have one node per row of x ` +
          `(${a.rows}), got ${positives.numNodes} nodes`,
      );
    }
    const { rowPtr, colIdx, weights } = positives;
    let total = 0;
    let weightSum = 0;
    for (let i = 0; i < a.rows; i++) {
      for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
        const w = weights === null ? 1 : weights[e];
        total += w * power(squaredDistance(fa, i, fa, colIdx[e], k));
        weightSum += w;
      }
    }
    if (!(weightSum > 0)) {
      throw new ConfigError(
        `${fn}: expected a positives graph with total edge weight > 0, ` +
          `got ${weightSum}`,
      );
    }
    return total / weightSum;
  }

  // positives as a second view, row by row
  const b = readMatrix(fn, "positives", positives);
  if (b.rows !== a.rows || b.cols !== a.cols) {
    throw new ShapeError(
      `${fn}: positives must have the shape of x (${a.rows} × ${a.cols}), ` +
        `got ${b.rows} × ${b.cols}`,
    );
  }
  if (a.rows === 0) {
    throw new ConfigError(`${fn}: expected at least one positive pair`);
  }
  const fb = normalize ? normalizeRows(b) : b.data;
  let total = 0;
  for (let i = 0; i < a.rows; i++) {
    total += power(squaredDistance(fa, i, fb, i, k));
  }
  return total / a.rows;
}

/**
 * The uniformity of Wang & Isola (2020): the log of the mean Gaussian
 * potential over all pairs of distinct rows,
 *
 *   L_uniform = log( 2 / (N (N − 1)) · Σ_{i<j} exp(−t ‖f_i − f_j‖₂²) ),
 *
 * with features l2-normalized first unless `normalize: false`. On the
 * unit sphere it lies in [−4t, 0]: 0 for collapsed features, lower for
 * features spread out. Computed as a streaming log-sum-exp in float64
 * (no underflow, even unnormalized), deterministic.
 *
 * LIMITATION: the sweep runs over all N (N − 1) / 2 pairs on one thread
 * in plain TypeScript (about 1 GFLOP/s, so a few seconds at N = 10,000,
 * k = 128); for larger sets, evaluate it on a random subset of rows.
 *
 * @param x N × k features, N ≥ 2.
 * @param options `t` (default 2), `normalize` (default true),
 *   `blockSize` (default 256).
 * @throws ConfigError for N < 2 or a bad option; NumericalError on
 *   NaN/Inf features.
 */
export function uniformity(
  x: FeatureMatrix,
  options: UniformityOptions = {},
): number {
  const fn = "uniformity";
  const t = options.t ?? 2;
  if (!(t > 0) || !Number.isFinite(t)) {
    throw new ConfigError(`${fn}: t must be finite and > 0, got ${t}`);
  }
  const blockSize = options.blockSize ?? 256;
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new ConfigError(
      `${fn}: blockSize must be a positive integer, got ${blockSize}`,
    );
  }
  const a = readMatrix(fn, "x", x);
  const n = a.rows;
  const k = a.cols;
  if (n < 2) {
    throw new ConfigError(`${fn}: expected at least 2 rows, got ${n}`);
  }
  const f = (options.normalize ?? true) ? normalizeRows(a) : a.data;

  // squared norms, so that ‖f_i − f_j‖² = ‖f_i‖² + ‖f_j‖² − 2 f_i·f_j
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += f[i * k + c] * f[i * k + c];
    norms[i] = s;
  }

  // log Σ exp(v) over pairs as (shift, sum): Σ = exp(shift) · sum
  let shift = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (let i0 = 0; i0 < n; i0 += blockSize) {
    const i1 = Math.min(i0 + blockSize, n);
    for (let j0 = i0; j0 < n; j0 += blockSize) {
      const j1 = Math.min(j0 + blockSize, n);
      for (let i = i0; i < i1; i++) {
        const bi = i * k;
        for (let j = Math.max(j0, i + 1); j < j1; j++) {
          const bj = j * k;
          let dot = 0;
          for (let c = 0; c < k; c++) dot += f[bi + c] * f[bj + c];
          const sq = Math.max(norms[i] + norms[j] - 2 * dot, 0);
          const v = -t * sq;
          if (v > shift) {
            sum = sum * Math.exp(shift - v) + 1;
            shift = v;
          } else {
            sum += Math.exp(v - shift);
          }
        }
      }
    }
  }
  const pairs = (n * (n - 1)) / 2;
  return shift + Math.log(sum / pairs);
}

/** ‖a_i − b_j‖² for rows of two row-major arrays with k columns. */
function squaredDistance(
  a: ArrayLike<number>,
  i: number,
  b: ArrayLike<number>,
  j: number,
  k: number,
): number {
  let s = 0;
  for (let c = 0; c < k; c++) {
    const d = a[i * k + c] - b[j * k + c];
    s += d * d;
  }
  return s;
}
