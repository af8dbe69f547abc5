/**
 * SGConv against the float64 `Â^K X W + b` (Â written from its
 * definition) for K = 0 … 3, cached and not; parameter gradients and,
 * uncached, the input gradient against central differences; the cache
 * (reuse, recomputation for new features or graphs, survival of an
 * enclosing tidy, staleness of in-place changes); dropout on `Â^K X`;
 * sparse == dense; tensor leaks; typed errors.
 *
 * Tolerances: forward 1e-5 relative + 1e-6 absolute; gradients 1e-4
 * relative + 1e-5 absolute; sparse vs dense 1e-6.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { SGConv } from "../../src/nn/sgc.js";
import { mulberry32 } from "../../src/random.js";
import { centralDifference, dot, randomMatrix } from "../helpers/dense.js";
import {
  addRow,
  checkParameterGradients,
  contextOf,
  droppedInput,
  expectClose,
  expectNoLeak,
  gcnMatrix,
  type Matrix,
  matrix,
  mm,
  parameterValues,
  sparseish,
  sparseOf,
  take,
  tensorOf,
  testGraph,
} from "./helpers.js";

/** `Â^K X` in float64. */
function propagated(a: Matrix, x: Matrix, k: number): Matrix {
  let h = x;
  for (let s = 0; s < k; s++) h = mm(a, h);
  return h;
}

/** `H W + b` from the parameters. */
function linear(h: Matrix, p: Map<string, Float64Array>, units: number) {
  const w = matrix(h.cols, units, p.get("weight") as Float64Array);
  const b = p.get("bias");
  const out = mm(h, w);
  return b === undefined ? out : addRow(out, b);
}

