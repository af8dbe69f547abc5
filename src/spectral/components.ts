/**
 * Connected components of a graph, its edges read as undirected (weakly
 * connected components of a directed graph). The number of components c
 * is the multiplicity of the eigenvalue 1 of the normalized adjacency Ā
 * (0 of the Laplacian), and alignment alone collapses features to one
 * point per component.
 *
 * Union–find with union by size and path halving (R. E. Tarjan, "Efficiency
 * of a good but not linear set union algorithm", J. ACM 22, 1975):
 * O(E α(N)) time, O(N) memory.
 */

import type { Graph } from "../graph/graph.js";

/** What {@link connectedComponents} returns. */
export interface ConnectedComponents {
  /** Number of components c (0 for the empty graph). */
  count: number;
  /**
   * Component id of every node, in [0, c): numbered in order of first
   * appearance, so node 0 is in component 0 and each new id goes to the
   * lowest-numbered node not yet seen.
   */
  ids: Int32Array;
  /** Number of nodes in each component (length c). */
  sizes: Int32Array;
}

/**
 * The connected components of a graph, every edge taken in both
 * directions whatever its weight (zero-weight edges connect too; an
 * isolated node is a component of its own).
 *
 * @param graph any graph with N nodes.
 * @returns `{ count, ids, sizes }`, see {@link ConnectedComponents}.
 */
export function connectedComponents(graph: Graph): ConnectedComponents {
  const n = graph.numNodes;
  const parent = new Int32Array(n);
  const size = new Int32Array(n).fill(1);
  for (let i = 0; i < n; i++) parent[i] = i;

  // the root of a node's set, halving the path on the way
  const find = (v: number): number => {
    while (parent[v] !== v) {
      parent[v] = parent[parent[v]];
      v = parent[v];
    }
    return v;
  };

  // merge the sets of both ends of every edge, smaller under larger
  const { rowPtr, colIdx } = graph;
  for (let i = 0; i < n; i++) {
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      let a = find(i);
      let b = find(colIdx[e]);
      if (a === b) continue;
      if (size[a] < size[b]) [a, b] = [b, a];
      parent[b] = a;
      size[a] += size[b];
    }
  }

  // number the roots in order of first appearance
  const rootId = new Int32Array(n).fill(-1);
  const ids = new Int32Array(n);
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = find(i);
    if (rootId[r] === -1) {
      rootId[r] = sizes.length;
      sizes.push(0);
    }
    ids[i] = rootId[r];
    sizes[ids[i]]++;
  }
  return { count: sizes.length, ids, sizes: Int32Array.from(sizes) };
}
