import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { NumericalError, ShapeError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { dirichletEnergy } from "../../src/spectral/energy.js";
import {
  matmul,
  randomMatrix,
  randomUndirectedGraph,
  seededRandom,
  transpose,
} from "./helpers.js";

/** tr(Xᵀ M X) for a dense N × N matrix M and N × k features X. */
function traceForm(
  m: Float64Array,
  x: Float64Array,
  n: number,
  k: number,
): number {
  const mx = matmul(m, x, n, n, k);
  const xtmx = matmul(transpose(x, n, k), mx, k, n, k);
  let t = 0;
  for (let c = 0; c < k; c++) t += xtmx[c * k + c];
  return t;
}

describe("dirichletEnergy", () => {
  const n = 25;
  const k = 4;
  const rand = seededRandom(41);
  const { graph, dense } = randomUndirectedGraph(rand, n, 0.2, true);
  const x = randomMatrix(rand, n, k);
  const features = { data: x, rows: n, cols: k };
  const degree = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) degree[i] += dense[i * n + j];
  }

  it("normalized: equals tr(Xᵀ Δ̃ X), Δ̃ = I − D̃^-1/2 (A + I) D̃^-1/2", () => {
    const lap = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const a = dense[i * n + j] + (i === j ? 1 : 0);
        const s = Math.sqrt((1 + degree[i]) * (1 + degree[j]));
        lap[i * n + j] = (i === j ? 1 : 0) - a / s;
      }
    }
    const expected = traceForm(lap, x, n, k);
    const got = dirichletEnergy(graph, features);
    expect(Math.abs(got - expected)).toBeLessThan(1e-12 * expected);
  });

  it("plain: equals tr(Xᵀ L X), L = D − A", () => {
    const lap = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        lap[i * n + j] = (i === j ? degree[i] : 0) - dense[i * n + j];
      }
    }
    const expected = traceForm(lap, x, n, k);
    const got = dirichletEnergy(graph, features, { normalized: false });
    expect(Math.abs(got - expected)).toBeLessThan(1e-12 * expected);
  });

  it("does not change when self-loops are added", () => {
    const src = [...graph.src];
    const dst = [...graph.dst];
    const w = [...(graph.weights as Float32Array)];
    for (let i = 0; i < n; i += 2) {
      src.push(i);
      dst.push(i);
      w.push(3);
    }
    const looped = Graph.fromEdges(src, dst, { numNodes: n, weights: w });
    for (const normalized of [true, false]) {
      expect(dirichletEnergy(looped, features, { normalized })).toBe(
        dirichletEnergy(graph, features, { normalized }),
      );
    }
  });

  it("vanishes on its null space", () => {
    // normalized: x_i ∝ √(1 + d_i); plain: constant features
    const y = new Float64Array(n * 2);
    const c = new Float64Array(n * 2).fill(0.7);
    for (let i = 0; i < n; i++) {
      y[i * 2] = Math.sqrt(1 + degree[i]);
      y[i * 2 + 1] = -2 * Math.sqrt(1 + degree[i]);
    }
    expect(dirichletEnergy(graph, { data: y, rows: n, cols: 2 })).toBeLessThan(
      1e-12,
    );
    expect(
      dirichletEnergy(
        graph,
        { data: c, rows: n, cols: 2 },
        { normalized: false },
      ),
    ).toBe(0);
  });

  it("sums the stored directed edges: a hand-computed case", () => {
    // one edge 0 → 1 of weight 2, x = (1, 3): d_0 = 0, d_1 = 2
    const g = Graph.fromEdges([0], [1], { weights: [2] });
    const xs = { data: new Float64Array([1, 3]), rows: 2, cols: 1 };
    expect(dirichletEnergy(g, xs, { normalized: false })).toBe(4);
    expect(dirichletEnergy(g, xs)).toBeCloseTo((Math.sqrt(3) - 1) ** 2, 14);
  });

  it("accepts a tensor and rejects mismatched shapes", () => {
    const t = tf.tensor2d(Float32Array.from(x), [n, k]);
    const f32 = { data: Float32Array.from(x), rows: n, cols: k };
    expect(dirichletEnergy(graph, t)).toBe(dirichletEnergy(graph, f32));
    t.dispose();
    expect(() =>
      dirichletEnergy(graph, { data: new Float64Array(8), rows: 4, cols: 2 }),
    ).toThrow(ShapeError);
    const g = Graph.fromEdges([0], [1], {
      weights: [-2],
      allowNegativeWeights: true,
    });
    const xs = { data: new Float64Array([1, 3]), rows: 2, cols: 1 };
    expect(() => dirichletEnergy(g, xs)).toThrow(NumericalError);
  });
});
