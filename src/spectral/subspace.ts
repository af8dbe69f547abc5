/**
 * Angles and distances between subspaces of R^N, each given by a spanning
 * N × k matrix (a feature matrix, or the eigenvectors of an eigenspace):
 * the test of the theory's claim that trained features span the top-k
 * eigenspace of the normalized augmentation graph.
 *
 * Principal angles follow A. V. Knyazev and M. E. Argentati, "Principal
 * angles between subspaces in an A-based scalar product: algorithms and
 * perturbation estimates", SIAM J. Sci. Comput. 23(6), 2002: cosines from
 * the singular values of Q_Uᵀ Q_V, sines from those of (I − Q_U Q_Uᵀ) Q_V,
 * each used where it is accurate (sines for angles below π/4), so that
 * small angles are exact to about eps rather than √eps.
 */

import { NumericalError, ShapeError } from "../errors.js";
import {
  columnSingularValues,
  type DenseMatrix,
  type FeatureMatrix,
  householderQ,
  householderQR,
  readMatrix,
  toColumns,
  triangularSingularValues,
} from "./matrix.js";

/** Options of {@link orthonormalize}, {@link principalAngles} and
 * {@link subspaceDistance}. */
export interface SubspaceOptions {
  /**
   * A spanning matrix counts as rank-deficient when its smallest singular
   * value is at most `rankTolerance · σ_max`. Default `max(N, k) · eps`
   * (eps = 2^−52), as NumPy's `matrix_rank`.
   */
  rankTolerance?: number;
}

/** An orthonormal basis stored by columns (column j at `q[j * n ..]`). */
interface Basis {
  q: Float64Array;
  n: number;
  k: number;
}

/**
 * An orthonormal basis Q (N × k, row-major float64, `QᵀQ = I` to working
 * precision) of the column span of an N × k matrix X of full column rank,
 * by Householder QR: X = Q R with R upper triangular, so column j of Q
 * spans the same space as the first j + 1 columns of X.
 *
 * @param x N × k spanning matrix, k ≤ N.
 * @throws ShapeError when k > N.
 * @throws NumericalError on NaN/Inf entries, or when X is rank-deficient
 *   (see {@link SubspaceOptions.rankTolerance}).
 */
export function orthonormalize(
  x: FeatureMatrix,
  options: SubspaceOptions = {},
): DenseMatrix {
  const { q, n, k } = basisOf("orthonormalize", "x", x, options);
  const data = new Float64Array(n * k);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < n; i++) data[i * k + j] = q[j * n + i];
  }
  return { data, rows: n, cols: k };
}

/**
 * The principal angles `0 ≤ θ_1 ≤ … ≤ θ_m ≤ π/2` (radians, ascending)
 * between the column spans U and V of two matrices with N rows, with
 * m = min(k_U, k_V): `cos θ_i` is the i-th singular value of `Q_Uᵀ Q_V`.
 * θ = 0 for a direction the subspaces share, π/2 for one orthogonal to
 * the other. The bases need not be orthonormal: they are orthonormalised
 * internally (float64).
 *
 * Accuracy: each angle to about `k · eps` in absolute terms, small ones
 * included.
 *
 * @param u N × k_U spanning matrix of full column rank.
 * @param v N × k_V spanning matrix of full column rank.
 * @throws ShapeError when the row counts differ or some k exceeds N.
 * @throws NumericalError on NaN/Inf entries or a rank-deficient input.
 */
export function principalAngles(
  u: FeatureMatrix,
  v: FeatureMatrix,
  options: SubspaceOptions = {},
): Float64Array {
  const { cosines, sines } = anglesParts("principalAngles", u, v, options);
  const m = cosines.length;
  const angles = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    // cosines descend and sines ascend: entry i of each belongs to θ_i
    const c = Math.min(cosines[i], 1);
    const s = Math.min(sines[i], 1);
    angles[i] = c * c >= 0.5 ? Math.asin(s) : Math.acos(c);
  }
  return angles;
}

/**
 * The distance between the column spans U and V of two matrices with N
 * rows, defined through the orthogonal projectors onto them:
 *
 *   d(U, V) = ‖P_U − P_V‖_F / √2
 *           = sqrt( |k_U − k_V| / 2 + Σ_i sin² θ_i ),
 *
 * θ_i the principal angles. For subspaces of equal dimension k it is
 * `sqrt(Σ sin² θ_i)`, in [0, √k]: 0 for the same subspace, 1 for one
 * direction turned by a right angle. (The other common distance, the
 * sine of the largest angle, equals ‖P_U − P_V‖₂ and is
 * `Math.sin(principalAngles(u, v).at(-1))`.) Computed as
 * `‖(I − P_U) Q_V‖_F` without forming any N × N matrix, so it is exact to
 * about `k · eps` in absolute terms.
 *
 * @param u N × k_U spanning matrix of full column rank.
 * @param v N × k_V spanning matrix of full column rank.
 * @throws ShapeError when the row counts differ or some k exceeds N.
 * @throws NumericalError on NaN/Inf entries or a rank-deficient input.
 */
