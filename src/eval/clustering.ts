/**
 * Agreement between two labelings of the same items (clusters against
 * classes, or two clusterings): normalized mutual information and the
 * adjusted Rand index. Both are invariant to renaming the labels.
 *
 * NMI with the arithmetic-mean normalization of A. Strehl and J. Ghosh,
 * "Cluster ensembles", JMLR 3, 2002 (also the default of scikit-learn's
 * `normalized_mutual_info_score`, whose conventions for degenerate cases
 * are followed). ARI of L. Hubert and P. Arabie, "Comparing partitions",
 * J. Classification 2, 1985.
 */

import { ConfigError, ShapeError } from "../errors.js";

/**
 * The contingency table of two labelings over the items where both
 * labels are ≥ 0: counts per (a-label, b-label) pair and the marginals.
 */
interface Contingency {
  /** Number of items kept. */
  total: number;
  /** Non-zero cell counts n_ij. */
  cells: number[];
  /** Items per label of the first labeling, a_i. */
  rowSums: number[];
  /** Items per label of the second labeling, b_j. */
  colSums: number[];
}

/**
 * The normalized mutual information of two labelings, arithmetic
 * normalization:
 *
 *   NMI(a, b) = I(a; b) / ((H(a) + H(b)) / 2),
 *
 * with I the mutual information and H the entropy of the empirical
 * distributions (the log base cancels). In [0, 1]: 1 when the labelings
 * agree up to renaming, near 0 when they are independent. Conventions
 * (those of scikit-learn): 1 when both labelings put all items in a single
 * label; 0 when I = 0 otherwise.
 *
 * Items whose label is negative (−1: unlabelled) in either labeling are
 * ignored; the others must be integers.
 *
 * @param a N labels (integers; negative means ignore the item).
 * @param b N labels of the same items.
 * @throws ShapeError when the lengths differ; ConfigError for a
 *   non-integer label or when no item has both labels.
 */
export function normalizedMutualInfo(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): number {
  const fn = "normalizedMutualInfo";
  const t = contingency(fn, a, b);

  // degenerate case: nothing is split on either side
  if (t.rowSums.length === 1 && t.colSums.length === 1) return 1;

  // I(a; b) = Σ_ij (n_ij / n) log(n n_ij / (a_i b_j))
  //         = H(a) + H(b) − H(a, b)
  const n = t.total;
  const entropyOf = (counts: number[]): number => {
    let h = 0;
    for (const c of counts) h -= (c / n) * Math.log(c / n);
    return h;
  };
  const ha = entropyOf(t.rowSums);
  const hb = entropyOf(t.colSums);
  const hab = entropyOf(t.cells);
  const mi = Math.max(ha + hb - hab, 0);
  if (mi === 0) return 0;
  return Math.min(mi / ((ha + hb) / 2), 1);
}

/**
 * The adjusted Rand index of two labelings: the Rand index (fraction of
 * item pairs on which the labelings agree, together or apart) corrected
 * for chance under the permutation model,
 *
 *   ARI = (Σ_ij C(n_ij, 2) − E) / ((Σ_i C(a_i, 2) + Σ_j C(b_j, 2)) / 2 − E),
 *   E   = Σ_i C(a_i, 2) · Σ_j C(b_j, 2) / C(n, 2),
 *
 * n_ij the contingency counts and a_i, b_j its marginals. 1 for labelings
 * equal up to renaming, about 0 for independent ones, negative below
 * chance. When the denominator is 0 (both labelings all in one label, or
 * both all singletons, or a single item) the labelings agree and the
 * result is 1.
 *
 * Items whose label is negative in either labeling are ignored.
 *
 * @param a N labels (integers; negative means ignore the item).
 * @param b N labels of the same items.
 * @throws ShapeError when the lengths differ; ConfigError for a
 *   non-integer label or when no item has both labels.
 */
export function adjustedRandIndex(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): number {
  const t = contingency("adjustedRandIndex", a, b);
  const pairs = (m: number): number => (m * (m - 1)) / 2;
  const sum = (counts: number[]): number => {
    let s = 0;
    for (const c of counts) s += pairs(c);
    return s;
  };
  const index = sum(t.cells);
  const sumA = sum(t.rowSums);
  const sumB = sum(t.colSums);
  const totalPairs = pairs(t.total);
  if (totalPairs === 0) return 1;
  const expected = (sumA * sumB) / totalPairs;
  const maximum = (sumA + sumB) / 2;
  if (maximum === expected) return 1;
  return (index - expected) / (maximum - expected);
}

/** Check two labelings and count their contingency table. */
function contingency(
  fn: string,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): Contingency {
  if (a.length !== b.length) {
    throw new ShapeError(
      `${fn}: expected two labelings of the same length, got ${a.length} ` +
        `and ${b.length}`,
    );
  }
  const rows = new Map<number, number>();
  const cols = new Map<number, number>();
  const cellCounts = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < a.length; i++) {
    const la = a[i];
    const lb = b[i];
    if (!Number.isInteger(la) || !Number.isInteger(lb)) {
      throw new ConfigError(
        `${fn}: expected integer labels, got ${la} and ${lb} at item ${i}`,
      );
    }
    if (la < 0 || lb < 0) continue;
    total++;
    rows.set(la, (rows.get(la) ?? 0) + 1);
    cols.set(lb, (cols.get(lb) ?? 0) + 1);
    const key = `${la},${lb}`;
    cellCounts.set(key, (cellCounts.get(key) ?? 0) + 1);
  }
  if (total === 0) {
    throw new ConfigError(
      `${fn}: expected at least one item labelled (>= 0) in both ` +
        `labelings, got none of ${a.length}`,
    );
  }
  return {
    total,
    cells: [...cellCounts.values()],
    rowSums: [...rows.values()],
    colSums: [...cols.values()],
  };
}
