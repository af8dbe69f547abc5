/**
 * Augmentation graphs against independent references: the data
 * augmentation graph against the explicit dense triple sum
 * Σ_x̄ Σ_x Σ_x' p(x̄) A(x|x̄) A(x'|x̄) in float64, and by hand on a small
 * case; the latent-class graph against the empirical mean of sampled
 * block models; the sampled mini-batch graph against its definition.
 */

import { describe, expect, it } from "vitest";
import {
  augmentationGraphFromData,
  augmentationGraphFromPoints,
  latentClassAugmentationGraph,
  type NeighbourhoodRule,
  type SparseConditional,
  sampledAugmentationGraph,
  type ViewProbability,
} from "../../src/contrastive/augmentation.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { stochasticBlockModel } from "../../src/graph/generators.js";
import { isSymmetric } from "../../src/graph/transforms.js";
import { mulberry32, type Random } from "../../src/random.js";

/** A random dense conditional: each row a distribution on a few views. */
function randomConditional(
  r: Random,
  numSamples: number,
  numViews: number,
): number[][] {
  return Array.from({ length: numSamples }, () => {
    const row = new Array<number>(numViews).fill(0);
    const count = 1 + Math.floor(r() * 4);
    for (let t = 0; t < count; t++) {
      row[Math.floor(r() * numViews)] += 0.1 + r();
    }
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => v / s);
  });
}

/** The dense triple sum A(x, x') = Σ_x̄ p(x̄) A(x|x̄) A(x'|x̄). */
function denseAugmentation(p: number[], cond: number[][], n: number) {
  const a = new Float64Array(n * n);
  for (let s = 0; s < cond.length; s++) {
    for (let x = 0; x < n; x++) {
      for (let y = 0; y < n; y++) {
        a[x * n + y] += p[s] * cond[s][x] * cond[s][y];
      }
    }
  }
  return a;
}

/** The conditional as lists of { view, prob } (non-zero entries). */
function asLists(cond: number[][]): ViewProbability[][] {
  return cond.map((row) =>
    row.flatMap((prob, view) => (prob > 0 ? [{ view, prob }] : [])),
  );
}

/** The conditional as a sparse CSR matrix (non-zero entries). */
function asSparse(cond: number[][]): SparseConditional {
  const rowPtr = [0];
  const colIdx: number[] = [];
  const values: number[] = [];
  for (const row of cond) {
    row.forEach((v, j) => {
      if (v > 0) {
        colIdx.push(j);
        values.push(v);
      }
    });
    rowPtr.push(colIdx.length);
  }
  return { rowPtr, colIdx, values };
}

