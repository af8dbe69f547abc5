/**
 * DropEdge: keep each edge of a graph independently with probability
 * 1 − rate, following Rong, Huang, Xu & Huang, "DropEdge: Towards Deep
 * Graph Convolutional Networks on Node Classification" (ICLR 2020). Used
 * as a training-time regularizer of GNNs and as an edge-dropping
 * augmentation of graph contrastive learning (GRACE, GraphCL).
 */

import { ConfigError } from "../../errors.js";
import { type RandomOptions, resolveRandom } from "../../random.js";
import { countingOrder, Graph } from "../graph.js";
import { isSymmetric } from "../transforms.js";

/** Options of {@link dropEdge}. */
export interface DropEdgeOptions extends RandomOptions {
  /**
   * Draw one decision per unordered pair {i, j}, so that i → j, j → i and
   * any duplicates of them are kept or dropped together (true), or one
   * decision per directed edge (false). Default: true when the graph is
   * structurally symmetric (every i → j has a j → i, weights ignored),
   * false otherwise; a symmetric graph thus stays symmetric.
   */
  symmetric?: boolean;
  /**
   * Keep every self-loop i → i and draw only for the other edges (default
   * false: a self-loop is dropped with probability `rate` like any edge).
   */
  keepSelfLoops?: boolean;
}

/**
 * DropEdge (Rong et al. 2020): a random subgraph of `graph` on the same
 * N nodes in which every edge survives with probability `1 − rate`,
 * independently. Kept edges keep their weights and their CSR order; an
 * unweighted graph stays unweighted. Weights are not rescaled by
 * `1 / (1 − rate)`: as in the paper, the caller renormalizes the dropped
 * adjacency (e.g. `normalize(addSelfLoops(g), "sym")`).
 *
 * Draws: with `symmetric: false`, one uniform `u` per edge in CSR order;
 * with `symmetric: true`, one per unordered pair in increasing
 * (min(i, j), max(i, j)) order. The edge (or pair) is kept when
 * `u >= rate`, so `rate = 0` keeps everything and `rate = 1` drops every
 * edge (except loops with `keepSelfLoops`). The same seed gives the same
 * graph.
 *
 * @param graph - the input graph; not changed.
 * @param rate - the drop probability, in [0, 1].
 * @param options - see {@link DropEdgeOptions}; `seed` defaults to 0.
 * @returns a new graph with N nodes and a subset of the edges.
 * @throws ConfigError for a rate outside [0, 1] or not a number.
 */
export function dropEdge(
  graph: Graph,
  rate: number,
  options: DropEdgeOptions = {},
): Graph {
  const fn = "dropEdge";
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) {
    throw new ConfigError(`${fn}: rate must be in [0, 1], got ${rate}`);
  }
  const random = resolveRandom(options);
  const symmetric = options.symmetric ?? isSymmetric(graph.withWeights(null));
  const keepSelfLoops = options.keepSelfLoops ?? false;
  const n = graph.numNodes;
  const m = graph.numEdges;
  const { rowPtr, colIdx } = graph;
  const dst = graph.dst;

  // first we draw whether each edge survives
  const keep = new Uint8Array(m);
  if (!symmetric) {
    for (let e = 0; e < m; e++) {
      const loop = colIdx[e] === dst[e];
      if (loop && keepSelfLoops) keep[e] = 1;
      else keep[e] = random() >= rate ? 1 : 0;
    }
  } else {
    // NOTE: sorting the edges by (lo, hi) = (min, max) of their endpoints
    // puts both directions and all duplicates of a pair in one run, so a
    // single draw per run decides them all
    const lo = new Int32Array(m);
    const hi = new Int32Array(m);
    for (let e = 0; e < m; e++) {
      lo[e] = Math.min(colIdx[e], dst[e]);
      hi[e] = Math.max(colIdx[e], dst[e]);
    }
    const order = countingOrder(lo, n, countingOrder(hi, n, null));
    let k = 0;
    while (k < m) {
      const first = order[k];
      let end = k + 1;
      while (
        end < m &&
        lo[order[end]] === lo[first] &&
        hi[order[end]] === hi[first]
      ) {
        end++;
      }
      const loop = lo[first] === hi[first];
      const kept = loop && keepSelfLoops ? 1 : random() >= rate ? 1 : 0;
      for (; k < end; k++) keep[order[k]] = kept;
    }
  }

  // then we copy the kept edges, row by row, in CSR order
  const newRowPtr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    let count = 0;
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) count += keep[e];
    newRowPtr[i + 1] = newRowPtr[i] + count;
  }
  const outCol = new Int32Array(newRowPtr[n]);
  const weights = graph.weights;
  const outW = weights === null ? null : new Float32Array(outCol.length);
  let k = 0;
  for (let e = 0; e < m; e++) {
    if (keep[e] === 0) continue;
    outCol[k] = colIdx[e];
    if (outW !== null) outW[k] = (weights as Float32Array)[e];
    k++;
  }
  return Graph.fromCSR(newRowPtr, outCol, outW, {
    allowNegativeWeights: true,
  });
}
