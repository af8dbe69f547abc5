/**
 * kNN rewiring against knnGraph of generators.ts (an independent float64
 * brute force with the same tie rule) on seeded point clouds split over
 * several Gram tiles, a hand-computed line of four points, the documented
 * weights recomputed in float64, the union with an existing graph, and
 * typed errors.
 */

import { describe, expect, it } from "vitest";
import { ConfigError, ShapeError } from "../../../src/errors.js";
import { knnGraph } from "../../../src/graph/generators.js";
import { Graph } from "../../../src/graph/graph.js";
import { addKnnEdges, knnRewire } from "../../../src/graph/rewire/knn.js";
import { isSymmetric } from "../../../src/graph/transforms.js";
import { mulberry32 } from "../../../src/random.js";

/** The directed edges "src>dst:w" of a graph, in CSR order. */
function edgeList(g: Graph): string[] {
  const out: string[] = [];
  for (let e = 0; e < g.numEdges; e++) {
    out.push(`${g.src[e]}>${g.dst[e]}:${g.weight(e)}`);
  }
  return out;
}

/** Seeded uniform points in [0, 1)^d, float32 or float64. */
function points(seed: number, n: number, d: number, f32: boolean) {
  const r = mulberry32(seed);
  const x = Float64Array.from({ length: n * d }, () => r() - 0.3);
  return f32 ? Float32Array.from(x) : x;
}

describe("knnRewire", () => {
  it("matches the brute-force knnGraph, across tiles", () => {
    for (const metric of ["euclidean", "cosine"] as const) {
      for (const [seed, n, d, k] of [
        [1, 150, 7, 5],
        [2, 97, 3, 1],
        [3, 64, 20, 12],
      ]) {
        const x = points(seed, n, d, seed % 2 === 0);
        for (const symmetric of [true, false]) {
          const got = knnRewire(x, n, d, {
            k,
            metric,
            symmetric,
            blockSize: 32,
          });
          const want = knnGraph(x, n, d, k, {
            metric,
            symmetrize: symmetric ? "union" : "none",
          });
          expect(edgeList(got)).toEqual(edgeList(want));
        }
      }
    }
  });

  it("stays exact far from the origin and in high dimension", () => {
    // an offset of 1000 makes float32 Gram entries lose most digits;
    // centring and the float64 check must still give the exact graph
    for (const [seed, n, d] of [
      [11, 120, 5],
      [12, 90, 64],
    ]) {
      const x = points(seed, n, d, false).map((v) => v + 1000);
      for (const metric of ["euclidean", "cosine"] as const) {
        const got = knnRewire(x, n, d, {
          k: 4,
          metric,
          symmetric: false,
          blockSize: 40,
        });
        const want = knnGraph(x, n, d, 4, { metric, symmetrize: "none" });
        expect(edgeList(got)).toEqual(edgeList(want));
      }
    }
  });

  it("breaks distance ties by the smaller index", () => {
    // integer points in a 3 × 3 grid, many of them repeated: ties
    const r = mulberry32(5);
    const n = 80;
    const x = Float64Array.from({ length: 2 * n }, () => Math.floor(3 * r()));
    const got = knnRewire(x, n, 2, {
      k: 6,
      metric: "euclidean",
      symmetric: false,
      blockSize: 16,
    });
    const want = knnGraph(x, n, 2, 6, { symmetrize: "none" });
    expect(edgeList(got)).toEqual(edgeList(want));
  });

  it("links a line of four points by hand", () => {
    // points 0, 1, 3, 7: nearest of each is 1, 0, 1, 3 (as indices 1, 0,
    // 1, 2), so the union is the path 0 - 1 - 2 - 3
    const x = Float64Array.from([0, 1, 3, 7]);
    const g = knnRewire(x, 4, 1, { k: 1, metric: "euclidean" });
    expect(edgeList(g).sort()).toEqual(
      ["0>1:1", "1>0:1", "1>2:1", "2>1:1", "2>3:1", "3>2:1"].sort(),
    );
    const directed = knnRewire(x, 4, 1, {
      k: 1,
      metric: "euclidean",
      symmetric: false,
    });
    expect(edgeList(directed)).toEqual(["1>0:1", "0>1:1", "1>2:1", "2>3:1"]);
  });

  it("weights edges by the documented similarities", () => {
    const n = 60;
    const d = 4;
    const x = points(8, n, d, false);
    const dist2 = (i: number, j: number) => {
      let s = 0;
      for (let c = 0; c < d; c++) s += (x[i * d + c] - x[j * d + c]) ** 2;
      return s;
    };
    const cos = (i: number, j: number) => {
      let s = 0;
      let a = 0;
      let b = 0;
      for (let c = 0; c < d; c++) {
        s += x[i * d + c] * x[j * d + c];
        a += x[i * d + c] ** 2;
        b += x[j * d + c] ** 2;
      }
      return s / Math.sqrt(a * b);
    };

    // cosine: max(0, cos)
    const gc = knnRewire(x, n, d, { k: 3, weighted: true });
    expect(isSymmetric(gc)).toBe(true);
    for (let e = 0; e < gc.numEdges; e++) {
      const want = Math.max(0, cos(gc.src[e], gc.dst[e]));
      expect(Math.abs(gc.weight(e) - want)).toBeLessThan(1e-6);
    }

    // Euclidean: exp(−d² / σ²), σ² the mean squared k-th distance
    const k = 3;
    const plain = knnRewire(x, n, d, {
      k,
      metric: "euclidean",
      symmetric: false,
    });
    let sigma2 = 0;
    for (let i = 0; i < n; i++) {
      let kth = 0;
      for (let e = plain.rowPtr[i]; e < plain.rowPtr[i + 1]; e++) {
        kth = Math.max(kth, dist2(plain.src[e], i));
      }
      sigma2 += kth / n;
    }
    const ge = knnRewire(x, n, d, { k, metric: "euclidean", weighted: true });
    expect(ge.numEdges).toBe(
      knnRewire(x, n, d, { k, metric: "euclidean" }).numEdges,
    );
    for (let e = 0; e < ge.numEdges; e++) {
      const want = Math.exp(-dist2(ge.src[e], ge.dst[e]) / sigma2);
      expect(Math.abs(ge.weight(e) - want)).toBeLessThan(1e-6);
    }
    const fixed = knnRewire(x, n, d, {
      k,
      metric: "euclidean",
      weighted: true,
      bandwidth: 0.5,
    });
    for (let e = 0; e < fixed.numEdges; e++) {
      const want = Math.exp(-dist2(fixed.src[e], fixed.dst[e]) / 0.5);
      expect(Math.abs(fixed.weight(e) - want)).toBeLessThan(1e-6);
    }
  });

  it("adds one self-loop per node only when asked", () => {
    const x = points(4, 30, 3, true);
    const without = knnRewire(x, 30, 3, { k: 2 });
    const withLoops = knnRewire(x, 30, 3, { k: 2, selfLoops: true });
    let loops = 0;
    for (let e = 0; e < without.numEdges; e++) {
      if (without.src[e] === without.dst[e]) loops++;
    }
    expect(loops).toBe(0);
    expect(withLoops.numEdges).toBe(without.numEdges + 30);
    for (let i = 0; i < 30; i++) {
      const row = Array.from(
        withLoops.colIdx.subarray(withLoops.rowPtr[i], withLoops.rowPtr[i + 1]),
      );
      expect(row.filter((j) => j === i)).toHaveLength(1);
    }
  });

  it("gives an empty graph for k = 0 and keeps the node count", () => {
    const g = knnRewire(points(1, 10, 2, false), 10, 2, { k: 0 });
    expect(g.numNodes).toBe(10);
    expect(g.numEdges).toBe(0);
  });

  it("raises typed errors for bad input", () => {
    const x = points(1, 10, 2, false);
    expect(() => knnRewire(x, 10, 3, { k: 2 })).toThrow(ShapeError);
    expect(() => knnRewire(x, 10, 2, { k: 10 })).toThrow(ConfigError);
    expect(() => knnRewire(x, 10, 2, { k: 1.5 })).toThrow(ConfigError);
    expect(() =>
      knnRewire(x, 10, 2, { k: 2, metric: "manhattan" as "cosine" }),
    ).toThrow(ConfigError);
    expect(() => knnRewire(x, 10, 2, { k: 2, blockSize: 0 })).toThrow(
      ConfigError,
    );
    const bad = x.slice();
    bad[3] = Number.NaN;
    expect(() => knnRewire(bad, 10, 2, { k: 2 })).toThrow(ConfigError);
  });
});

