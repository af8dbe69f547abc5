/**
 * Community rewiring: add edges inside communities, or drop the edges
 * between them, so that message passing (or the positive pairs of
 * contrastive learning) follows the cluster structure. Communities are
 * given, or found by the Louvain method (Blondel, Guillaume, Lambiotte &
 * Lefebvre, "Fast unfolding of communities in large networks", J. Stat.
 * Mech. 2008) through `graphology-communities-louvain`, seeded.
 */

import Graphology from "graphology";
import louvainRun from "graphology-communities-louvain";
import { ConfigError, GraphError, ShapeError } from "../../errors.js";
import {
  type RandomOptions,
  resolveRandom,
  sampleWithoutReplacement,
} from "../../random.js";
import { Graph } from "../graph.js";

/** Options of {@link louvainCommunities}. */
export interface LouvainCommunitiesOptions extends RandomOptions {
  /**
   * Resolution γ of modularity (default 1): larger values give more and
   * smaller communities.
   */
  resolution?: number;
}

/**
 * Louvain communities of a graph read as undirected, S = (A + Aᵀ) / 2
 * (weights summed over duplicates, 1 when unweighted): the partition
 * that greedily maximizes modularity at resolution γ. Node visits are
 * shuffled by the seeded random source, so the same seed gives the same
 * partition. Communities are numbered 0, 1, … in order of first
 * appearance (node 0 is in community 0); a node without edges is alone.
 *
 * @returns the community of every node, length N.
 * @throws ConfigError for a resolution that is not finite and positive;
 *   GraphError for negative weights.
 */
