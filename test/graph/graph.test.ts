/**
 * The Graph core: CSR order, the COO and source-CSR views, degrees and the
 * dense matrix, each checked against plain loops over the input edges.
 */

import { describe, expect, it } from "vitest";
import { GraphError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { mulberry32, randInt, randomEdges } from "../helpers/random.js";

/** Input edges sorted stably by (dst, src): the order CSR must have. */
function referenceOrder(src: number[], dst: number[]): number[] {
  const ids = src.map((_, e) => e);
  return ids.sort((a, b) => dst[a] - dst[b] || src[a] - src[b]);
}

describe("Graph.fromEdges", () => {
  it("sorts edges by (dst, src) and keeps duplicates in input order", () => {
    const rng = mulberry32(1);
    for (let trial = 0; trial < 20; trial++) {
      const n = randInt(rng, 1, 12);
      const m = randInt(rng, 0, 60);
      const { src, dst } = randomEdges(rng, { numNodes: n, numEdges: m });

      // the weight of edge e is e, which tags every edge with its index
      const weights = src.map((_, e) => e);
      const g = Graph.fromEdges(src, dst, { numNodes: n, weights });
      const order = referenceOrder(src, dst);
      expect(g.numNodes).toBe(n);
      expect(g.numEdges).toBe(m);
      expect(Array.from(g.weights as Float32Array)).toEqual(order);
      expect(Array.from(g.src)).toEqual(order.map((e) => src[e]));
      expect(Array.from(g.dst)).toEqual(order.map((e) => dst[e]));
      for (let i = 0; i < n; i++) {
        for (let e = g.rowPtr[i]; e < g.rowPtr[i + 1]; e++) {
          expect(g.dst[e]).toBe(i);
        }
      }
    }
  });

  it("infers the node count from the largest id", () => {
    expect(Graph.fromEdges([0, 4], [1, 2]).numNodes).toBe(5);
    expect(Graph.fromEdges([], []).numNodes).toBe(0);
    expect(Graph.fromEdges([0], [1], { numNodes: 7 }).numNodes).toBe(7);
  });

  it("is unweighted without weights and weighs 1 per edge", () => {
    const g = Graph.fromEdges([0, 1], [1, 0]);
    expect(g.isWeighted).toBe(false);
    expect(g.weights).toBeNull();
    expect(g.weight(0)).toBe(1);
    expect(g.toString()).toBe("Graph(N=2, E=2, unweighted)");
  });

  it("raises GraphError for malformed input", () => {
    const bad: Array<() => Graph> = [
      () => Graph.fromEdges([0, 1], [1]),
      () => Graph.fromEdges([0.5], [1]),
      () => Graph.fromEdges([-1], [1]),
      () => Graph.fromEdges([0], [Number.NaN]),
      () => Graph.fromEdges([0], [3], { numNodes: 3 }),
      () => Graph.fromEdges([0], [1], { numNodes: -1 }),
      () => Graph.fromEdges([0], [1], { weights: [1, 2] }),
      () => Graph.fromEdges([0], [1], { weights: [Number.NaN] }),
      () => Graph.fromEdges([0], [1], { weights: [Number.POSITIVE_INFINITY] }),
      () => Graph.fromEdges([0], [1], { weights: [-1] }),
      // finite in float64 but +Inf once stored as float32
      () => Graph.fromEdges([0], [1], { weights: [1e39] }),
      () => Graph.fromEdges([0], [1], { weights: [-1e39] }),
    ];
    for (const f of bad) expect(f).toThrow(GraphError);
  });

  it("accepts negative weights only when asked", () => {
    const g = Graph.fromEdges([0], [1], {
      weights: [-2],
      allowNegativeWeights: true,
    });
    expect(g.weight(0)).toBe(-2);
  });
});

describe("Graph.fromCSR", () => {
  it("keeps sorted rows and sorts unsorted rows stably", () => {
    const rowPtr = Int32Array.from([0, 3, 3, 5]);
    const colIdx = Int32Array.from([2, 0, 2, 1, 1]);
    const weights = Float32Array.from([10, 11, 12, 13, 14]);
    const g = Graph.fromCSR(rowPtr, colIdx, weights);
    expect(Array.from(g.rowPtr)).toEqual([0, 3, 3, 5]);
    expect(Array.from(g.colIdx)).toEqual([0, 2, 2, 1, 1]);
    expect(Array.from(g.weights as Float32Array)).toEqual([11, 10, 12, 13, 14]);

    const sorted = Graph.fromCSR(
      Int32Array.from([0, 1, 2]),
      Int32Array.from([1, 0]),
    );
    expect(Array.from(sorted.colIdx)).toEqual([1, 0]);
  });

  it("raises GraphError for inconsistent arrays", () => {
    const i32 = (a: number[]) => Int32Array.from(a);
    const bad: Array<() => Graph> = [
      () => Graph.fromCSR(i32([]), i32([])),
      () => Graph.fromCSR(i32([1, 1]), i32([0])),
      () => Graph.fromCSR(i32([0, 2]), i32([0])),
      () => Graph.fromCSR(i32([0, 2, 1]), i32([0])),
      () => Graph.fromCSR(i32([0, 1]), i32([1])),
      () => Graph.fromCSR(i32([0, 1]), i32([-1])),
      () => Graph.fromCSR(i32([0, 1]), i32([0]), new Float32Array(2)),
      () => Graph.fromCSR(i32([0, 1]), i32([0]), Float32Array.from([-1])),
      () => Graph.fromCSR(i32([0, 1]), i32([0]), Float32Array.from([NaN])),
    ];
    for (const f of bad) expect(f).toThrow(GraphError);
  });
});

describe("Graph views and degrees", () => {
  const rng = mulberry32(2);
  const cases = Array.from({ length: 10 }, () => {
    const n = randInt(rng, 1, 10);
    const m = randInt(rng, 0, 40);
    const weighted = rng() < 0.5;
    return { n, ...randomEdges(rng, { numNodes: n, numEdges: m, weighted }) };
  });

  it("sourceCSR lists every edge once, by source, in CSR order", () => {
    for (const { n, src, dst, weights } of cases) {
      const g = Graph.fromEdges(src, dst, { numNodes: n, weights });
      const s = g.sourceCSR;
      expect(s.colPtr.length).toBe(n + 1);
      expect(s.colPtr[n]).toBe(g.numEdges);
      const seen = new Set<number>();
      for (let j = 0; j < n; j++) {
        for (let k = s.colPtr[j]; k < s.colPtr[j + 1]; k++) {
          const e = s.edgeIds[k];
          seen.add(e);
          expect(g.src[e]).toBe(j);
          expect(g.dst[e]).toBe(s.rowIdx[k]);
          if (k > s.colPtr[j]) expect(s.edgeIds[k - 1]).toBeLessThan(e);
          if (s.weights !== null) expect(s.weights[k]).toBe(g.weight(e));
        }
      }
      expect(seen.size).toBe(g.numEdges);
      expect(s.weights === null).toBe(weights === null);
      expect(g.sourceCSR).toBe(s);
    }
  });

  it("degrees and toDense match sums over the input edges", () => {
    for (const { n, src, dst, weights } of cases) {
      const g = Graph.fromEdges(src, dst, { numNodes: n, weights });
      const dense = new Float64Array(n * n);
      const inDeg = new Float64Array(n);
      const outDeg = new Float64Array(n);
      const counts = new Int32Array(n);
      for (let e = 0; e < src.length; e++) {
        const w = weights === null ? 1 : weights[e];
        dense[dst[e] * n + src[e]] += w;
        inDeg[dst[e]] += w;
        outDeg[src[e]] += w;
        counts[dst[e]]++;
      }
      // weights are multiples of 1/8, so every sum here is exact
      expect(Array.from(g.toDense())).toEqual(Array.from(dense));
      expect(Array.from(g.inDegrees())).toEqual(Array.from(inDeg));
      expect(Array.from(g.outDegrees())).toEqual(Array.from(outDeg));
      expect(Array.from(g.inEdgeCounts())).toEqual(Array.from(counts));
    }
  });

  it("empty and withWeights build what they say", () => {
    const e = Graph.empty(4);
    expect(e.numNodes).toBe(4);
    expect(e.numEdges).toBe(0);
    expect(Array.from(e.rowPtr)).toEqual([0, 0, 0, 0, 0]);
    expect(() => Graph.empty(-1)).toThrow(GraphError);

    const g = Graph.fromEdges([0, 1], [1, 1]);
    const h = g.withWeights(Float32Array.from([2, 3]));
    expect(Array.from(h.toDense())).toEqual([0, 0, 2, 3]);
    expect(g.isWeighted).toBe(false);
    expect(() => g.withWeights(new Float32Array(1))).toThrow(GraphError);
    expect(() => g.withWeights(Float32Array.from([1, -1]))).toThrow(GraphError);
  });
});
