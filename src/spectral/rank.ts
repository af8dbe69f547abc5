/**
 * Singular values and rank measures of an N × k feature matrix: how many
 * directions the features really use, the quantity that dimensional
 * collapse shrinks.
 *
 * Effective rank follows O. Roy and M. Vetterli, "The effective rank: a
 * measure of effective dimensionality", EUSIPCO 2007 (the exponential of
 * the entropy of the normalized singular values); numerical rank follows
 * the convention of NumPy's `matrix_rank` (Golub & Van Loan §5.4.1).
 */

import { ConfigError } from "../errors.js";
import { symmetricEigenvalues } from "./dense.js";
import {
  columnSingularValues,
  type FeatureMatrix,
  gramMatrix,
  readMatrix,
  toColumns,
} from "./matrix.js";

/** How singular values are computed. */
export type SingularValueMethod = "gram" | "qr";

/** Options of {@link singularValues} and the rank measures. */
export interface SingularValueOptions {
  /**
   * `"gram"`: square roots of the eigenvalues of the k × k Gram matrix
   * XᵀX (float64): O(N k²) time, O(k²) extra memory, but every σ below
   * about `1e-8 · σ_max` (√eps) is lost in rounding.
   * `"qr"`: Householder QR of X, then the singular values of the small
   * triangular factor: about twice the time and an N × k float64 copy,
   * accurate to about `k · eps · σ_max` for every σ.
   * Default `"gram"` for {@link singularValues} and {@link effectiveRank},
   * `"qr"` for {@link numericalRank}, whose threshold lies far below √eps.
   */
  method?: SingularValueMethod;
}

/** Options of {@link numericalRank}. */
export interface NumericalRankOptions extends SingularValueOptions {
  /**
   * Relative threshold: σ counts when `σ > tolerance · σ_max`. Default
   * `max(N, k) · eps` with eps = 2^−52.
   */
  tolerance?: number;
}

/**
 * The min(N, k) singular values of an N × k matrix X, descending
 * (float64, non-negative).
 *
 * @param x N × k feature matrix.
 * @param options `method` (default `"gram"`), see
 *   {@link SingularValueOptions}.
 * @throws ShapeError on an inconsistent shape; NumericalError on NaN/Inf.
 */
export function singularValues(
  x: FeatureMatrix,
  options: SingularValueOptions = {},
): Float64Array {
  return singularValuesOf("singularValues", x, options.method ?? "gram");
}

/**
 * The effective rank of Roy & Vetterli (2007),
 *
 *   erank(X) = exp( −Σ_i p_i log p_i ),   p_i = σ_i / Σ_j σ_j,
 *
 * a real number in [1, min(N, k)]: 1 when X has rank one, min(N, k) when
 * all singular values are equal. Defined as 0 for the zero matrix.
 *
 * @param x N × k feature matrix.
 * @param options `method` (default `"gram"`: singular values below
 *   √eps · σ_max weigh less than 1e-8 in the entropy anyway).
 */
export function effectiveRank(
  x: FeatureMatrix,
  options: SingularValueOptions = {},
): number {
  const sigma = singularValuesOf("effectiveRank", x, options.method ?? "gram");
  return effectiveRankOfValues(sigma);
}

/**
 * {@link effectiveRank} from given singular values (any order, all ≥ 0):
 * `exp(−Σ p_i log p_i)` with `p_i = σ_i / Σσ` and `0 log 0 = 0`; 0 when
 * every σ is 0.
 *
 * @throws ConfigError for a negative or non-finite value.
 */
export function effectiveRankOfValues(sigma: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < sigma.length; i++) {
    const s = sigma[i];
    if (!(s >= 0) || !Number.isFinite(s)) {
      throw new ConfigError(
        `effectiveRankOfValues: expected finite singular values >= 0, ` +
          `got ${s} at ${i}`,
      );
    }
    total += s;
  }
  if (total === 0) return 0;
  let entropy = 0;
  for (let i = 0; i < sigma.length; i++) {
    const p = sigma[i] / total;
    if (p > 0) entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}

/**
 * The numerical rank of an N × k matrix: the number of singular values
 * `σ_i > tolerance · σ_max` (0 for the zero matrix).
 *
 * @param x N × k feature matrix.
 * @param options `tolerance` (default `max(N, k) · eps`), `method`
 *   (default `"qr"`; with `"gram"` singular values below √eps · σ_max are
 *   rounding noise, so use a tolerance above 1e-7 with it).
 * @throws ConfigError for a negative tolerance.
 */
export function numericalRank(
  x: FeatureMatrix,
  options: NumericalRankOptions = {},
): number {
  const fn = "numericalRank";
  const sigma = singularValuesOf(fn, x, options.method ?? "qr");
  const { rows, cols } = readShape(x);
  const tolerance = options.tolerance ?? Math.max(rows, cols) * Number.EPSILON;
  if (!(tolerance >= 0)) {
    throw new ConfigError(
      `${fn}: tolerance must be >= 0, got ${options.tolerance}`,
    );
  }
  if (sigma.length === 0 || sigma[0] === 0) return 0;
  const threshold = tolerance * sigma[0];
  let rank = 0;
  while (rank < sigma.length && sigma[rank] > threshold) rank++;
  return rank;
}

/** Rows and columns of a feature matrix without reading its data. */
function readShape(x: FeatureMatrix): { rows: number; cols: number } {
  if ("shape" in x) return { rows: x.shape[0], cols: x.shape[1] };
  return { rows: x.rows, cols: x.cols };
}

/** Shared driver of the singular value computations. */
function singularValuesOf(
  fn: string,
  x: FeatureMatrix,
  method: SingularValueMethod,
): Float64Array {
  if (method !== "gram" && method !== "qr") {
    throw new ConfigError(
      `${fn}: method must be "gram" or "qr", got ${String(method)}`,
    );
  }
  const mat = readMatrix(fn, "x", x);
  const { rows: n, cols: k } = mat;
  const m = Math.min(n, k);

  // Gram route: eigenvalues of XᵀX, ascending, clipped at 0
  if (method === "gram") {
    const lambda = symmetricEigenvalues(gramMatrix(mat), k);
    const sigma = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      sigma[i] = Math.sqrt(Math.max(lambda[k - 1 - i], 0));
    }
    return sigma;
  }

  // QR route; NOTE: row-major X is Xᵀ stored by columns, so a wide X
  // (N < k) is factored as its transpose without a copy in another order
  if (n >= k) return columnSingularValues(toColumns(mat), n, k);
  return columnSingularValues(Float64Array.from(mat.data), k, n);
}
