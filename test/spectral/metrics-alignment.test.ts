import { describe, expect, it } from "vitest";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { alignment, uniformity } from "../../src/spectral/alignment.js";
import { randomMatrix, seededRandom, unitRows } from "./helpers.js";

const dist2 = (a: number[], b: number[]): number =>
  a.reduce((s, v, c) => s + (v - b[c]) ** 2, 0);

describe("alignment", () => {
  const n = 30;
  const k = 5;
  const rand = seededRandom(51);
  const x = randomMatrix(rand, n, k);
  const noise = randomMatrix(rand, n, k);
  const y = x.map((v, i) => v + 0.3 * noise[i]);
  const ux = unitRows(x, n, k);
  const uy = unitRows(y, n, k);

  it("is the mean squared distance of normalized positive pairs", () => {
    let expected = 0;
    for (let i = 0; i < n; i++) expected += dist2(ux[i], uy[i]) / n;
    const got = alignment(
      { data: x, rows: n, cols: k },
      { data: y, rows: n, cols: k },
    );
    expect(got).toBeCloseTo(expected, 14);

    let expected1 = 0;
    for (let i = 0; i < n; i++) expected1 += Math.sqrt(dist2(ux[i], uy[i])) / n;
    const got1 = alignment(
      { data: x, rows: n, cols: k },
      { data: y, rows: n, cols: k },
      { alpha: 1 },
    );
    expect(got1).toBeCloseTo(expected1, 14);
  });

  it("reads positive pairs from an augmentation graph", () => {
    // stack both views; edges i <-> n + i, both directions
    const stacked = new Float64Array(2 * n * k);
    stacked.set(x);
    stacked.set(y, n * k);
    const src: number[] = [];
    const dst: number[] = [];
    for (let i = 0; i < n; i++) {
      src.push(i, n + i);
      dst.push(n + i, i);
    }
    const g = Graph.fromEdges(src, dst, { numNodes: 2 * n });
    const viaGraph = alignment({ data: stacked, rows: 2 * n, cols: k }, g);
    const viaRows = alignment(
      { data: x, rows: n, cols: k },
      { data: y, rows: n, cols: k },
    );
    expect(viaGraph).toBeCloseTo(viaRows, 14);

    // weights: a weighted mean over edges
    const w = src.map((_, e) => (e % 4 === 0 ? 3 : 1));
    const gw = Graph.fromEdges(src, dst, { numNodes: 2 * n, weights: w });
    let num = 0;
    let den = 0;
    for (let e = 0; e < src.length; e++) {
      const a = src[e] < n ? ux[src[e]] : uy[src[e] - n];
      const b = dst[e] < n ? ux[dst[e]] : uy[dst[e] - n];
      num += w[e] * dist2(a, b);
      den += w[e];
    }
    expect(alignment({ data: stacked, rows: 2 * n, cols: k }, gw)).toBeCloseTo(
      num / den,
      13,
    );
  });

  it("respects normalize: false and rejects bad inputs", () => {
    const a = { data: new Float64Array([3, 0]), rows: 1, cols: 2 };
    const b = { data: new Float64Array([0, 4]), rows: 1, cols: 2 };
    expect(alignment(a, b, { normalize: false })).toBe(25);
    expect(alignment(a, b)).toBeCloseTo(2, 15);
    expect(() =>
      alignment(a, { data: new Float64Array(4), rows: 2, cols: 2 }),
    ).toThrow(ShapeError);
    expect(() => alignment(a, b, { alpha: 0 })).toThrow(ConfigError);
    expect(() => alignment(a, Graph.empty(1))).toThrow(ConfigError);
    expect(() => alignment(a, Graph.empty(3))).toThrow(ShapeError);
  });
});

describe("uniformity", () => {
  it("is log of the mean Gaussian potential over distinct pairs", () => {
    const n = 40;
    const k = 3;
    const x = randomMatrix(seededRandom(52), n, k);
    const u = unitRows(x, n, k);
    for (const t of [2, 0.5]) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) s += Math.exp(-t * dist2(u[i], u[j]));
      }
      const expected = Math.log(s / ((n * (n - 1)) / 2));
      for (const blockSize of [1, 7, 256]) {
        const got = uniformity({ data: x, rows: n, cols: k }, { t, blockSize });
        expect(got).toBeCloseTo(expected, 13);
      }
    }
  });

  it("matches closed forms: collapse, antipodes, regular simplex", () => {
    const same = new Float64Array(20).fill(1);
    expect(uniformity({ data: same, rows: 5, cols: 4 })).toBe(0);
    const antipodes = new Float64Array([1, 0, -1, 0]);
    expect(uniformity({ data: antipodes, rows: 2, cols: 2 })).toBeCloseTo(
      -8,
      14,
    );

    // the vertices e_i − mean of a regular simplex: cos = −1 / (m − 1)
    const m = 6;
    const simplex = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++)
        simplex[i * m + j] = (i === j ? 1 : 0) - 1 / m;
    }
    const expected = -2 * (2 + 2 / (m - 1));
    expect(uniformity({ data: simplex, rows: m, cols: m })).toBeCloseTo(
      expected,
      13,
    );
  });

  it("does not underflow on unnormalized features", () => {
    // two points 100 apart: log exp(−t · 10^4) = −2 · 10^4
    const far = { data: new Float64Array([0, 100]), rows: 2, cols: 1 };
    expect(uniformity(far, { normalize: false })).toBe(-2e4);
    expect(() =>
      uniformity({ data: new Float64Array(2), rows: 1, cols: 2 }),
    ).toThrow(ConfigError);
    expect(() => uniformity(far, { t: -1 })).toThrow(ConfigError);
  });
});