describe("augmentationGraphFromData", () => {
  it("equals the dense triple sum (function and sparse forms)", () => {
    const r = mulberry32(31);
    for (const [numSamples, numViews] of [
      [5, 8],
      [20, 30],
      [40, 12],
    ]) {
      const cond = randomConditional(r, numSamples, numViews);
      const raw = Array.from({ length: numSamples }, () => 0.05 + r());
      const total = raw.reduce((a, b) => a + b, 0);
      const p = raw.map((v) => v / total);
      const reference = denseAugmentation(p, cond, numViews);
      const lists = asLists(cond);
      for (const conditional of [(s: number) => lists[s], asSparse(cond)]) {
        const g = augmentationGraphFromData({
          numSamples,
          numViews,
          p,
          conditional,
        });
        expect(g.numNodes).toBe(numViews);
        expect(isSymmetric(g)).toBe(true);
        const a = g.toDense();

        // float32 storage: relative error below 2^-23 per entry
        let mass = 0;
        for (let t = 0; t < a.length; t++) {
          expect(Math.abs(a[t] - reference[t])).toBeLessThanOrEqual(
            1.2e-7 * reference[t],
          );
          expect(a[t] === 0).toBe(reference[t] === 0);
          mass += reference[t];
        }
        expect(mass).toBeCloseTo(1, 12);
      }
    }
  });

  it("reproduces a hand-computed case with uniform p", () => {
    // sample 0 yields views 0 and 1 with 1/2 each, sample 1 yields view
    // 1 with 1/4 and view 2 with 3/4; p = (1/2, 1/2):
    //   A(0,0) = 1/2 · 1/4 = 1/8,  A(0,1) = 1/2 · 1/4 = 1/8,
    //   A(1,1) = 1/2 · 1/4 + 1/2 · 1/16 = 5/32,
    //   A(1,2) = 1/2 · 3/16 = 3/32,  A(2,2) = 1/2 · 9/16 = 9/32
    const lists = [
      [
        { view: 0, prob: 0.5 },
        { view: 1, prob: 0.5 },
      ],
      [
        { view: 1, prob: 0.25 },
        { view: 2, prob: 0.75 },
      ],
    ];
    const g = augmentationGraphFromData({
      numSamples: 2,
      numViews: 4,
      conditional: (s) => lists[s],
    });
    expect(Array.from(g.toDense())).toEqual([
      1 / 8,
      1 / 8,
      0,
      0,
      1 / 8,
      5 / 32,
      3 / 32,
      0,
      0,
      3 / 32,
      9 / 32,
      0,
      0,
      0,
      0,
      0,
    ]);

    // without self-loops only the off-diagonal pairs stay
    const h = augmentationGraphFromData({
      numSamples: 2,
      numViews: 4,
      conditional: (s) => lists[s],
      selfLoops: false,
    });
    expect(h.numEdges).toBe(4);
    for (let e = 0; e < h.numEdges; e++) {
      expect(h.src[e]).not.toBe(h.dst[e]);
    }
  });

  it("sums a view listed twice and skips zero probabilities", () => {
    const g = augmentationGraphFromData({
      numSamples: 1,
      numViews: 2,
      conditional: () => [
        { view: 0, prob: 0.25 },
        { view: 1, prob: 0 },
        { view: 0, prob: 0.75 },
      ],
    });
    expect(Array.from(g.toDense())).toEqual([1, 0, 0, 0]);
    expect(g.numEdges).toBe(1);
  });

  it("has degrees equal to the view marginals Σ p(x̄) A(x|x̄)", () => {
    const r = mulberry32(5);
    const cond = randomConditional(r, 15, 10);
    const p = new Array<number>(15).fill(1 / 15);
    const g = augmentationGraphFromData({
      numSamples: 15,
      numViews: 10,
      conditional: asSparse(cond),
    });
    const deg = g.inDegrees();
    for (let x = 0; x < 10; x++) {
      const marginal = cond.reduce((s, row, t) => s + p[t] * row[x], 0);
      expect(deg[x]).toBeCloseTo(marginal, 6);
    }
  });

  it("raises typed errors on bad input", () => {
    const ok = () => [{ view: 0, prob: 1 }];
    const base = { numSamples: 2, numViews: 2, conditional: ok };
    expect(() => augmentationGraphFromData({ ...base, p: [1] })).toThrow(
      ShapeError,
    );
    expect(() => augmentationGraphFromData({ ...base, p: [0.5, 0.6] })).toThrow(
      ConfigError,
    );
    expect(() =>
      augmentationGraphFromData({ ...base, p: [1.5, -0.5] }),
    ).toThrow(ConfigError);
    expect(() =>
      augmentationGraphFromData({
        ...base,
        conditional: () => [{ view: 2, prob: 1 }],
      }),
    ).toThrow(ConfigError);
    expect(() =>
      augmentationGraphFromData({
        ...base,
        conditional: () => [{ view: 0, prob: 0.5 }],
      }),
    ).toThrow(ConfigError);
    expect(() => augmentationGraphFromData({ ...base, numViews: -1 })).toThrow(
      ConfigError,
    );
    expect(() =>
      augmentationGraphFromData({
        ...base,
        conditional: { rowPtr: [0, 1], colIdx: [0], values: [1] },
      }),
    ).toThrow(ShapeError);
    expect(() =>
      augmentationGraphFromData({
        ...base,
        conditional: { rowPtr: [0, 1, 2], colIdx: [0, 1], values: [1] },
      }),
    ).toThrow(ShapeError);
  });
});

describe("latentClassAugmentationGraph", () => {
  it("matches its definition on a small case, by hand", () => {
    const g = latentClassAugmentationGraph([0, 1, 0], {
      within: 0.5,
      between: 0.25,
    });
    expect(Array.from(g.toDense())).toEqual([
      0, 0.25, 0.5, 0.25, 0, 0.25, 0.5, 0.25, 0,
    ]);
    const h = latentClassAugmentationGraph([0, 1, 0], { selfLoops: true });
    expect(Array.from(h.toDense())).toEqual([1, 0, 1, 0, 1, 0, 1, 0, 1]);
    expect(isSymmetric(h)).toBe(true);
  });

  it("is the expectation of the sampled block model", () => {
    // the mean adjacency over 400 samples is within 5 standard errors
    // of the expected graph, entry by entry
    const sizes = [6, 4];
    const pIn = 0.6;
    const pOut = 0.15;
    const trials = 400;
    const n = 10;
    const mean = new Float64Array(n * n);
    let blocks: Int32Array = new Int32Array(0);
    for (let t = 0; t < trials; t++) {
      const s = stochasticBlockModel({ sizes, pIn, pOut }, { seed: t });
      blocks = s.blocks;
      const d = s.graph.toDense();
      for (let k = 0; k < n * n; k++) mean[k] += d[k] / trials;
    }
    const expected = latentClassAugmentationGraph(blocks, {
      within: pIn,
      between: pOut,
    }).toDense();
    for (let k = 0; k < n * n; k++) {
      const q = expected[k];
      const se = Math.sqrt((q * (1 - q)) / trials);
      expect(Math.abs(mean[k] - q)).toBeLessThanOrEqual(5 * se + 1e-12);
    }
  });

  it("raises ConfigError on bad input", () => {
    expect(() => latentClassAugmentationGraph([0, -1])).toThrow(ConfigError);
    expect(() => latentClassAugmentationGraph([0, 0.5])).toThrow(ConfigError);
    expect(() => latentClassAugmentationGraph([0], { within: -1 })).toThrow(
      ConfigError,
    );
    expect(() =>
      latentClassAugmentationGraph([0], { between: Number.NaN }),
    ).toThrow(ConfigError);
  });
});

