/**
 * Balanced Forman curvature against values computed by hand (paths,
 * stars, cycles, complete graphs, a square with a diagonal, the 2 × 3
 * grid) and against a dense re-implementation of Definition 1 of
 * Topping et al. (2022) on seeded random graphs; SDRF against its
 * invariants (undirected, simple, edge count = input + added − removed,
 * same seed same graph) and its purpose (the least curvature rises).
 */

import { describe, expect, it } from "vitest";
import { ConfigError, GraphError } from "../../../src/errors.js";
import {
  completeGraph,
  cycleGraph,
  pathGraph,
  starGraph,
} from "../../../src/graph/generators.js";
import { Graph } from "../../../src/graph/graph.js";
import {
  balancedFormanCurvature,
  type SdrfStep,
  sdrf,
} from "../../../src/graph/rewire/sdrf.js";
import { isSymmetric } from "../../../src/graph/transforms.js";
import { mulberry32 } from "../../../src/random.js";

/** An undirected graph from a list of pairs. */
function undirected(n: number, pairs: Array<[number, number]>): Graph {
  const src: number[] = [];
  const dst: number[] = [];
  for (const [a, b] of pairs) {
    src.push(a, b);
    dst.push(b, a);
  }
  return Graph.fromEdges(src, dst, { numNodes: n });
}

/** The curvature of edge a — b. */
function curvature(g: Graph, a: number, b: number): number {
  const c = balancedFormanCurvature(g);
  for (let e = 0; e < g.numEdges; e++) {
    if (g.src[e] === a && g.dst[e] === b) return c[e];
  }
  throw new Error(`no edge ${a} - ${b}`);
}

/** Definition 1 on a dense 0/1 matrix, written plainly. */
function denseCurvature(a: number[][], i: number, j: number): number {
  const n = a.length;
  const deg = (v: number) => a[v].reduce((s, x) => s + x, 0);
  const di = deg(i);
  const dj = deg(j);
  if (Math.min(di, dj) === 1) return 0;
  let tri = 0;
  for (let k = 0; k < n; k++) tri += a[i][k] * a[j][k];
  let gamma = 0;
  let cycles = 0;
  for (const [p, q] of [
    [i, j],
    [j, i],
  ]) {
    for (let k = 0; k < n; k++) {
      if (!a[p][k] || k === q || a[q][k]) continue;
      let through = 0;
      for (let w = 0; w < n; w++) {
        if (w !== p && a[k][w] && a[q][w] && !a[p][w]) through++;
      }
      if (through > 0) cycles++;
      gamma = Math.max(gamma, through);
    }
  }
  const hi = Math.max(di, dj);
  const lo = Math.min(di, dj);
  let r = 2 / di + 2 / dj - 2 + (2 * tri) / hi + tri / lo;
  if (gamma > 0) r += cycles / (gamma * hi);
  return r;
}

/** A seeded random simple undirected graph. */
function randomSimple(seed: number, n: number, p: number): Graph {
  const r = mulberry32(seed);
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) if (r() < p) pairs.push([i, j]);
  }
  return undirected(n, pairs);
}

/** Two cliques of size m joined by one edge (a bottleneck). */
function dumbbell(m: number): Graph {
  const pairs: Array<[number, number]> = [];
  for (const base of [0, m]) {
    for (let i = 0; i < m; i++) {
      for (let j = i + 1; j < m; j++) pairs.push([base + i, base + j]);
    }
  }
  pairs.push([0, m]);
  return undirected(2 * m, pairs);
}

