/**
 * Eigengaps: the distance between consecutive eigenvalues. In the theory
 * of contrastive learning as message passing, the gap λ_k − λ_{k+1} of the
 * normalized augmentation graph Ā sets how fast training reaches its
 * top-k eigenspace (the slowest escape rate is 1 − β (λ_k − λ_{k+1})), and
 * the largest gap of a spectrum is the classical choice of the number of
 * clusters (U. von Luxburg, "A tutorial on spectral clustering",
 * Statistics and Computing 17, 2007, §8.3).
 */

import { ConfigError } from "../errors.js";

/** Options of {@link eigengap} and {@link eigengaps}. */
export interface EigengapOptions {
  /**
   * Which end of the spectrum λ_1, λ_2, … counts from. `"largest"` (the
   * default): λ_1 ≥ λ_2 ≥ …, the order of Ā's top eigenvalues.
   * `"smallest"`: λ_1 ≤ λ_2 ≤ …, the order of a Laplacian's bottom ones.
   */
  which?: "largest" | "smallest";
}

/**
 * The k-th eigengap `|λ_k − λ_{k+1}|` (1-based k) of a list of eigenvalues
 * in any order, sorted from the end `which` names. For Ā and
 * `which: "largest"` it is `λ_k − λ_{k+1}`, the gap below the top-k
 * eigenspace.
 *
 * @param values eigenvalues (at least k + 1 of them, finite).
 * @param k 1 ≤ k < values.length.
 * @param options `which`, default `"largest"`.
 * @throws ConfigError for k out of range or non-finite values.
 */
export function eigengap(
  values: ArrayLike<number>,
  k: number,
  options: EigengapOptions = {},
): number {
  const fn = "eigengap";
  const sorted = sortedValues(fn, values, options);
  if (!Number.isInteger(k) || k < 1 || k >= sorted.length) {
    throw new ConfigError(
      `${fn}: k must be an integer in [1, ${sorted.length - 1}] for ` +
        `${sorted.length} eigenvalues, got ${k}`,
    );
  }
  return Math.abs(sorted[k - 1] - sorted[k]);
}

/**
 * Every consecutive gap: entry i (0-based) is `|λ_{i+1} − λ_{i+2}|` in
 * 1-based terms, i.e. `eigengaps(values)[k − 1] === eigengap(values, k)`.
 * Length `values.length − 1` (empty for fewer than two values).
 *
 * @param values eigenvalues in any order, finite.
 * @param options `which`, default `"largest"`.
 * @throws ConfigError for non-finite values.
 */
export function eigengaps(
  values: ArrayLike<number>,
  options: EigengapOptions = {},
): Float64Array {
  const sorted = sortedValues("eigengaps", values, options);
  const gaps = new Float64Array(Math.max(sorted.length - 1, 0));
  for (let i = 0; i < gaps.length; i++) {
    gaps[i] = Math.abs(sorted[i] - sorted[i + 1]);
  }
  return gaps;
}

/** A sorted float64 copy, largest or smallest first. */
function sortedValues(
  fn: string,
  values: ArrayLike<number>,
  options: EigengapOptions,
): Float64Array {
  const which = options.which ?? "largest";
  if (which !== "largest" && which !== "smallest") {
    throw new ConfigError(
      `${fn}: which must be "largest" or "smallest", got ${String(which)}`,
    );
  }
  const sorted = Float64Array.from(values);
  for (let i = 0; i < sorted.length; i++) {
    if (!Number.isFinite(sorted[i])) {
      throw new ConfigError(
        `${fn}: expected finite eigenvalues, got ${sorted[i]} at ${i}`,
      );
    }
  }
  sorted.sort();
  if (which === "largest") sorted.reverse();
  return sorted;
}
