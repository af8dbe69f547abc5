/**
 * A monitor of representation collapse: the standard deviation of
 * l2-normalized features, per dimension and averaged. Collapsed features
 * (every sample mapped to the same point) give 0; features spread
 * uniformly over the unit sphere in k dimensions give about 1/√k.
 *
 * Follows X. Chen and K. He, "Exploring simple Siamese representation
 * learning" (SimSiam), CVPR 2021, §4.1 and Fig. 2: the mean over channels
 * of the per-channel std of the l2-normalized output, compared with 1/√k.
 */

import { ConfigError } from "../errors.js";
import { type FeatureMatrix, normalizeRows, readMatrix } from "./matrix.js";

/** Options of {@link normalizedFeatureStd}. */
export interface NormalizedFeatureStdOptions {
  /**
   * Whether each per-dimension std divides by N − 1 (true) or N (false,
   * the default). The difference is negligible for the batch sizes the
   * monitor is used on.
   */
  unbiased?: boolean;
}

/** What {@link normalizedFeatureStd} returns. */
export interface NormalizedFeatureStd {
  /** Mean over the k dimensions of the per-dimension std. */
  std: number;
  /** The std of each dimension of the normalized features (length k). */
  perDimension: Float64Array;
  /**
   * 1/√k: the value of `std` for features spread uniformly over the unit
   * sphere (each coordinate then has mean 0 and variance 1/k).
   */
  reference: number;
}

/**
 * The collapse monitor of SimSiam: rows of X are l2-normalized
 * (`z_i = x_i / max(‖x_i‖, 1e-12)`, a zero row stays zero), then
 *
 *   std = (1/k) Σ_c sqrt( (1/N) Σ_i (z_ic − mean_c)² ),
 *
 * with N − 1 in place of N when `unbiased`. 0 means complete collapse,
 * values near `reference` = 1/√k mean no collapse.
 *
 * @param x N × k features, N ≥ 1 (N ≥ 2 when unbiased), k ≥ 1.
 * @param options `unbiased`, default false.
 * @throws ConfigError for too few rows or no column; ShapeError or
 *   NumericalError for a bad matrix.
 */
export function normalizedFeatureStd(
  x: FeatureMatrix,
  options: NormalizedFeatureStdOptions = {},
): NormalizedFeatureStd {
  const fn = "normalizedFeatureStd";
  const unbiased = options.unbiased ?? false;
  const a = readMatrix(fn, "x", x);
  const { rows: n, cols: k } = a;
  const minRows = unbiased ? 2 : 1;
  if (n < minRows || k < 1) {
    throw new ConfigError(
      `${fn}: expected at least ${minRows} row(s) and 1 column, got ` +
        `${n} × ${k}`,
    );
  }
  const z = normalizeRows(a);

  // two passes per dimension: mean, then the centred sum of squares
  const mean = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) mean[c] += z[i * k + c];
  }
  for (let c = 0; c < k; c++) mean[c] /= n;
  const perDimension = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const d = z[i * k + c] - mean[c];
      perDimension[c] += d * d;
    }
  }
  const denominator = unbiased ? n - 1 : n;
  let std = 0;
  for (let c = 0; c < k; c++) {
    perDimension[c] = Math.sqrt(perDimension[c] / denominator);
    std += perDimension[c];
  }
  return { std: std / k, perDimension, reference: 1 / Math.sqrt(k) };
}
