/**
 * Graph generators against brute force: ε-ball graphs (cell list and all
 * pairs) against a double loop over Math.hypot distances, kNN graphs
 * against a full sort of each row (with ties), SBM edge frequencies and
 * Gaussian-mixture moments within stated statistical bounds at fixed
 * seeds, and the small named graphs against their adjacency by hand.
 */

import { describe, expect, it } from "vitest";
import { ConfigError, ShapeError } from "../../src/errors.js";
import {
  completeBipartiteGraph,
  completeGraph,
  cycleGraph,
  epsilonBallGraph,
  gaussianMixture,
  knnGraph,
  pathGraph,
  starGraph,
  stochasticBlockModel,
} from "../../src/graph/generators.js";
import type { Graph } from "../../src/graph/graph.js";
import { isSymmetric } from "../../src/graph/transforms.js";
import { mulberry32 } from "../../src/random.js";

/** Uniform random points in [0, scale)^dim. */
function randomPoints(seed: number, n: number, dim: number, scale = 1) {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n * dim }, () => scale * r());
}

/** The sorted list of directed edges "src>dst:weight" of a graph. */
function edgeSet(g: Graph): string[] {
  const out: string[] = [];
  const { src, dst } = g;
  for (let e = 0; e < g.numEdges; e++) {
    out.push(`${src[e]}>${dst[e]}:${g.weight(e)}`);
  }
  return out.sort();
}

/** The edges as a dense 0/1 matrix M[dst][src] (counting duplicates). */
function dense(g: Graph): number[][] {
  const n = g.numNodes;
  const m = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const d = g.toDense();
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) m[i][j] = d[i * n + j];
  }
  return m;
}

describe("epsilonBallGraph", () => {
  /** The brute-force reference, with distances by Math.hypot. */
  function bruteForce(
    p: Float64Array | Float32Array,
    n: number,
    dim: number,
    eps: number,
    weighted: boolean,
    loops: boolean,
  ): string[] {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const diff: number[] = [];
        for (let c = 0; c < dim; c++)
          diff.push(p[i * dim + c] - p[j * dim + c]);
        const d = Math.hypot(...diff);
        if (i === j ? loops : d <= eps) {
          const w = weighted ? Math.fround(d) : 1;
          out.push(`${j}>${i}:${w}`);
        }
      }
    }
    return out.sort();
  }

  it("matches brute force in 1–5 dimensions (cell list, all pairs)", () => {
    let seed = 1;
    for (const dim of [1, 2, 3, 4, 5]) {
      for (const [n, scale, eps] of [
        [200, 1, 0.1],
        [150, 10, 1.5],
        [40, 1, 0.6],
        [30, 100, 0.5],
      ]) {
        const p = randomPoints(seed++, n, dim, scale);
        for (const weighted of [false, true]) {
          const g = epsilonBallGraph(p, n, dim, eps, { weighted });
          expect(edgeSet(g)).toEqual(
            bruteForce(p, n, dim, eps, weighted, false),
          );
          expect(isSymmetric(g)).toBe(true);
        }
      }
    }
  });

  it("matches brute force on the Figure-1 data (ε = 0.4)", () => {
    const { points, n, dim } = gaussianMixture(
      {
        means: [
          [-1, 0],
          [1, 0],
        ],
        variance: 0.7,
        counts: [250, 250],
      },
      { seed: 1 },
    );
    const g = epsilonBallGraph(points, n, dim, 0.4);
    expect(edgeSet(g)).toEqual(bruteForce(points, n, dim, 0.4, false, false));
    expect(g.numEdges).toBeGreaterThan(n);
  });

  it("reproduces a hand-computed case, with and without loops", () => {
    // points 0 and 1 are 0.4 apart (on the boundary), 2 is 0.5 from 1
    const p = new Float64Array([0, 0, 0.4, 0, 0.4, 0.5]);
    const g = epsilonBallGraph(p, 3, 2, 0.4);
    expect(dense(g)).toEqual([
      [0, 1, 0],
      [1, 0, 0],
      [0, 0, 0],
    ]);
    const h = epsilonBallGraph(p, 3, 2, 0.5, { selfLoops: true });
    expect(dense(h)).toEqual([
      [1, 1, 0],
      [1, 1, 1],
      [0, 1, 1],
    ]);
    expect(epsilonBallGraph(p, 3, 2, 0).numEdges).toBe(0);
  });

  it("handles float32 points, duplicates and ε = 0", () => {
    const p = new Float32Array([0.1, 0.1, 0.1, 0.7]);
    const g = epsilonBallGraph(p, 4, 1, 0, { weighted: true });
    expect(edgeSet(g)).toEqual(bruteForce(p, 4, 1, 0, true, false));
    expect(g.numEdges).toBe(6);
    const q = randomPoints(3, 300, 2).map((v) => Math.round(v * 20) / 20);
    const f = Float32Array.from(q);
    expect(edgeSet(epsilonBallGraph(f, 300, 2, 0.05))).toEqual(
      bruteForce(f, 300, 2, 0.05, false, false),
    );
  });

  it("raises typed errors on bad input", () => {
    const p = new Float64Array(6);
    expect(() => epsilonBallGraph(p, 4, 2, 0.1)).toThrow(ShapeError);
    expect(() => epsilonBallGraph(p, 3, 2, -0.1)).toThrow(ConfigError);
    expect(() => epsilonBallGraph(p, 3, 2, Number.NaN)).toThrow(ConfigError);
    expect(() => epsilonBallGraph(p, 3, 0, 0.1)).toThrow(ConfigError);
    const bad = new Float64Array([0, Number.NaN]);
    expect(() => epsilonBallGraph(bad, 2, 1, 0.1)).toThrow(ConfigError);
  });
});