describe("SGConv", () => {
  for (const k of [0, 1, 2, 3]) {
    for (const cached of [true, false]) {
      it(`computes Â^K X W + b (K = ${k}, cached: ${cached})`, () => {
        const { graph, edges, n } = testGraph(51, true);
        const x = randomMatrix(mulberry32(52), n, 5);
        const layer = new SGConv({ inputDim: 5, units: 3, k, cached, seed: 1 });
        layer.bias?.assign(tf.tensor1d([0.1, -0.2, 0.3]));
        const h = propagated(gcnMatrix(edges), x, k);
        const xt = tensorOf(x);
        const out = take(layer.apply(xt, contextOf(graph)));
        expectClose(out, linear(h, parameterValues(layer), 3).data, 1e-5, 1e-6);
        checkParameterGradients(layer, xt, contextOf(graph), (p) =>
          linear(h, p, 3),
        );
        xt.dispose();
        layer.dispose();
      });
    }
  }

  it("uncached, passes the gradient to a dense input", () => {
    const { graph, edges, n } = testGraph(53);
    const x = randomMatrix(mulberry32(54), n, 3);
    const layer = new SGConv({ inputDim: 3, units: 2, cached: false });
    const a = gcnMatrix(edges);
    const p = parameterValues(layer);
    const rng = mulberry32(5);
    const r = Float64Array.from({ length: n * 2 }, () => rng() - 0.5);
    const rt = tf.tensor2d(Float32Array.from(r), [n, 2]);
    const xt = tensorOf(x);
    const g = tf.grad((v: tf.Tensor) =>
      layer
        .apply(v as tf.Tensor2D, contextOf(graph))
        .mul(rt)
        .sum(),
    )(xt);
    const numeric = centralDifference(
      (v) => dot(linear(propagated(a, matrix(n, 3, v), 2), p, 2).data, r),
      x.data,
    );
    expectClose(take(g), numeric, 1e-4, 1e-5);
    tf.dispose([rt, xt]);
    layer.dispose();
  });

  it("reuses the cache for the same graph and features only", () => {
    const { graph, edges, n } = testGraph(55);
    const other = testGraph(56);
    const x = randomMatrix(mulberry32(57), n, 3);
    const y = randomMatrix(mulberry32(58), n, 3);
    const layer = new SGConv({ inputDim: 3, units: 2 });
    const p = parameterValues(layer);
    const xt = tensorOf(x);
    const yt = tensorOf(y);
    const expect1 = linear(propagated(gcnMatrix(edges), x, 2), p, 2).data;

    // the first call is made inside a tidy: the cache must outlive it
    let first: Float64Array = new Float64Array(0);
    tf.tidy(() => {
      first = take(layer.apply(xt, contextOf(graph)));
    });
    expectClose(first, expect1, 1e-5, 1e-6);
    const live = tf.memory().numTensors;
    const again = take(layer.apply(xt, contextOf(graph)));
    expect(Array.from(again)).toEqual(Array.from(first));
    expect(tf.memory().numTensors).toBe(live);

    // new features, then a new graph, are seen as new
    const expect2 = linear(propagated(gcnMatrix(edges), y, 2), p, 2).data;
    expectClose(take(layer.apply(yt, contextOf(graph))), expect2, 1e-5, 1e-6);
    const a3 = gcnMatrix(other.edges);
    const expect3 = linear(propagated(a3, y, 2), p, 2).data;
    const out3 = take(layer.apply(yt, contextOf(other.graph)));
    expectClose(out3, expect3, 1e-5, 1e-6);
    expect(tf.memory().numTensors).toBe(live);

    // documented: an in-place change of the same tensor is not seen
    const v = tf.tidy(() => tf.variable(tensorOf(x)));
    const before = take(layer.apply(v, contextOf(graph)));
    tf.tidy(() => v.assign(tensorOf(y)));
    const stale = take(layer.apply(v, contextOf(graph)));
    expect(Array.from(stale)).toEqual(Array.from(before));
    layer.clearCache();
    expectClose(take(layer.apply(v, contextOf(graph))), expect2, 1e-5, 1e-6);

    tf.dispose([xt, yt, v]);
    layer.dispose();
  });

  it("drops entries of Â^K X in training, with the context's stream", () => {
    const { graph, edges, n } = testGraph(59);
    const x = randomMatrix(mulberry32(60), n, 4);
    const rate = 0.4;
    const layer = new SGConv({ inputDim: 4, units: 2, inputDropout: rate });
    const p = parameterValues(layer);
    const h = propagated(gcnMatrix(edges), x, 2);
    const xt = tensorOf(x);
    const train = take(layer.apply(xt, contextOf(graph, true, 8)));
    const dropped = droppedInput(h, rate, 8);
    expectClose(train, linear(dropped, p, 2).data, 1e-5, 1e-6);
    const evalOut = take(layer.apply(xt, contextOf(graph, false, 8)));
    expectClose(evalOut, linear(h, p, 2).data, 1e-5, 1e-6);
    xt.dispose();
    layer.dispose();
  });

  it("gives the same result for sparse and dense input", () => {
    const { graph, n } = testGraph(61);
    const x = sparseish(mulberry32(62), n, 6);
    const xt = tensorOf(x);
    for (const cached of [true, false]) {
      const layer = new SGConv({ inputDim: 6, units: 2, cached });
      const dense = take(layer.apply(xt, contextOf(graph)));
      const sparse = take(layer.apply(sparseOf(x), contextOf(graph)));
      expectClose(sparse, dense, 1e-6, 1e-7);
      layer.dispose();
    }
    xt.dispose();
  });

  it("leaks no tensor, the cache included, once disposed", () => {
    const { graph, n } = testGraph(63);
    const xt = tensorOf(randomMatrix(mulberry32(64), n, 4));
    expectNoLeak(() => {
      // with dropout (dense product) and without (product over the cache)
      for (const rate of [0.2, 0]) {
        const layer = new SGConv({ inputDim: 4, units: 2, inputDropout: rate });
        const ctx = contextOf(graph, true);
        for (let step = 0; step < 2; step++) {
          const { value, grads } = tf.variableGrads(
            () => layer.apply(xt, ctx).square().sum() as tf.Scalar,
            layer.parameters().map((q) => q.variable),
          );
          tf.dispose([value, ...Object.values(grads)]);
        }
        layer.dispose();
      }
    });
    xt.dispose();
  });

  it("raises ShapeError for a wrong input, ConfigError for bad arguments", () => {
    const { graph, n } = testGraph(65);
    const layer = new SGConv({ inputDim: 4, units: 2 });
    const wide = tf.zeros([n, 3]) as tf.Tensor2D;
    expect(() => layer.apply(wide, contextOf(graph))).toThrow(ShapeError);
    expect(() => layer.apply(wide, contextOf(graph))).toThrow(/SGConv/);
    wide.dispose();
    layer.dispose();
    expect(() => new SGConv({ inputDim: 4, units: 2, k: -1 })).toThrow(
      ConfigError,
    );
    expect(() => new SGConv({ inputDim: 4, units: 2, k: 1.5 })).toThrow(
      ConfigError,
    );
  });
});