describe("addKnnEdges", () => {
  it("keeps the graph's edges and adds only new pairs", () => {
    // the line 0, 1, 3, 7 with a weighted edge 0 — 3 already present;
    // kNN (k = 1) adds 0 — 1, 1 — 2, 2 — 3 with weight 1
    const base = Graph.fromEdges([0, 3, 0, 1], [3, 0, 1, 0], {
      weights: [2, 2, 5, 5],
    });
    const x = Float64Array.from([0, 1, 3, 7]);
    const g = addKnnEdges(base, x, 4, 1, { k: 1, metric: "euclidean" });
    expect(isSymmetric(g)).toBe(true);
    expect(edgeList(g).sort()).toEqual(
      [
        "0>1:5",
        "1>0:5",
        "0>3:2",
        "3>0:2",
        "1>2:1",
        "2>1:1",
        "2>3:1",
        "3>2:1",
      ].sort(),
    );
  });

  it("stays unweighted when both graphs are", () => {
    const x = points(3, 40, 3, false);
    const base = knnRewire(x, 40, 3, { k: 1 });
    const g = addKnnEdges(base, x, 40, 3, { k: 4 });
    expect(g.isWeighted).toBe(false);
    expect(edgeList(g).sort()).toEqual(
      edgeList(knnRewire(x, 40, 3, { k: 4 })).sort(),
    );
  });

  it("raises ShapeError when the node counts differ", () => {
    const x = points(1, 10, 2, false);
    expect(() => addKnnEdges(Graph.empty(9), x, 10, 2, { k: 1 })).toThrow(
      ShapeError,
    );
  });
});
