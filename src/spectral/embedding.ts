/**
 * Spectral embedding of a graph: the top-k eigenvectors of its normalized
 * adjacency Ā = D^-1/2 A D^-1/2. In the theory of contrastive learning as
 * message passing, the stable fixed points of training satisfy
 * F Fᵀ = U_k Λ_k U_kᵀ with U_k these eigenvectors, so the embedding is
 * what trained features are compared with (see `subspace.ts`).
 *
 * Follows A. Y. Ng, M. I. Jordan and Y. Weiss, "On spectral clustering:
 * analysis and an algorithm", NIPS 2001 (top eigenvectors of
 * D^-1/2 A D^-1/2, optional row normalization), and J. Z. HaoChen, C. Wei,
 * A. Gaidon and T. Ma, "Provable guarantees for self-supervised deep
 * learning with spectral contrastive loss", NeurIPS 2021 (the features
 * f(x) = D_x^-1/2 · row x of U_k, option `degreeScaled`). The eigenpairs
 * come from `eigsh`.
 */

import { ConfigError } from "../errors.js";
import type { Graph } from "../graph/graph.js";
import { type EigshOptions, eigsh } from "./eigsh.js";
import type { DenseMatrix } from "./matrix.js";
import { normalizedAdjacencyOperator } from "./operators.js";

/** Options of {@link spectralEmbedding}. */
export interface SpectralEmbeddingOptions {
  /** Convergence tolerance of `eigsh` (default 1e-8, its default). */
  tol?: number;
  /** Seed of `eigsh`'s random start (default 0). */
  seed?: number;
  /** Restart cycles allowed to `eigsh` (default 1000, its default). */
  maxIterations?: number;
  /** Solver choice passed to `eigsh` (default `"auto"`). */
  method?: EigshOptions["method"];
  /**
   * Multiply row i by `d_i^-1/2` (0 for an isolated node): the feature
   * matrix F_f = D^-1/2 U_k whose degree-scaled form D^1/2 F_f is U_k
   * (default false).
   */
  degreeScaled?: boolean;
  /**
   * Scale every row to unit length after the other steps, as Ng, Jordan
   * and Weiss do before k-means; an all-zero row stays zero (default
   * false).
   */
  normalizeRows?: boolean;
  /**
   * Whether to check that the graph is undirected (default true; see
   * `normalizedAdjacencyOperator`).
   */
  checkSymmetry?: boolean;
}

/** What {@link spectralEmbedding} returns. */
export interface SpectralEmbedding {
  /** The k largest eigenvalues of Ā, descending. */
  values: Float64Array;
  /**
   * N × k row-major, float64: column j belongs to `values[j]`. Without
   * options, the columns are orthonormal unit eigenvectors; signs are
   * fixed so that the entry of largest magnitude of each column is
   * positive (the basis within a repeated eigenvalue stays arbitrary).
   */
  embedding: DenseMatrix;
  /** `‖Ā u_j − λ_j u_j‖₂` of each eigenpair, before any scaling. */
  residuals: Float64Array;
}

/**
 * The spectral embedding of an undirected graph: the eigenvectors
 * u_1, …, u_k of the k largest eigenvalues λ_1 ≥ … ≥ λ_k of
 * Ā = D^-1/2 A D^-1/2 (isolated nodes: zero row and column of Ā), stacked
 * as the columns of an N × k matrix U_k, optionally degree-scaled
 * (`D^-1/2 U_k`) and row-normalized.
 *
 * A graph with c components has λ = 1 c times, so for k ≤ c the
 * embedding is a basis of the component indicators (scaled by √d); ask
 * for k past the eigengap you care about (see `eigengap`).
 *
 * @param graph an undirected graph with N nodes (every edge stored both
 *   ways with the same weight), non-negative weights.
 * @param k number of eigenvectors, 1 ≤ k ≤ N.
 * @param options see {@link SpectralEmbeddingOptions}.
 * @throws ConfigError for a bad k or option; GraphError for a directed
 *   graph; EigshConvergenceError (a NumericalError) when `eigsh` does
 *   not converge.
 */
export function spectralEmbedding(
  graph: Graph,
  k: number,
  options: SpectralEmbeddingOptions = {},
): SpectralEmbedding {
  const fn = "spectralEmbedding";
  const n = graph.numNodes;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new ConfigError(
      `${fn}: k must be an integer in [1, N = ${n}], got ${k}`,
    );
  }
  const op = normalizedAdjacencyOperator(graph, {
    checkSymmetry: options.checkSymmetry ?? true,
  });
  const result = eigsh(op, k, {
    which: "LA",
    tol: options.tol,
    seed: options.seed,
    maxIterations: options.maxIterations,
    method: options.method,
  });
  const data = result.vectors.slice();

  // deterministic signs: the largest entry of each column is positive
  for (let j = 0; j < k; j++) {
    let best = 0;
    for (let i = 0; i < n; i++) {
      const v = data[i * k + j];
      if (Math.abs(v) > Math.abs(best)) best = v;
    }
    if (best < 0) {
      for (let i = 0; i < n; i++) data[i * k + j] = -data[i * k + j];
    }
  }

  // optional scalings, in the documented order
  if (options.degreeScaled ?? false) {
    const degree = graph.inDegrees();
    for (let i = 0; i < n; i++) {
      const s = degree[i] > 0 ? 1 / Math.sqrt(degree[i]) : 0;
      for (let j = 0; j < k; j++) data[i * k + j] *= s;
    }
  }
  if (options.normalizeRows ?? false) {
    for (let i = 0; i < n; i++) {
      let sq = 0;
      for (let j = 0; j < k; j++) sq += data[i * k + j] ** 2;
      const inv = 1 / Math.max(Math.sqrt(sq), 1e-12);
      for (let j = 0; j < k; j++) data[i * k + j] *= inv;
    }
  }
  return {
    values: result.values,
    embedding: { data, rows: n, cols: k },
    residuals: result.residuals,
  };
}
