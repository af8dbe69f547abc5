import { UndirectedGraph } from "graphology";
import karateClub from "graphology-generators/social/karate-club";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { normalizedMutualInfo } from "../../src/eval/clustering.js";
import { Graph } from "../../src/graph/graph.js";
import { louvain } from "../../src/spectral/communities.js";
import { seededRandom } from "./helpers.js";

/**
 * Newman's modularity of a partition, from the dense symmetric matrix
 * S = (A + Aᵀ) / 2 of a graph.
 */
function modularity(g: Graph, ids: Int32Array, resolution = 1): number {
  const n = g.numNodes;
  const a = g.toDense();
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++)
      s[i * n + j] = (a[i * n + j] + a[j * n + i]) / 2;
  }
  const strength = new Float64Array(n);
  let twoM = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) strength[i] += s[i * n + j];
    twoM += strength[i];
  }
  let q = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (ids[i] !== ids[j]) continue;
      q += s[i * n + j] - (resolution * strength[i] * strength[j]) / twoM;
    }
  }
  return q / twoM;
}

/** Two cliques of m nodes joined by the edge (0, m), both directions. */
function twoCliques(m: number): Graph {
  const src: number[] = [];
  const dst: number[] = [];
  for (const base of [0, m]) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        if (i === j) continue;
        src.push(base + i);
        dst.push(base + j);
      }
    }
  }
  src.push(0, m);
  dst.push(m, 0);
  return Graph.fromEdges(src, dst, { numNodes: 2 * m });
}

/** A planted partition: 4 groups of 20, edge probabilities pIn, pOut. */
function planted(
  seed: number,
  pIn = 0.4,
  pOut = 0.02,
): { graph: Graph; labels: number[] } {
  const rand = seededRandom(seed);
  const n = 80;
  const labels = Array.from({ length: n }, (_, i) => Math.floor(i / 20));
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const p = labels[i] === labels[j] ? pIn : pOut;
      if (rand() < p) {
        src.push(i, j);
        dst.push(j, i);
      }
    }
  }
  return { graph: Graph.fromEdges(src, dst, { numNodes: n }), labels };
}

describe("louvain", () => {
  it("separates two cliques and reports their modularity", () => {
    const g = twoCliques(6);
    const result = louvain(g);
    expect(result.count).toBe(2);
    expect(Array.from(result.ids)).toEqual([
      0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1,
    ]);
    expect(result.modularity).toBeCloseTo(modularity(g, result.ids), 12);
  });

  it("gives the same partition for the same seed", () => {
    const { graph, labels } = planted(71);
    for (const seed of [0, 1, 12345]) {
      const first = louvain(graph, { seed });
      const second = louvain(planted(71).graph, { seed });
      expect(Array.from(second.ids)).toEqual(Array.from(first.ids));
      expect(second.modularity).toBe(first.modularity);
      expect(first.modularity).toBeCloseTo(modularity(graph, first.ids), 12);
      expect(normalizedMutualInfo(first.ids, labels)).toBeGreaterThan(0.8);
    }
  });

  it("uses the seed: a weakly planted graph gets several partitions", () => {
    // the same test would pass trivially if the seed were ignored
    const { graph } = planted(73, 0.3, 0.05);
    const seen = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      seen.add(Array.from(louvain(graph, { seed }).ids).join(","));
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it("finds Zachary's karate club communities (Q ≈ 0.42)", () => {
    const club = karateClub(UndirectedGraph);
    const src: number[] = [];
    const dst: number[] = [];
    club.forEachEdge((_e, _a, s, t) => {
      src.push(Number(s), Number(t));
      dst.push(Number(t), Number(s));
    });
    const g = Graph.fromEdges(src, dst, { numNodes: club.order });
    const labels = club.mapNodes((_n, attr) =>
      attr.club === "Officer" ? 1 : 0,
    );
    const result = louvain(g, { seed: 3 });
    // best known modularity of the karate club: 0.4198
    expect(result.modularity).toBeGreaterThan(0.4);
    expect(result.modularity).toBeLessThanOrEqual(0.41979 + 1e-4);
    expect(result.modularity).toBeCloseTo(modularity(g, result.ids), 12);
    expect(normalizedMutualInfo(result.ids, labels)).toBeGreaterThan(0.4);
  });

  it("reads directed edges and self-loops through S = (A + Aᵀ) / 2", () => {
    const rand = seededRandom(72);
    const n = 30;
    const src: number[] = [];
    const dst: number[] = [];
    const w: number[] = [];
    for (let e = 0; e < 90; e++) {
      const a = Math.floor(rand() * n);
      const b = Math.floor(rand() * n);
      src.push(a);
      dst.push(
        Math.floor(a / 10) === Math.floor(b / 10) || rand() < 0.3 ? b : a,
      );
      w.push(Math.fround(0.5 + rand()));
    }
    const g = Graph.fromEdges(src, dst, { numNodes: n, weights: w });
    for (const resolution of [1, 0.5, 2]) {
      const result = louvain(g, { resolution, seed: 5 });
      expect(result.modularity).toBeCloseTo(
        modularity(g, result.ids, resolution),
        10,
      );
    }
  });

  it("handles graphs without edges and rejects bad options", () => {
    expect(louvain(Graph.empty(0)).count).toBe(0);
    const lone = louvain(Graph.empty(3));
    expect(Array.from(lone.ids)).toEqual([0, 1, 2]);
    expect(lone.modularity).toBe(0);
    expect(() => louvain(twoCliques(3), { resolution: 0 })).toThrow(
      ConfigError,
    );
    expect(() => louvain(twoCliques(3), { seed: 0.5 })).toThrow(ConfigError);
  });
});