export function subspaceDistance(
  u: FeatureMatrix,
  v: FeatureMatrix,
  options: SubspaceOptions = {},
): number {
  const fn = "subspaceDistance";
  const { big, small } = orderedBases(fn, u, v, options);
  const w = residual(big, small, cross(big, small));
  let sq = 0;
  for (let i = 0; i < w.length; i++) sq += w[i] * w[i];
  return Math.sqrt((big.k - small.k) / 2 + sq);
}

/** The orthonormal bases of u and v, the one of larger dimension first. */
function orderedBases(
  fn: string,
  u: FeatureMatrix,
  v: FeatureMatrix,
  options: SubspaceOptions,
): { big: Basis; small: Basis } {
  const bu = basisOf(fn, "u", u, options);
  const bv = basisOf(fn, "v", v, options);
  if (bu.n !== bv.n) {
    throw new ShapeError(
      `${fn}: u and v must have the same number of rows, got ${bu.n} and ` +
        `${bv.n}`,
    );
  }
  return bu.k >= bv.k ? { big: bu, small: bv } : { big: bv, small: bu };
}

/**
 * Cosines (descending) and sines (ascending) of the principal angles.
 *
 * NOTE: with k_U ≥ k_V, the singular values of `M = Q_Uᵀ Q_V` are the k_V
 * cosines, and `WᵀW = I − MᵀM` for `W = Q_V − Q_U M`, so the singular
 * values of W are the k_V sines of the same angles.
 */
function anglesParts(
  fn: string,
  u: FeatureMatrix,
  v: FeatureMatrix,
  options: SubspaceOptions,
): { cosines: Float64Array; sines: Float64Array } {
  const { big, small } = orderedBases(fn, u, v, options);
  const m = cross(big, small);
  const w = residual(big, small, m);
  const cosines = columnSingularValues(m, big.k, small.k);
  const sines = columnSingularValues(w, big.n, small.k);
  sines.reverse();
  return { cosines, sines };
}

/** `M = Q_bigᵀ Q_small` (k_big × k_small), stored by columns. */
function cross(big: Basis, small: Basis): Float64Array {
  const n = big.n;
  const m = new Float64Array(big.k * small.k);
  for (let b = 0; b < small.k; b++) {
    for (let a = 0; a < big.k; a++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += big.q[a * n + i] * small.q[b * n + i];
      m[b * big.k + a] = s;
    }
  }
  return m;
}

/** `W = Q_small − Q_big M` (N × k_small), by columns, M from `cross`. */
function residual(big: Basis, small: Basis, m: Float64Array): Float64Array {
  const n = big.n;
  const w = small.q.slice();
  for (let b = 0; b < small.k; b++) {
    for (let a = 0; a < big.k; a++) {
      const c = m[b * big.k + a];
      if (c === 0) continue;
      for (let i = 0; i < n; i++) w[b * n + i] -= c * big.q[a * n + i];
    }
  }
  return w;
}

/** Orthonormal basis by columns of a spanning matrix, rank checked. */
function basisOf(
  fn: string,
  name: string,
  x: FeatureMatrix,
  options: SubspaceOptions,
): Basis {
  const mat = readMatrix(fn, name, x);
  const n = mat.rows;
  const k = mat.cols;
  if (k > n) {
    throw new ShapeError(
      `${fn}: ${name} must have at most as many columns as rows to span ` +
        `a ${k}-dimensional subspace, got ${n} × ${k}`,
    );
  }
  const tol = options.rankTolerance ?? Math.max(n, k) * Number.EPSILON;
  const a = toColumns(mat);
  const tau = householderQR(a, n, k);
  const sigma = triangularSingularValues(a, n, k);
  if (k > 0 && !(sigma[k - 1] > tol * sigma[0])) {
    throw new NumericalError(
      `${fn}: ${name} must have full column rank ${k}, got smallest ` +
        `singular value ${sigma[k - 1]} <= ${tol} · σ_max (${sigma[0]})`,
    );
  }
  return { q: householderQ(a, tau, n, k), n, k };
}