describe("balancedFormanCurvature", () => {
  const close = (a: number, b: number) =>
    expect(Math.abs(a - b)).toBeLessThan(1e-12);

  it("gives the hand-computed values of small graphs", () => {
    // leaves give 0; the middle edge of a path of 4 gives 1 + 1 − 2 = 0
    close(curvature(pathGraph(4), 0, 1), 0);
    close(curvature(pathGraph(4), 1, 2), 0);
    close(curvature(starGraph(5), 0, 1), 0);
    // two stars of degree 3 joined by their centres: 2/3 + 2/3 − 2
    const stars = undirected(6, [
      [0, 1],
      [0, 2],
      [0, 3],
      [3, 4],
      [3, 5],
    ]);
    close(curvature(stars, 0, 3), -2 / 3);
    // cycles: C3 = K3 gives 3/2, C4 gives 1, C5 and C6 give 0
    close(curvature(cycleGraph(3), 0, 1), 3 / 2);
    close(curvature(cycleGraph(4), 0, 1), 1);
    close(curvature(cycleGraph(5), 0, 1), 0);
    close(curvature(cycleGraph(6), 2, 3), 0);
    // complete graphs: n / (n − 1)
    for (const n of [4, 5, 7])
      close(curvature(completeGraph(n), 1, 2), n / (n - 1));
  });

  it("gives the hand-computed values of a square with a diagonal", () => {
    // 0 - 1 - 2 - 3 - 0 and 0 - 2: the diagonal has two triangles,
    // 2/3 + 2/3 − 2 + 4/3 + 2/3 = 4/3; a side has one triangle and no
    // free 4-cycle, 2/3 + 1 − 2 + 2/3 + 1/2 = 5/6
    const g = undirected(4, [
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 0],
      [0, 2],
    ]);
    close(curvature(g, 0, 2), 4 / 3);
    close(curvature(g, 0, 1), 5 / 6);
    close(curvature(g, 1, 0), 5 / 6);
  });

  it("counts 4-cycles on the 2 x 3 grid by hand", () => {
    // 0 - 1 - 2 over 3 - 4 - 5: the middle rung 1 — 4 sees two 4-cycles
    // from each end, γ = 1: 2/3 + 2/3 − 2 + 4/3 = 2/3; the edge 0 — 1
    // sees one from each end: 1 + 2/3 − 2 + 2/3 = 1/3
    const g = undirected(6, [
      [0, 1],
      [1, 2],
      [3, 4],
      [4, 5],
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    close(curvature(g, 1, 4), 2 / 3);
    close(curvature(g, 0, 1), 1 / 3);
  });

  it("matches a dense implementation of Definition 1", () => {
    for (let seed = 0; seed < 8; seed++) {
      const g = randomSimple(seed, 12, 0.3);
      const a = Array.from({ length: 12 }, () => new Array(12).fill(0));
      for (let e = 0; e < g.numEdges; e++) a[g.dst[e]][g.src[e]] = 1;
      const c = balancedFormanCurvature(g);
      for (let e = 0; e < g.numEdges; e++) {
        close(c[e], denseCurvature(a, g.src[e], g.dst[e]));
      }
    }
  });

  it("raises GraphError for a directed graph", () => {
    const g = Graph.fromEdges([0, 1], [1, 2]);
    expect(() => balancedFormanCurvature(g)).toThrow(GraphError);
  });
});

describe("sdrf", () => {
  it("keeps the graph simple, undirected and its edge count exact", () => {
    for (let seed = 0; seed < 4; seed++) {
      const g = randomSimple(10 + seed, 25, 0.15);
      const steps: SdrfStep[] = [];
      const out = sdrf(g, {
        iterations: 15,
        seed,
        onStep: (s) => steps.push(s),
      });
      expect(out.numNodes).toBe(25);
      expect(isSymmetric(out)).toBe(true);
      expect(out.isWeighted).toBe(false);
      const pairs = new Set<string>();
      for (let e = 0; e < out.numEdges; e++) {
        expect(out.src[e]).not.toBe(out.dst[e]);
        pairs.add(`${out.src[e]},${out.dst[e]}`);
      }
      expect(pairs.size).toBe(out.numEdges);
      const added = steps.filter((s) => s.added !== null).length;
      const removed = steps.filter((s) => s.removed !== null).length;
      expect(steps).toHaveLength(15);
      expect(out.numEdges).toBe(g.numEdges + 2 * (added - removed));
      expect(added).toBeGreaterThan(0);
    }
  });

  it("adds edges beside the most negatively curved edge", () => {
    const g = dumbbell(5);
    const before = balancedFormanCurvature(g);
    const steps: SdrfStep[] = [];
    const out = sdrf(g, {
      iterations: 3,
      tau: 1e6,
      removeEdges: false,
      onStep: (s) => steps.push(s),
    });
    // the bridge 0 — 5 is the bottleneck: 2/5 + 2/5 − 2 = −6/5
    expect(steps[0].target).toEqual([0, 5]);
    expect(Math.abs(steps[0].minCurvature + 6 / 5)).toBeLessThan(1e-12);
    expect(Math.abs(Math.min(...before) + 6 / 5)).toBeLessThan(1e-12);
    const [k, l] = steps[0].added as [number, number];
    expect(k < 5 && l >= 5).toBe(true);
    expect(Math.min(...balancedFormanCurvature(out))).toBeGreaterThan(-6 / 5);
  });

  it("removes edges above the bound only", () => {
    const g = completeGraph(5);
    const steps: SdrfStep[] = [];
    sdrf(g, { iterations: 1, removalBound: 2, onStep: (s) => steps.push(s) });
    expect(steps[0].removed).toBeNull();
    steps.length = 0;
    sdrf(g, { iterations: 1, removalBound: 1, onStep: (s) => steps.push(s) });
    expect(steps[0].removed).toEqual([0, 1]);
  });

  it("is deterministic given a seed", () => {
    const g = randomSimple(3, 30, 0.12);
    const a = sdrf(g, { iterations: 10, seed: 5 });
    const b = sdrf(g, { iterations: 10, seed: 5 });
    expect(Array.from(a.colIdx)).toEqual(Array.from(b.colIdx));
    expect(Array.from(a.rowPtr)).toEqual(Array.from(b.rowPtr));
  });

  it("raises typed errors", () => {
    expect(() => sdrf(Graph.fromEdges([0], [1]))).toThrow(GraphError);
    const g = pathGraph(4);
    expect(() => sdrf(g, { iterations: -1 })).toThrow(ConfigError);
    expect(() => sdrf(g, { tau: 0 })).toThrow(ConfigError);
    expect(() => sdrf(g, { removalBound: Number.NaN })).toThrow(ConfigError);
  });
});
