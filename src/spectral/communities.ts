/**
 * Louvain communities of a graph, seeded: groups of nodes more densely
 * connected inside than modularity's null model predicts. They serve as
 * unsupervised clusters to compare with labels (NMI, ARI) and as a source
 * of new positive edges.
 *
 * Runs `graphology-communities-louvain` (V. D. Blondel, J.-L. Guillaume,
 * R. Lambiotte and E. Lefebvre, "Fast unfolding of communities in large
 * networks", J. Stat. Mech. 2008) on an undirected graphology copy of the
 * graph, with a seeded random generator so that the partition is
 * reproducible. Modularity follows M. E. J. Newman, "Modularity and
 * community structure in networks", PNAS 103, 2006.
 */

import Graphology from "graphology";
import louvainRun from "graphology-communities-louvain";
import { ConfigError } from "../errors.js";
import type { Graph } from "../graph/graph.js";
import { mulberry32 } from "../random.js";

/** Options of {@link louvain}. */
export interface LouvainOptions {
  /**
   * Resolution γ of modularity (default 1): larger values give more and
   * smaller communities.
   */
  resolution?: number;
  /**
   * Seed of the random generator that orders node visits (default 0).
   * The same seed on the same graph gives the same partition.
   */
  seed?: number;
  /**
   * A random generator returning floats in [0, 1), used instead of the
   * seeded one when given (the caller then owns reproducibility).
   */
  rng?: () => number;
  /**
   * Visit nodes in a random order (default true, graphology's default);
   * false visits them in index order.
   */
  randomWalk?: boolean;
}

/** What {@link louvain} returns. */
export interface LouvainCommunities {
  /** Number of communities c. */
  count: number;
  /**
   * Community of every node, in [0, c), numbered in order of first
   * appearance (node 0 is in community 0).
   */
  ids: Int32Array;
  /** Modularity Q of the partition at the given resolution. */
  modularity: number;
}

/**
 * Louvain communities of a graph, its edges read as undirected: the graph
 * is replaced by the symmetric matrix `S = (A + Aᵀ) / 2` (A[i][j] the
 * total weight of the edges j → i), so that a symmetric graph keeps its
 * weights and the two stored directions of an undirected edge make one
 * edge. The partition maximises (greedily) the modularity
 *
 *   Q = (1 / 2m) Σ_ij [S_ij − γ s_i s_j / 2m] δ(c_i, c_j),
 *
 * with s_i = Σ_j S_ij and 2m = Σ_ij S_ij; a self-loop of weight w adds w
 * to S_ii and to s_i. Isolated nodes end up alone.
 *
 * @param graph N nodes, non-negative weights (1 when unweighted).
 * @param options `resolution` (default 1), `seed` (default 0), `rng`,
 *   `randomWalk` (default true).
 * @throws ConfigError for a bad option or negative weights.
 */
export function louvain(
  graph: Graph,
  options: LouvainOptions = {},
): LouvainCommunities {
  const fn = "louvain";
  const resolution = options.resolution ?? 1;
  if (!(resolution > 0) || !Number.isFinite(resolution)) {
    throw new ConfigError(
      `${fn}: resolution must be finite and > 0, got ${resolution}`,
    );
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) {
    throw new ConfigError(`${fn}: seed must be an integer, got ${seed}`);
  }
  const n = graph.numNodes;
  if (n === 0) return { count: 0, ids: new Int32Array(0), modularity: 0 };

  // S = (A + Aᵀ) / 2 as one undirected edge per pair: each edge j → i
  // adds w / 2 to S_ij = S_ji. NOTE: a loop i → i adds w to S_ii, but
  // graphology counts an undirected loop twice in the degree, so it is
  // stored with weight w / 2 as well
  const pairWeight = new Map<number, number>();
  const { rowPtr, colIdx, weights } = graph;
  for (let i = 0; i < n; i++) {
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      const j = colIdx[e];
      const w = weights === null ? 1 : weights[e];
      if (w < 0) {
        throw new ConfigError(
          `${fn}: expected non-negative weights, got ${w} on edge ` +
            `${j} -> ${i}`,
        );
      }
      const key = i < j ? i * n + j : j * n + i;
      pairWeight.set(key, (pairWeight.get(key) ?? 0) + w / 2);
    }
  }
  const undirected = new Graphology({
    type: "undirected",
    multi: false,
    allowSelfLoops: true,
  });
  for (let i = 0; i < n; i++) undirected.addNode(String(i));
  for (const [key, w] of pairWeight) {
    if (w === 0) continue;
    const a = Math.floor(key / n);
    const b = key - a * n;
    undirected.addUndirectedEdge(String(a), String(b), { weight: w });
  }

  // no edge weight at all: every node is its own community, Q = 0 by
  // convention (graphology would divide by zero)
  if (undirected.size === 0) {
    return {
      count: n,
      ids: Int32Array.from({ length: n }, (_, i) => i),
      modularity: 0,
    };
  }

  const result = louvainRun.detailed(undirected, {
    resolution,
    rng: options.rng ?? mulberry32(seed),
    randomWalk: options.randomWalk ?? true,
    getEdgeWeight: "weight",
  });

  // renumber communities in order of first appearance
  const ids = new Int32Array(n);
  const renumber = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const c = result.communities[String(i)];
    let id = renumber.get(c);
    if (id === undefined) {
      id = renumber.size;
      renumber.set(c, id);
    }
    ids[i] = id;
  }
  return { count: renumber.size, ids, modularity: result.modularity };
}
