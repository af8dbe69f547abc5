/**
 * DropEdge against a reference written from its documented draw order
 * (one uniform per edge in CSR order, or one per unordered pair in
 * (min, max) order, kept when u >= rate), a hand-drawn small case, the
 * survival frequency within a stated binomial bound, and its invariants:
 * node count, subset of edges with their weights, symmetry, determinism.
 */

import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/errors.js";
import { pathGraph } from "../../../src/graph/generators.js";
import { Graph } from "../../../src/graph/graph.js";
import { dropEdge } from "../../../src/graph/rewire/dropEdge.js";
import { isSymmetric, symmetrize } from "../../../src/graph/transforms.js";
import { mulberry32 } from "../../../src/random.js";
import { randomEdges } from "../../helpers/random.js";

/** The directed edges "src>dst:w" of a graph, in CSR order. */
function edgeList(g: Graph): string[] {
  const out: string[] = [];
  for (let e = 0; e < g.numEdges; e++) {
    out.push(`${g.src[e]}>${g.dst[e]}:${g.weight(e)}`);
  }
  return out;
}

/** A seeded random multigraph with loops and duplicates. */
function randomGraph(seed: number, n: number, m: number, weighted: boolean) {
  const rng = mulberry32(seed);
  const { src, dst, weights } = randomEdges(rng, {
    numNodes: n,
    numEdges: m,
    weighted,
  });
  return Graph.fromEdges(src, dst, { numNodes: n, weights });
}

/** The reference: per-edge draws in CSR order. */
function referencePerEdge(g: Graph, rate: number, seed: number): string[] {
  const r = mulberry32(seed);
  const all = edgeList(g);
  return all.filter(() => r() >= rate);
}

/** The reference: per-pair draws in (min, max) order. */
function referencePerPair(g: Graph, rate: number, seed: number): string[] {
  const r = mulberry32(seed);
  const pairs = new Set<string>();
  for (let e = 0; e < g.numEdges; e++) {
    const a = Math.min(g.src[e], g.dst[e]);
    const b = Math.max(g.src[e], g.dst[e]);
    pairs.add(`${a},${b}`);
  }
  const sorted = [...pairs]
    .map((p) => p.split(",").map(Number))
    .sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  const kept = new Set<string>();
  for (const [a, b] of sorted) if (r() >= rate) kept.add(`${a},${b}`);
  const out: string[] = [];
  for (let e = 0; e < g.numEdges; e++) {
    const a = Math.min(g.src[e], g.dst[e]);
    const b = Math.max(g.src[e], g.dst[e]);
    if (kept.has(`${a},${b}`)) out.push(edgeList(g)[e]);
  }
  return out;
}

describe("dropEdge", () => {
  it("matches the per-edge reference on random weighted multigraphs", () => {
    for (let seed = 0; seed < 20; seed++) {
      const g = randomGraph(seed, 12, 40, seed % 2 === 0);
      const out = dropEdge(g, 0.3, { seed, symmetric: false });
      expect(out.numNodes).toBe(g.numNodes);
      expect(out.isWeighted).toBe(g.isWeighted);
      expect(edgeList(out)).toEqual(referencePerEdge(g, 0.3, seed));
    }
  });

  it("matches the per-pair reference, duplicates included", () => {
    for (let seed = 0; seed < 20; seed++) {
      const g = randomGraph(100 + seed, 10, 50, true);
      const out = dropEdge(g, 0.4, { seed, symmetric: true });
      expect(edgeList(out)).toEqual(referencePerPair(g, 0.4, seed));
    }
  });

  it("drops the pairs a hand-chosen stream says on a path", () => {
    // path 0 - 1 - 2: pairs (0, 1) then (1, 2); u = 0.9 keeps the first,
    // u = 0.1 < 0.5 drops the second
    const stream = [0.9, 0.1];
    let t = 0;
    const out = dropEdge(pathGraph(3), 0.5, { random: () => stream[t++] });
    expect(t).toBe(2);
    expect(edgeList(out).sort()).toEqual(["0>1:1", "1>0:1"]);
  });

  it("keeps a symmetric graph symmetric by default", () => {
    for (let seed = 0; seed < 10; seed++) {
      const g = symmetrize(randomGraph(seed, 30, 120, true), {
        reduce: "max",
      });
      const out = dropEdge(g, 0.5, { seed });
      expect(isSymmetric(out)).toBe(true);
      expect(edgeList(out)).toEqual(
        edgeList(dropEdge(g, 0.5, { seed, symmetric: true })),
      );
      expect(out.numEdges).toBeLessThan(g.numEdges);
    }
  });

  it("draws per edge by default on a directed graph", () => {
    const g = Graph.fromEdges([0, 1, 2, 3], [1, 2, 3, 0]);
    for (let seed = 0; seed < 5; seed++) {
      expect(edgeList(dropEdge(g, 0.5, { seed }))).toEqual(
        edgeList(dropEdge(g, 0.5, { seed, symmetric: false })),
      );
    }
  });

  it("keeps 1 - rate of the edges within 4 binomial sigmas", () => {
    const g = randomGraph(5, 2000, 40_000, false);
    for (const rate of [0.1, 0.5, 0.8]) {
      const out = dropEdge(g, rate, { seed: 11, symmetric: false });
      const m = g.numEdges;
      const sigma = Math.sqrt(m * rate * (1 - rate));
      expect(Math.abs(out.numEdges - m * (1 - rate))).toBeLessThan(4 * sigma);
    }
  });

  it("keeps everything at rate 0 and nothing at rate 1", () => {
    const g = randomGraph(3, 8, 30, true);
    expect(edgeList(dropEdge(g, 0, { seed: 1 }))).toEqual(edgeList(g));
    const none = dropEdge(g, 1, { seed: 1 });
    expect(none.numEdges).toBe(0);
    expect(none.numNodes).toBe(8);
  });

  it("keeps self-loops when asked, in both modes", () => {
    const g = randomGraph(4, 6, 40, false);
    let loops = 0;
    for (let e = 0; e < g.numEdges; e++) if (g.src[e] === g.dst[e]) loops++;
    expect(loops).toBeGreaterThan(0);
    for (const symmetric of [false, true]) {
      const out = dropEdge(g, 1, { keepSelfLoops: true, symmetric });
      expect(out.numEdges).toBe(loops);
      for (let e = 0; e < out.numEdges; e++) {
        expect(out.src[e]).toBe(out.dst[e]);
      }
    }
  });

  it("is deterministic given a seed and changes with it", () => {
    const g = randomGraph(9, 50, 300, true);
    const a = dropEdge(g, 0.5, { seed: 3 });
    const b = dropEdge(g, 0.5, { seed: 3 });
    const c = dropEdge(g, 0.5, { seed: 4 });
    expect(edgeList(a)).toEqual(edgeList(b));
    expect(edgeList(a)).not.toEqual(edgeList(c));
  });

  it("does not change its input", () => {
    const g = randomGraph(2, 10, 30, true);
    const before = edgeList(g);
    dropEdge(g, 0.7, { seed: 2 });
    expect(edgeList(g)).toEqual(before);
  });

  it("raises ConfigError for a rate outside [0, 1]", () => {
    const g = pathGraph(3);
    for (const rate of [-0.1, 1.5, Number.NaN]) {
      expect(() => dropEdge(g, rate)).toThrow(ConfigError);
    }
  });
});