describe("knnGraph", () => {
  /** The k nearest of each node by a full sort on (distance, index). */
  function bruteNeighbours(
    p: Float64Array,
    n: number,
    dim: number,
    k: number,
    metric: "euclidean" | "cosine",
  ): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < n; i++) {
      const cands: Array<[number, number]> = [];
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        let d = 0;
        if (metric === "euclidean") {
          for (let c = 0; c < dim; c++) {
            d += (p[i * dim + c] - p[j * dim + c]) ** 2;
          }
        } else {
          let dot = 0;
          let ni = 0;
          let nj = 0;
          for (let c = 0; c < dim; c++) {
            dot += p[i * dim + c] * p[j * dim + c];
            ni += p[i * dim + c] ** 2;
            nj += p[j * dim + c] ** 2;
          }
          const den = Math.sqrt(ni) * Math.sqrt(nj);
          d = 1 - (den > 0 ? dot / den : 0);
        }
        cands.push([d, j]);
      }
      cands.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      out.push(cands.slice(0, k).map((c) => c[1]));
    }
    return out;
  }

  /** The expected edge set for one symmetrization. */
  function expected(nb: number[][], mode: string): string[] {
    const has = (i: number, j: number) => nb[i].includes(j);
    const out = new Set<string>();
    nb.forEach((list, i) => {
      for (const j of list) {
        if (mode === "none") out.add(`${j}>${i}:1`);
        if (mode === "union" || has(j, i)) {
          out.add(`${j}>${i}:1`);
          out.add(`${i}>${j}:1`);
        }
      }
    });
    return [...out].sort();
  }

  it("matches brute force for both metrics and every symmetrization", () => {
    let seed = 100;
    for (const metric of ["euclidean", "cosine"] as const) {
      for (const [n, dim, k] of [
        [60, 2, 5],
        [40, 7, 3],
        [12, 3, 11],
        [5, 1, 0],
      ]) {
        const p = randomPoints(seed++, n, dim, 2).map((v) => v - 1);
        const nb = bruteNeighbours(p, n, dim, k, metric);
        for (const mode of ["union", "mutual", "none"] as const) {
          const g = knnGraph(p, n, dim, k, { metric, symmetrize: mode });
          expect(edgeSet(g)).toEqual(expected(nb, mode));
          if (mode !== "none") expect(isSymmetric(g)).toBe(true);
        }
      }
    }
  });

  it("breaks ties by index on an integer grid", () => {
    // a 5 × 5 grid: every interior point has 4 neighbours at distance 1
    // and 4 at √2, so k = 2, 6 pick by index among equals
    const n = 25;
    const p = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      p[2 * i] = i % 5;
      p[2 * i + 1] = Math.floor(i / 5);
    }
    for (const k of [1, 2, 3, 6, 9]) {
      const nb = bruteNeighbours(p, n, 2, k, "euclidean");
      const g = knnGraph(p, n, 2, k, { symmetrize: "none" });
      expect(edgeSet(g)).toEqual(expected(nb, "none"));
    }

    // by hand: node 12 (centre, (2, 2)) with k = 2 picks 7 and 11, the
    // two smallest indices among 7, 11, 13, 17
    const g = knnGraph(p, n, 2, 2, { symmetrize: "none" });
    const row = Array.from(g.colIdx.subarray(g.rowPtr[12], g.rowPtr[13]));
    expect(row).toEqual([7, 11]);

    // all points equal: the neighbours are the k smallest other indices
    const same = new Float64Array(12).fill(0.5);
    const h = knnGraph(same, 6, 2, 2, { symmetrize: "none" });
    expect(Array.from(h.colIdx.subarray(h.rowPtr[0], h.rowPtr[1]))).toEqual([
      1, 2,
    ]);
    expect(Array.from(h.colIdx.subarray(h.rowPtr[4], h.rowPtr[5]))).toEqual([
      0, 1,
    ]);
  });

  it("reproduces a hand-computed 1-D case", () => {
    // points 0, 1, 3, 7: nearest of 0 is 1, of 1 is 0, of 3 is 1, of 7
    // is 3
    const p = new Float64Array([0, 1, 3, 7]);
    expect(dense(knnGraph(p, 4, 1, 1, { symmetrize: "none" }))).toEqual([
      [0, 1, 0, 0],
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
    ]);
    expect(dense(knnGraph(p, 4, 1, 1, { symmetrize: "mutual" }))).toEqual([
      [0, 1, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(dense(knnGraph(p, 4, 1, 1))).toEqual([
      [0, 1, 0, 0],
      [1, 0, 1, 0],
      [0, 1, 0, 1],
      [0, 0, 1, 0],
    ]);
  });

  it("raises typed errors on bad input", () => {
    const p = new Float64Array(8);
    expect(() => knnGraph(p, 4, 2, 4)).toThrow(ConfigError);
    expect(() => knnGraph(p, 4, 2, -1)).toThrow(ConfigError);
    expect(() => knnGraph(p, 5, 2, 1)).toThrow(ShapeError);
    const metric = "manhattan" as "cosine";
    expect(() => knnGraph(p, 4, 2, 1, { metric })).toThrow(ConfigError);
    const symmetrize = "max" as "union";
    expect(() => knnGraph(p, 4, 2, 1, { symmetrize })).toThrow(ConfigError);
  });
});

describe("stochasticBlockModel", () => {
  it("has edge frequencies within 4 standard errors of P", () => {
    const sizes = [60, 40, 80];
    const probabilities = [
      [0.3, 0.05, 0.1],
      [0.05, 0.5, 0.02],
      [0.1, 0.02, 0.2],
    ];
    const { graph, blocks } = stochasticBlockModel(
      { sizes, probabilities },
      { seed: 12 },
    );
    expect(graph.numNodes).toBe(180);
    expect(isSymmetric(graph)).toBe(true);
    expect(Array.from(blocks.slice(58, 62))).toEqual([0, 0, 1, 1]);

    // count undirected edges and pairs per block pair
    const edges = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    const { src, dst } = graph;
    for (let e = 0; e < graph.numEdges; e++) {
      expect(src[e]).not.toBe(dst[e]);
      if (src[e] < dst[e]) edges[blocks[src[e]] * 3 + blocks[dst[e]]]++;
    }
    for (let a = 0; a < 3; a++) {
      for (let b = a; b < 3; b++) {
        const pairs =
          a === b ? (sizes[a] * (sizes[a] - 1)) / 2 : sizes[a] * sizes[b];
        const count = edges[a * 3 + b] + (a === b ? 0 : edges[b * 3 + a]);
        const q = probabilities[a][b];
        const sd = Math.sqrt(pairs * q * (1 - q));
        expect(Math.abs(count - pairs * q)).toBeLessThan(4 * sd);
      }
    }
  });

  it("is deterministic per seed and takes the two-level form", () => {
    const spec = { sizes: [20, 30], pIn: 0.4, pOut: 0.1 };
    const a = stochasticBlockModel(spec, { seed: 3 });
    const b = stochasticBlockModel(spec, { seed: 3 });
    const c = stochasticBlockModel(spec, { seed: 4 });
    expect(edgeSet(a.graph)).toEqual(edgeSet(b.graph));
    expect(edgeSet(a.graph)).not.toEqual(edgeSet(c.graph));
    const m = stochasticBlockModel(
      {
        sizes: [20, 30],
        probabilities: [
          [0.4, 0.1],
          [0.1, 0.4],
        ],
      },
      { random: mulberry32(3) },
    );
    expect(edgeSet(m.graph)).toEqual(edgeSet(a.graph));
  });

  it("gives cliques for pIn = 1, pOut = 0", () => {
    const { graph } = stochasticBlockModel({
      sizes: [3, 2],
      pIn: 1,
      pOut: 0,
    });
    expect(dense(graph)).toEqual([
      [0, 1, 1, 0, 0],
      [1, 0, 1, 0, 0],
      [1, 1, 0, 0, 0],
      [0, 0, 0, 0, 1],
      [0, 0, 0, 1, 0],
    ]);
  });

  it("raises ConfigError on bad input", () => {
    expect(() =>
      stochasticBlockModel({ sizes: [], pIn: 0.5, pOut: 0.1 }),
    ).toThrow(ConfigError);
    expect(() =>
      stochasticBlockModel({ sizes: [2, -1], pIn: 0.5, pOut: 0.1 }),
    ).toThrow(ConfigError);
    expect(() =>
      stochasticBlockModel({ sizes: [2, 2], pIn: 1.5, pOut: 0.1 }),
    ).toThrow(ConfigError);
    expect(() =>
      stochasticBlockModel({
        sizes: [2, 2],
        probabilities: [
          [0.5, 0.1],
          [0.2, 0.5],
        ],
      }),
    ).toThrow(ConfigError);
    expect(() =>
      stochasticBlockModel({ sizes: [2, 2], probabilities: [[0.5]] }),
    ).toThrow(ConfigError);
  });
});

describe("gaussianMixture", () => {
  it("draws the Figure-1 classes with the right moments", () => {
    const n0 = 4000;
    const n1 = 3000;
    const { points, labels, n, dim } = gaussianMixture(
      {
        means: [
          [-1, 0],
          [1, 0],
        ],
        variance: 0.7,
        counts: [n0, n1],
      },
      { seed: 21 },
    );
    expect(n).toBe(n0 + n1);
    expect(dim).toBe(2);
    expect(points.length).toBe(n * dim);
    expect(labels[n0 - 1]).toBe(0);
    expect(labels[n0]).toBe(1);

    // per class and coordinate: sample mean within 4 σ/√n of the mean,
    // sample variance within 4 σ² √(2/n) of σ²
    const means = [
      [-1, 0],
      [1, 0],
    ];
    const counts = [n0, n1];
    for (let c = 0; c < 2; c++) {
      for (let a = 0; a < 2; a++) {
        let s = 0;
        let s2 = 0;
        for (let i = 0; i < n; i++) {
          if (labels[i] !== c) continue;
          s += points[i * 2 + a];
          s2 += points[i * 2 + a] ** 2;
        }
        const m = s / counts[c];
        const v = s2 / counts[c] - m * m;
        expect(Math.abs(m - means[c][a])).toBeLessThan(
          4 * Math.sqrt(0.7 / counts[c]),
        );
        expect(Math.abs(v - 0.7)).toBeLessThan(
          4 * 0.7 * Math.sqrt(2 / counts[c]),
        );
      }
    }
  });

  it("is deterministic per seed; per-component variances; σ² = 0", () => {
    const spec = {
      means: [
        [0, 0, 0],
        [5, 5, 5],
      ],
      variance: [0, 2],
      counts: [3, 4],
    };
    const a = gaussianMixture(spec, { seed: 1 });
    expect(gaussianMixture(spec, { seed: 1 }).points).toEqual(a.points);
    expect(gaussianMixture(spec, { seed: 2 }).points).not.toEqual(a.points);
    expect(Array.from(a.points.slice(0, 9))).toEqual(new Array(9).fill(0));
    expect(Array.from(a.labels)).toEqual([0, 0, 0, 1, 1, 1, 1]);
  });

  it("raises ConfigError on bad input", () => {
    const means = [[0], [1]];
    expect(() =>
      gaussianMixture({ means, variance: -1, counts: [1, 1] }),
    ).toThrow(ConfigError);
    expect(() => gaussianMixture({ means, variance: 1, counts: [1] })).toThrow(
      ConfigError,
    );
    expect(() =>
      gaussianMixture({ means: [[0], [1, 2]], variance: 1, counts: [1, 1] }),
    ).toThrow(ConfigError);
    expect(() =>
      gaussianMixture({ means, variance: [1], counts: [1, 1] }),
    ).toThrow(ConfigError);
    expect(() =>
      gaussianMixture({ means, variance: 1, counts: [1, 0.5] }),
    ).toThrow(ConfigError);
    expect(() =>
      gaussianMixture({ means: [], variance: 1, counts: [] }),
    ).toThrow(ConfigError);
  });
});

describe("small named graphs", () => {
  it("match their adjacency matrices", () => {
    expect(dense(pathGraph(4))).toEqual([
      [0, 1, 0, 0],
      [1, 0, 1, 0],
      [0, 1, 0, 1],
      [0, 0, 1, 0],
    ]);
    expect(dense(cycleGraph(4))).toEqual([
      [0, 1, 0, 1],
      [1, 0, 1, 0],
      [0, 1, 0, 1],
      [1, 0, 1, 0],
    ]);
    expect(dense(completeGraph(3))).toEqual([
      [0, 1, 1],
      [1, 0, 1],
      [1, 1, 0],
    ]);
    expect(dense(starGraph(4))).toEqual([
      [0, 1, 1, 1],
      [1, 0, 0, 0],
      [1, 0, 0, 0],
      [1, 0, 0, 0],
    ]);
    expect(dense(completeBipartiteGraph(2, 2))).toEqual([
      [0, 0, 1, 1],
      [0, 0, 1, 1],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
    ]);
  });

  it("have the right sizes in edge cases and reject bad counts", () => {
    expect(pathGraph(0).numNodes).toBe(0);
    expect(pathGraph(1).numEdges).toBe(0);
    expect(completeGraph(6).numEdges).toBe(30);
    expect(starGraph(1).numEdges).toBe(0);
    expect(completeBipartiteGraph(3, 0).numNodes).toBe(3);
    expect(completeBipartiteGraph(3, 4).numEdges).toBe(24);
    expect(() => cycleGraph(2)).toThrow(ConfigError);
    expect(() => pathGraph(-1)).toThrow(ConfigError);
    expect(() => starGraph(0)).toThrow(ConfigError);
    expect(() => completeGraph(2.5)).toThrow(ConfigError);
  });
});