describe("sampledAugmentationGraph", () => {
  it("joins every two views of a sample, both ways, without loops", () => {
    for (const [batchSize, views] of [
      [5, 2],
      [4, 3],
      [1, 4],
      [3, 1],
      [0, 2],
    ]) {
      const { graph, sampleOf, viewOf, nodeOf } = sampledAugmentationGraph({
        batchSize,
        views,
      });
      const n = batchSize * views;
      expect(graph.numNodes).toBe(n);
      expect(graph.numEdges).toBe(views * (views - 1) * batchSize);
      expect(graph.isWeighted).toBe(false);
      const a = graph.toDense();
      for (let i = 0; i < n; i++) {
        expect(nodeOf(sampleOf[i], viewOf[i])).toBe(i);
        for (let j = 0; j < n; j++) {
          const positive = i !== j && sampleOf[i] === sampleOf[j];
          expect(a[i * n + j]).toBe(positive ? 1 : 0);
        }
      }
    }
  });

  it("puts the positive of node i at (i + B) mod 2B for two views", () => {
    const { graph, sampleOf, viewOf } = sampledAugmentationGraph({
      batchSize: 3,
    });
    expect(Array.from(sampleOf)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(Array.from(viewOf)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(Array.from(graph.colIdx)).toEqual([3, 4, 5, 0, 1, 2]);
  });

  it("raises ConfigError on bad input", () => {
    expect(() => sampledAugmentationGraph({ batchSize: -1 })).toThrow(
      ConfigError,
    );
    expect(() => sampledAugmentationGraph({ batchSize: 2, views: 0 })).toThrow(
      ConfigError,
    );
    expect(() => sampledAugmentationGraph({ batchSize: 1.5 })).toThrow(
      ConfigError,
    );
    const { nodeOf } = sampledAugmentationGraph({ batchSize: 2 });
    expect(() => nodeOf(2, 0)).toThrow(ConfigError);
    expect(() => nodeOf(0, 2)).toThrow(ConfigError);
  });
});

describe("augmentationGraphFromPoints", () => {
  // five points on a line at 0, 0.3, 0.6, 1.5, 1.6
  const points = new Float64Array([0, 0.3, 0.6, 1.5, 1.6]);

  /** The undirected edges of a graph as sorted "i-j" strings, i < j. */
  function edges(g: { src: Int32Array; dst: Int32Array }): string[] {
    const out: string[] = [];
    for (let e = 0; e < g.src.length; e++) {
      if (g.src[e] < g.dst[e]) out.push(`${g.src[e]}-${g.dst[e]}`);
    }
    return out.sort();
  }

  it("ε-ball: an edge for every pair within eps (hand-computed)", () => {
    const g = augmentationGraphFromPoints(points, 5, 1, {
      kind: "epsilon",
      eps: 0.35,
    });
    expect(edges(g)).toEqual(["0-1", "1-2", "3-4"]);
    expect(isSymmetric(g)).toBe(true);
  });

  it("kNN with k = 1, union: each point joins its nearest", () => {
    const g = augmentationGraphFromPoints(points, 5, 1, { kind: "knn", k: 1 });
    // nearest of 0 is 1; of 1 is 0 or 2 (0.3 away each, up to rounding);
    // of 2 is 1; of 3 is 4; of 4 is 3: the union is the same either way
    expect(edges(g)).toEqual(["0-1", "1-2", "3-4"]);
  });

  it("an unknown rule is a ConfigError", () => {
    expect(() =>
      augmentationGraphFromPoints(points, 5, 1, {
        kind: "ball",
      } as unknown as NeighbourhoodRule),
    ).toThrow(ConfigError);
  });
});