export function louvainCommunities(
  graph: Graph,
  options: LouvainCommunitiesOptions = {},
): Int32Array {
  const fn = "louvainCommunities";
  const resolution = options.resolution ?? 1;
  if (!(resolution > 0 && resolution < Infinity)) {
    throw new ConfigError(
      `${fn}: resolution must be finite and > 0, got ${resolution}`,
    );
  }
  const n = graph.numNodes;

  // one undirected graphology edge per pair, weight (w_ij + w_ji) / 2;
  // NOTE: graphology counts a loop twice in a degree, so a loop of
  // weight w is stored as w / 2 as well
  const pairWeight = new Map<number, number>();
  const { rowPtr, colIdx } = graph;
  for (let i = 0; i < n; i++) {
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      const j = colIdx[e];
      const w = graph.weight(e);
      if (w < 0) {
        throw new GraphError(
          `${fn}: weights must be non-negative, got ${w} on ${j} -> ${i}`,
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
    undirected.addUndirectedEdge(String(a), String(key - a * n), {
      weight: w,
    });
  }

  // without any edge weight every node is alone (graphology would
  // divide by zero)
  const ids = new Int32Array(n);
  if (undirected.size === 0) {
    for (let i = 0; i < n; i++) ids[i] = i;
    return ids;
  }
  const found = louvainRun(undirected, {
    resolution,
    rng: resolveRandom(options),
    getEdgeWeight: "weight",
  });

  // renumber in order of first appearance
  const renumber = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const c = found[String(i)];
    let id = renumber.get(c);
    if (id === undefined) {
      id = renumber.size;
      renumber.set(c, id);
    }
    ids[i] = id;
  }
  return ids;
}

/** Options of {@link communityRewire}. */
export interface CommunityRewireOptions extends RandomOptions {
  /**
   * `"add-within"`: every node gets up to `partnersPerNode` new
   * neighbours drawn from its own community; `"drop-between"`: every
   * edge whose ends lie in different communities is removed.
   */
  mode: "add-within" | "drop-between";
  /**
   * The community of every node (integers ≥ 0, length N). Default: the
   * seeded {@link louvainCommunities} of the graph at `resolution`.
   */
  communities?: ArrayLike<number>;
  /** Resolution of the default Louvain communities (default 1). */
  resolution?: number;
  /**
   * `"add-within"` only: new partners drawn per node (default 1), fewer
   * when the community has fewer members that are not yet neighbours.
   */
  partnersPerNode?: number;
  /** `"add-within"` only: weight of the new edges (default 1). */
  weight?: number;
}

/**
 * Rewire a graph by its communities.
 *
 * - `"add-within"`: for each node i in increasing order, k =
 *   `partnersPerNode` partners are drawn uniformly without replacement
 *   among the members j ≠ i of i's community with no edge j → i or
 *   i → j in the input; each drawn pair becomes the two edges i → j and
 *   j → i of weight `weight` (a pair drawn from both ends is added
 *   once). Input edges are kept as they are; no self-loop is added. The
 *   number of new undirected pairs is at most N · k.
 * - `"drop-between"`: the edges j → i with c_i ≠ c_j are removed, the
 *   others kept with their weights and order.
 *
 * A symmetric input stays symmetric in both modes. The random source is
 * used by Louvain (when communities are not given) and then by the
 * draws, so the same seed gives the same graph.
 *
 * @throws ShapeError for a community array of the wrong length;
 *   ConfigError for bad options or community ids.
 */
export function communityRewire(
  graph: Graph,
  options: CommunityRewireOptions,
): Graph {
  const fn = "communityRewire";
  const n = graph.numNodes;
  const mode = options.mode;
  if (mode !== "add-within" && mode !== "drop-between") {
    throw new ConfigError(
      `${fn}: mode must be "add-within" or "drop-between", got ` +
        `${String(mode)}`,
    );
  }
  const k = options.partnersPerNode ?? 1;
  if (!Number.isInteger(k) || k < 0) {
    throw new ConfigError(
      `${fn}: partnersPerNode must be a non-negative integer, got ${k}`,
    );
  }
  const weight = options.weight ?? 1;
  if (!(weight >= 0 && weight < Infinity)) {
    throw new ConfigError(
      `${fn}: weight must be finite and >= 0, got ${weight}`,
    );
  }
  const random = resolveRandom(options);
  const community = checkCommunities(
    fn,
    n,
    options.communities ??
      louvainCommunities(graph, {
        random,
        resolution: options.resolution,
      }),
  );
  const dst = graph.dst;
  const src = graph.src;

  // drop-between: keep the edges inside a community
  if (mode === "drop-between") {
    const keepSrc: number[] = [];
    const keepDst: number[] = [];
    const keepW: number[] = [];
    for (let e = 0; e < graph.numEdges; e++) {
      if (community[src[e]] !== community[dst[e]]) continue;
      keepSrc.push(src[e]);
      keepDst.push(dst[e]);
      keepW.push(graph.weight(e));
    }
    return Graph.fromEdges(keepSrc, keepDst, {
      numNodes: n,
      weights: graph.isWeighted ? keepW : null,
      allowNegativeWeights: true,
    });
  }

  // add-within: first the members of every community, in node order
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const list = members.get(community[i]);
    if (list === undefined) members.set(community[i], [i]);
    else list.push(i);
  }

  // the pairs already linked, either way
  const linked = new Set<number>();
  for (let e = 0; e < graph.numEdges; e++) {
    const a = Math.min(src[e], dst[e]);
    const b = Math.max(src[e], dst[e]);
    linked.add(a * n + b);
  }

  // then the draws, node by node
  const outSrc: number[] = Array.from(src);
  const outDst: number[] = Array.from(dst);
  const outW: number[] = [];
  for (let e = 0; e < graph.numEdges; e++) outW.push(graph.weight(e));
  const free: number[] = [];
  for (let i = 0; i < n && k > 0; i++) {
    free.length = 0;
    for (const j of members.get(community[i]) as number[]) {
      if (j === i) continue;
      if (!linked.has(Math.min(i, j) * n + Math.max(i, j))) free.push(j);
    }
    const count = Math.min(k, free.length);
    for (const t of sampleWithoutReplacement(free.length, count, random)) {
      const j = free[t];
      linked.add(Math.min(i, j) * n + Math.max(i, j));
      outSrc.push(i, j);
      outDst.push(j, i);
      outW.push(weight, weight);
    }
  }
  const weighted = graph.isWeighted || weight !== 1;
  return Graph.fromEdges(outSrc, outDst, {
    numNodes: n,
    weights: weighted ? outW : null,
    allowNegativeWeights: true,
  });
}

/** Check a community array: length N, integers ≥ 0. */
function checkCommunities(
  fn: string,
  n: number,
  communities: ArrayLike<number>,
): Int32Array {
  if (communities.length !== n) {
    throw new ShapeError(
      `${fn}: communities must have one entry per node (${n}), got ` +
        `${communities.length}`,
    );
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = communities[i];
    if (!Number.isInteger(c) || c < 0 || c > 0x7fffffff) {
      throw new ConfigError(
        `${fn}: communities[${i}] must be a non-negative integer, got ${c}`,
      );
    }
    out[i] = c;
  }
  return out;
}
