/**
 * APPNPPropagation against the float64 power iteration
 * `Z ← (1 − α) Â Z + α H` (Â written from its definition) for several K
 * and α, with the closed forms α = 1 (Z = H) and α = 0 (Z = Â^K H); the
 * fixed point of the personalized PageRank for large K; seeded edge
 * dropout against the documented draw order; input gradient against
 * central differences; sparse == dense; tensor leaks; typed errors.
 *
 * Tolerances: forward 1e-5 relative + 1e-6 absolute; fixed point 1e-4
 * (float32 accumulation over 60 steps); gradient 1e-4 + 1e-5.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { APPNPPropagation } from "../../src/nn/appnp.js";
import { gcnNormalize } from "../../src/nn/gcn.js";
import { mulberry32 } from "../../src/random.js";
import { centralDifference, dot, randomMatrix } from "../helpers/dense.js";
import {
  add,
  contextOf,
  droppedInput,
  expectClose,
  expectNoLeak,
  gcnMatrix,
  type Matrix,
  map,
  matrix,
  mm,
  sparseish,
  sparseOf,
  take,
  tensorOf,
  testGraph,
} from "./helpers.js";

/** K steps of `Z ← (1 − α) A_k Z + α H`, A_k given per step. */
function iterate(
  matrices: (step: number) => Matrix,
  h: Matrix,
  k: number,
  alpha: number,
): Matrix {
  let z = h;
  for (let s = 0; s < k; s++) {
    z = add(
      map(mm(matrices(s), z), (v) => (1 - alpha) * v),
      h,
      alpha,
    );
  }
  return z;
}

/** Solve `(I − (1 − α) Â) Z = α H` by Gaussian elimination (float64). */
function fixedPoint(a: Matrix, h: Matrix, alpha: number): Matrix {
  const n = a.rows;
  const m = h.cols;
  const lhs = map(a, (v, j) => (j % (n + 1) === 0 ? 1 : 0) - (1 - alpha) * v);
  const rhs = map(h, (v) => alpha * v);
  const A = Array.from({ length: n }, (_, i) =>
    Array.from(lhs.data.subarray(i * n, (i + 1) * n)),
  );
  const B = Array.from({ length: n }, (_, i) =>
    Array.from(rhs.data.subarray(i * m, (i + 1) * m)),
  );
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) {
      if (Math.abs(A[r][c]) > Math.abs(A[pivot][c])) pivot = r;
    }
    [A[c], A[pivot]] = [A[pivot], A[c]];
    [B[c], B[pivot]] = [B[pivot], B[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = A[r][c] / A[c][c];
      for (let j = c; j < n; j++) A[r][j] -= f * A[c][j];
      for (let j = 0; j < m; j++) B[r][j] -= f * B[c][j];
    }
  }
  return matrix(
    n,
    m,
    B.flatMap((row, i) => row.map((v) => v / A[i][i])),
  );
}

