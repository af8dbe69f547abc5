/**
 * Dirichlet energy of node features on a graph: how much the features
 * vary across edges. Oversmoothing, and the collapse that alignment alone
 * produces, drive it to zero.
 *
 * The degree-normalized form follows C. Cai and Y. Wang, "A note on
 * over-smoothing for graph neural networks", ICML GRL+ workshop 2020
 * (their E(X) = tr(Xᵀ Δ̃ X) with the augmented normalized Laplacian
 * Δ̃ = I − D̃^-1/2 (A + I) D̃^-1/2, D̃ = D + I), also used by T. K. Rusch,
 * M. M. Bronstein and S. Mishra, "A survey on oversmoothing in graph
 * neural networks", 2023.
 */

import { ConfigError, NumericalError, ShapeError } from "../errors.js";
import type { Graph } from "../graph/graph.js";
import { type FeatureMatrix, readMatrix } from "./matrix.js";

/** Options of {@link dirichletEnergy}. */
export interface DirichletEnergyOptions {
  /**
   * `true` (the default): the degree-normalized energy of Cai & Wang,
   * `½ Σ w_ij ‖x_i/√(1+d_i) − x_j/√(1+d_j)‖²`. `false`: the plain energy
   * `½ Σ w_ij ‖x_i − x_j‖²`, which is `tr(Xᵀ L X)` for the combinatorial
   * Laplacian L = D − A of a symmetric graph.
   */
  normalized?: boolean;
}

/**
 * The Dirichlet energy of features X on a graph,
 *
 *   normalized (default): E(X) = ½ Σ_(j→i) w_ij ‖x_i/√(1+d_i) − x_j/√(1+d_j)‖²
 *   normalized: false:    E(X) = ½ Σ_(j→i) w_ij ‖x_i − x_j‖²
 *
 * summed over the stored directed edges j → i with their weights w_ij
 * (1 when unweighted), so that each undirected edge, stored as two
 * directed ones, counts once. d_i is the weighted in-degree of node i
 * without self-loops, so the "1 +" stands for the self-loop that GCN
 * adds: the result is the same whether or not the graph already carries
 * self-loops (whose terms are zero). For a symmetric graph without
 * self-loops the normalized energy equals `tr(Xᵀ Δ̃ X)`, with
 * Δ̃ = I − D̃^-1/2 (A + I) D̃^-1/2 and D̃ = D + I.
 *
 * Float64 accumulation, O(E k) time, O(N) extra memory.
 *
 * @param graph N nodes; negative weights are accepted as long as
 *   1 + d_i > 0 for the normalized energy (else NumericalError).
 * @param x N × k features (row i belongs to node i).
 * @param options `normalized`, default true.
 * @throws ShapeError when x does not have N rows; NumericalError on
 *   NaN/Inf features.
 */
export function dirichletEnergy(
  graph: Graph,
  x: FeatureMatrix,
  options: DirichletEnergyOptions = {},
): number {
  const fn = "dirichletEnergy";
  const normalized = options.normalized ?? true;
  if (typeof normalized !== "boolean") {
    throw new ConfigError(
      `${fn}: normalized must be a boolean, got ${String(normalized)}`,
    );
  }
  const { data, rows, cols: k } = readMatrix(fn, "x", x);
  const n = graph.numNodes;
  if (rows !== n) {
    throw new ShapeError(
      `${fn}: x must have one row per node (${n}), got ${rows} rows`,
    );
  }
  const { rowPtr, colIdx, weights } = graph;

  // the scale of each node: 1/√(1 + d_i), d_i without self-loops
  const scale = new Float64Array(n).fill(1);
  if (normalized) {
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
        if (colIdx[e] !== i) d += weights === null ? 1 : weights[e];
      }
      if (!(1 + d > 0)) {
        throw new NumericalError(
          `${fn}: expected 1 + d_i > 0 for every node, got d_${i} = ${d} ` +
            "(negative weights)",
        );
      }
      scale[i] = 1 / Math.sqrt(1 + d);
    }
  }

  // half the weighted sum of squared differences over the stored edges
  let energy = 0;
  for (let i = 0; i < n; i++) {
    const si = scale[i];
    const bi = i * k;
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      const j = colIdx[e];
      if (j === i) continue;
      const sj = scale[j];
      const bj = j * k;
      let sq = 0;
      for (let c = 0; c < k; c++) {
        const diff = data[bi + c] * si - data[bj + c] * sj;
        sq += diff * diff;
      }
      energy += (weights === null ? 1 : weights[e]) * sq;
    }
  }
  return energy / 2;
}
