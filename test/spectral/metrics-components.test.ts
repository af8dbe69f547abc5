import { describe, expect, it } from "vitest";
import { Graph } from "../../src/graph/graph.js";
import { connectedComponents } from "../../src/spectral/components.js";
import { symmetricEigenvalues } from "../../src/spectral/dense.js";
import { randomUndirectedGraph, seededRandom } from "./helpers.js";

/** Component ids by breadth-first search over an undirected adjacency. */
function bfsComponents(n: number, edges: [number, number][]): number[] {
  const adj: number[][] = Array.from({ length: n }, () => []);
  for (const [u, v] of edges) {
    adj[u].push(v);
    adj[v].push(u);
  }
  const ids = new Array<number>(n).fill(-1);
  let next = 0;
  for (let s = 0; s < n; s++) {
    if (ids[s] !== -1) continue;
    ids[s] = next;
    const queue = [s];
    while (queue.length > 0) {
      const u = queue.shift() as number;
      for (const v of adj[u]) {
        if (ids[v] === -1) {
          ids[v] = next;
          queue.push(v);
        }
      }
    }
    next++;
  }
  return ids;
}

describe("connectedComponents", () => {
  it("numbers components in order of first appearance", () => {
    // {0, 3}, {1, 2, 5} through a one-way edge, {4} isolated, {6, 7}
    const g = Graph.fromEdges([0, 3, 2, 5, 7], [3, 0, 1, 2, 6], {
      numNodes: 8,
    });
    const c = connectedComponents(g);
    expect(c.count).toBe(4);
    expect(Array.from(c.ids)).toEqual([0, 1, 1, 0, 2, 1, 3, 3]);
    expect(Array.from(c.sizes)).toEqual([2, 3, 1, 2]);
  });

  it("agrees with breadth-first search on sparse random directed graphs", () => {
    const rand = seededRandom(61);
    for (const n of [1, 10, 200]) {
      const edges: [number, number][] = [];
      for (let e = 0; e < 0.6 * n; e++) {
        edges.push([Math.floor(rand() * n), Math.floor(rand() * n)]);
      }
      const g = Graph.fromEdges(
        edges.map((e) => e[0]),
        edges.map((e) => e[1]),
        { numNodes: n },
      );
      const expected = bfsComponents(n, edges);
      const got = connectedComponents(g);
      expect(Array.from(got.ids)).toEqual(expected);
      expect(got.count).toBe(Math.max(...expected) + 1);
    }
  });

  it("counts the multiplicity of eigenvalue 1 of D^-1/2 A D^-1/2", () => {
    // three random blocks, no isolated node: c = 3 eigenvalues equal 1
    const rand = seededRandom(62);
    const n = 36;
    const dense = new Float64Array(n * n);
    const src: number[] = [];
    const dst: number[] = [];
    for (let b = 0; b < 3; b++) {
      const { dense: block } = randomUndirectedGraph(rand, 12, 0.5);
      for (let i = 0; i < 12; i++) {
        // a path keeps each block connected
        for (let j = 0; j < 12; j++) {
          const w = block[i * 12 + j] || (Math.abs(i - j) === 1 ? 1 : 0);
          if (w === 0) continue;
          dense[(b * 12 + i) * n + b * 12 + j] = w;
          src.push(b * 12 + j);
          dst.push(b * 12 + i);
        }
      }
    }
    const g = Graph.fromEdges(src, dst, { numNodes: n });
    const deg = g.inDegrees();
    const norm = dense.map((v, e) => {
      const i = Math.floor(e / n);
      return v / Math.sqrt(deg[i] * deg[e - i * n]);
    });
    const values = symmetricEigenvalues(norm, n);
    const ones = values.filter((v) => Math.abs(v - 1) < 1e-10).length;
    expect(connectedComponents(g).count).toBe(3);
    expect(ones).toBe(3);
  });

  it("handles the empty graph", () => {
    const c = connectedComponents(Graph.empty(0));
    expect(c.count).toBe(0);
    expect(c.ids.length).toBe(0);
  });
});