describe("APPNPPropagation", () => {
  for (const [k, alpha] of [
    [10, 0.1],
    [3, 0.5],
    [1, 0.2],
  ]) {
    it(`matches the power iteration (K = ${k}, α = ${alpha})`, () => {
      const { graph, edges, n } = testGraph(71, true);
      const h = randomMatrix(mulberry32(72), n, 3);
      const layer = new APPNPPropagation({ k, alpha });
      const ht = tensorOf(h);
      const out = take(layer.apply(ht, contextOf(graph)));
      const a = gcnMatrix(edges);
      expectClose(out, iterate(() => a, h, k, alpha).data, 1e-5, 1e-6);
      // training without edge dropout is the same computation
      const train = take(layer.apply(ht, contextOf(graph, true)));
      expect(Array.from(train)).toEqual(Array.from(out));
      ht.dispose();
    });
  }

  it("meets its closed forms: α = 1 gives H, α = 0 gives Â^K H", () => {
    const { graph, edges, n } = testGraph(73);
    const h = randomMatrix(mulberry32(74), n, 2);
    const ht = tensorOf(h);
    const one = take(
      new APPNPPropagation({ k: 4, alpha: 1 }).apply(ht, contextOf(graph)),
    );
    expectClose(one, h.data, 1e-6, 1e-7);
    const a = gcnMatrix(edges);
    const zero = take(
      new APPNPPropagation({ k: 3, alpha: 0 }).apply(ht, contextOf(graph)),
    );
    expectClose(zero, mm(a, mm(a, mm(a, h))).data, 1e-5, 1e-6);
    // K = 0 hands back a copy of H that the caller owns
    const copy = new APPNPPropagation({ k: 0 }).apply(ht, contextOf(graph));
    expect(copy).not.toBe(ht);
    expect(Array.from(take(copy))).toEqual(Array.from(h.data));
    expect(ht.isDisposed).toBe(false);
    ht.dispose();
  });

  it("converges to the personalized PageRank fixed point", () => {
    const { graph, edges, n } = testGraph(75);
    const h = randomMatrix(mulberry32(76), n, 2);
    const ht = tensorOf(h);
    const alpha = 0.3;
    const out = take(
      new APPNPPropagation({ k: 60, alpha }).apply(ht, contextOf(graph)),
    );
    // the error shrinks by (1 − α)^60 ≈ 5e-10 relative to the start
    expectClose(out, fixedPoint(gcnMatrix(edges), h, alpha).data, 1e-4, 1e-5);
    ht.dispose();
  });

  it("drops edge weights in training, one uniform per edge and step", () => {
    const { graph, n } = testGraph(77, true);
    const h = randomMatrix(mulberry32(78), n, 3);
    const rate = 0.3;
    const k = 4;
    const alpha = 0.2;
    const layer = new APPNPPropagation({ k, alpha, edgeDropout: rate });

    // the documented masks: step by step, edges in CSR order of Â
    const normalized = gcnNormalize(graph);
    const rng = mulberry32(9);
    const masked: Matrix[] = [];
    let dropped = 0;
    for (let s = 0; s < k; s++) {
      const m = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let e = normalized.rowPtr[i]; e < normalized.rowPtr[i + 1]; e++) {
          const keep = rng() >= rate;
          if (!keep) dropped++;
          const w = keep ? normalized.weight(e) / (1 - rate) : 0;
          m[i * n + normalized.colIdx[e]] += w;
        }
      }
      masked.push(matrix(n, n, m));
    }
    expect(dropped).toBeGreaterThan(0);

    const ht = tensorOf(h);
    const out = take(layer.apply(ht, contextOf(graph, true, 9)));
    expectClose(out, iterate((s) => masked[s], h, k, alpha).data, 1e-5, 1e-6);
    const again = take(layer.apply(ht, contextOf(graph, true, 9)));
    expect(Array.from(again)).toEqual(Array.from(out));
    // evaluation mode ignores edge dropout
    const a = gcnMatrix(testGraph(77, true).edges);
    const evalOut = take(layer.apply(ht, contextOf(graph, false, 9)));
    expectClose(evalOut, iterate(() => a, h, k, alpha).data, 1e-5, 1e-6);
    ht.dispose();
  });

  it("applies input dropout in training from the context's stream", () => {
    const { graph, edges, n } = testGraph(79);
    const h = randomMatrix(mulberry32(80), n, 3);
    const layer = new APPNPPropagation({ k: 2, inputDropout: 0.5 });
    const ht = tensorOf(h);
    const out = take(layer.apply(ht, contextOf(graph, true, 4)));
    const dropped = droppedInput(h, 0.5, 4);
    const a = gcnMatrix(edges);
    expectClose(out, iterate(() => a, dropped, 2, 0.1).data, 1e-5, 1e-6);
    ht.dispose();
  });

  it("has an input gradient equal to central differences", () => {
    const { graph, edges, n } = testGraph(81, true);
    const h = randomMatrix(mulberry32(82), n, 2);
    const layer = new APPNPPropagation({ k: 5, alpha: 0.15 });
    const a = gcnMatrix(edges);
    const rng = mulberry32(3);
    const r = Float64Array.from({ length: n * 2 }, () => rng() - 0.5);
    const rt = tf.tensor2d(Float32Array.from(r), [n, 2]);
    const ht = tensorOf(h);
    const g = tf.grad((v: tf.Tensor) =>
      layer
        .apply(v as tf.Tensor2D, contextOf(graph))
        .mul(rt)
        .sum(),
    )(ht);
    const numeric = centralDifference(
      (v) => dot(iterate(() => a, matrix(n, 2, v), 5, 0.15).data, r),
      h.data,
    );
    expectClose(take(g), numeric, 1e-4, 1e-5);
    tf.dispose([rt, ht]);
  });

  it("gives the same result for sparse and dense input", () => {
    const { graph, n } = testGraph(83);
    const x = sparseish(mulberry32(84), n, 4);
    const layer = new APPNPPropagation();
    const xt = tensorOf(x);
    const dense = take(layer.apply(xt, contextOf(graph)));
    const sparse = take(layer.apply(sparseOf(x), contextOf(graph)));
    expectClose(sparse, dense, 1e-6, 1e-7);
    xt.dispose();
  });

  it("has no parameters and leaks no tensor", () => {
    const { graph, n } = testGraph(85);
    const xt = tensorOf(randomMatrix(mulberry32(86), n, 3));
    const layer = new APPNPPropagation({ edgeDropout: 0.2, inputDropout: 0.1 });
    expect(layer.parameters()).toEqual([]);
    expectNoLeak(() => {
      const g = tf.grad((v: tf.Tensor) =>
        layer.apply(v as tf.Tensor2D, contextOf(graph, true)).sum(),
      )(xt);
      g.dispose();
      layer.apply(xt, contextOf(graph, true)).dispose();
      layer.dispose();
    });
    xt.dispose();
  });

  it("raises ShapeError for a wrong row count, ConfigError for bad arguments", () => {
    const { graph, n } = testGraph(87);
    const short = tf.zeros([n - 1, 3]) as tf.Tensor2D;
    expect(() => new APPNPPropagation().apply(short, contextOf(graph))).toThrow(
      ShapeError,
    );
    short.dispose();
    expect(() => new APPNPPropagation({ alpha: 1.5 })).toThrow(ConfigError);
    expect(() => new APPNPPropagation({ k: -1 })).toThrow(ConfigError);
    expect(() => new APPNPPropagation({ edgeDropout: 1 })).toThrow(ConfigError);
  });
});
