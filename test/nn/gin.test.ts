/**
 * GINConv against the float64 formula `MLP((1 + ε) x_i + Σ_{j→i} x_j)`
 * with the sum written as a dense adjacency product (duplicates counted,
 * self-loops adding x_i again); fixed and trainable ε; edge weights
 * ignored by default; a given MLP; parameter gradients (ε included)
 * against central differences; sparse == dense; seeded initialisation
 * and dropout; tensor leaks; typed errors.
 *
 * Tolerances: forward 1e-5 relative + 1e-6 absolute; gradients 1e-4
 * relative + 1e-5 absolute; sparse vs dense 1e-6.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { GINConv, type GINConvArgs } from "../../src/nn/gin.js";
import { Linear } from "../../src/nn/linear.js";
import { mulberry32 } from "../../src/random.js";
import { type EdgeList, randomMatrix } from "../helpers/dense.js";
import {
  add,
  addRow,
  adjacency,
  checkParameterGradients,
  contextOf,
  expectClose,
  expectNoLeak,
  type Matrix,
  map,
  matrix,
  mm,
  parameterValues,
  sparseish,
  sparseOf,
  take,
  tensorOf,
  testGraph,
} from "./helpers.js";

/** `(1 + ε) x + A x`, A unweighted unless `weighted`. */
function combined(
  edges: EdgeList,
  x: Matrix,
  eps: number,
  weighted: boolean,
): Matrix {
  const a = adjacency(weighted ? edges : { ...edges, weights: null });
  return add(mm(a, x), x, 1 + eps);
}

/** `relu(z W₁ + b₁) W₂ + b₂` from the parameters `mlp.0.*`, `mlp.1.*`. */
function defaultMlp(
  z: Matrix,
  p: Map<string, Float64Array>,
  hidden: number,
  units: number,
): Matrix {
  const w1 = matrix(z.cols, hidden, p.get("mlp.0.weight") as Float64Array);
  const h = map(addRow(mm(z, w1), p.get("mlp.0.bias") as Float64Array), (v) =>
    Math.max(v, 0),
  );
  const w2 = matrix(hidden, units, p.get("mlp.1.weight") as Float64Array);
  return addRow(mm(h, w2), p.get("mlp.1.bias") as Float64Array);
}

const CASES: { label: string; args: Partial<GINConvArgs>; eps: number }[] = [
  { label: "GIN-0", args: {}, eps: 0 },
  { label: "fixed ε = 0.5", args: { eps: 0.5 }, eps: 0.5 },
  {
    label: "trainable ε from -0.3",
    args: { eps: -0.3, trainEps: true },
    eps: -0.3,
  },
  {
    label: "glorot init, edge weights",
    args: { init: "glorot", edgeWeights: true },
    eps: 0,
  },
];

describe("GINConv", () => {
  for (const c of CASES) {
    it(`${c.label}: forward and parameter gradients match the formula`, () => {
      const { graph, edges, n } = testGraph(31, true);
      const x = randomMatrix(mulberry32(32), n, 4);
      const layer = new GINConv({
        inputDim: 4,
        hidden: 5,
        units: 3,
        seed: 2,
        ...c.args,
      });
      const weighted = c.args.edgeWeights ?? false;
      const ref = (p: Map<string, Float64Array>) => {
        const eps = p.get("eps")?.[0] ?? c.eps;
        return defaultMlp(combined(edges, x, eps, weighted), p, 5, 3);
      };
      const xt = tensorOf(x);
      const p = parameterValues(layer);
      if (c.args.trainEps)
        expectClose(p.get("eps") as Float64Array, [c.eps], 1e-7, 0);
      const out = take(layer.apply(xt, contextOf(graph)));
      expectClose(out, ref(p).data, 1e-5, 1e-6);
      checkParameterGradients(layer, xt, contextOf(graph), ref);
      xt.dispose();
      layer.dispose();
    });
  }

  it("applies a given MLP to the combined features", () => {
    const { graph, edges, n } = testGraph(33);
    const x = randomMatrix(mulberry32(34), n, 4);
    const mlp = new Linear({
      inputDim: 4,
      units: 2,
      activation: "tanh",
      init: "kaiming",
    });
    const layer = new GINConv({ inputDim: 4, units: 2, eps: 0.25, mlp });
    expect(layer.parameters().map((q) => q.name)).toEqual([
      "mlp.weight",
      "mlp.bias",
    ]);
    const ref = (p: Map<string, Float64Array>) => {
      const z = combined(edges, x, 0.25, false);
      const w = matrix(4, 2, p.get("mlp.weight") as Float64Array);
      return map(
        addRow(mm(z, w), p.get("mlp.bias") as Float64Array),
        Math.tanh,
      );
    };
    const xt = tensorOf(x);
    const out = take(layer.apply(xt, contextOf(graph)));
    expectClose(out, ref(parameterValues(layer)).data, 1e-5, 1e-6);
    checkParameterGradients(layer, xt, contextOf(graph), ref);
    xt.dispose();
    layer.dispose();
    expect(mlp.weight.isDisposed).toBe(true);
  });

  it("names the default MLP's parameters; hidden defaults to units", () => {
    const layer = new GINConv({ inputDim: 6, units: 3, trainEps: true });
    expect(layer.parameters().map((q) => q.name)).toEqual([
      "eps",
      "mlp.0.weight",
      "mlp.0.bias",
      "mlp.1.weight",
      "mlp.1.bias",
    ]);
    expect(layer.parameters()[1].variable.shape).toEqual([6, 3]);
    expect(layer.parameters()[3].variable.shape).toEqual([3, 3]);
    layer.dispose();
  });

  it("gives the same result for sparse and dense input", () => {
    const { graph, n } = testGraph(35);
    const x = sparseish(mulberry32(36), n, 7);
    const xt = tensorOf(x);
    const mlp = new Linear({ inputDim: 7, units: 2 });
    for (const layer of [
      new GINConv({ inputDim: 7, units: 3, eps: 0.1 }),
      new GINConv({ inputDim: 7, units: 2, mlp }),
    ]) {
      const dense = take(layer.apply(xt, contextOf(graph)));
      const sparse = take(layer.apply(sparseOf(x), contextOf(graph)));
      expectClose(sparse, dense, 1e-6, 1e-7);
      layer.dispose();
    }
    xt.dispose();
  });

  it("is deterministic in its initialisation and dropout", () => {
    const { graph, n } = testGraph(37);
    const xt = tensorOf(randomMatrix(mulberry32(38), n, 4));
    const make = (seed: number) =>
      new GINConv({ inputDim: 4, units: 3, seed, inputDropout: 0.3 });
    const [a, b, c] = [make(5), make(5), make(6)];
    const run = (l: GINConv, s: number) =>
      Array.from(take(l.apply(xt, contextOf(graph, true, s))));
    expect(run(a, 1)).toEqual(run(b, 1));
    expect(run(a, 1)).not.toEqual(run(a, 2));
    expect(run(a, 1)).not.toEqual(run(c, 1));
    // outside training the dropout is off: the random stream is not read
    const evalA = Array.from(take(a.apply(xt, contextOf(graph, false, 1))));
    expect(evalA).toEqual(
      Array.from(take(a.apply(xt, contextOf(graph, false, 2)))),
    );
    for (const l of [a, b, c]) l.dispose();
    xt.dispose();
  });

  it("leaks no tensor in forward, gradient and dispose", () => {
    const { graph, n } = testGraph(39);
    const xt = tensorOf(randomMatrix(mulberry32(40), n, 4));
    expectNoLeak(() => {
      for (const layer of [
        new GINConv({
          inputDim: 4,
          units: 2,
          trainEps: true,
          inputDropout: 0.2,
        }),
        new GINConv({
          inputDim: 4,
          units: 2,
          mlp: new Linear({ inputDim: 4, units: 2, activation: "relu" }),
        }),
      ]) {
        const ctx = contextOf(graph, true);
        const { value, grads } = tf.variableGrads(
          () => layer.apply(xt, ctx).square().sum() as tf.Scalar,
          layer.parameters().map((q) => q.variable),
        );
        tf.dispose([value, ...Object.values(grads)]);
        layer.apply(xt, ctx).dispose();
        layer.dispose();
      }
    });
    xt.dispose();
  });

  it("raises ShapeError for a wrong input, ConfigError for bad arguments", () => {
    const { graph, n } = testGraph(41);
    const layer = new GINConv({ inputDim: 4, units: 2 });
    const wide = tf.zeros([n, 3]) as tf.Tensor2D;
    expect(() => layer.apply(wide, contextOf(graph))).toThrow(ShapeError);
    expect(() => layer.apply(wide, contextOf(graph))).toThrow(/GINConv\(4→2\)/);
    wide.dispose();
    layer.dispose();
    expect(
      () => new GINConv({ inputDim: 4, units: 2, eps: Number.NaN }),
    ).toThrow(ConfigError);
    expect(() => new GINConv({ inputDim: 4, units: 2, hidden: 0 })).toThrow(
      ConfigError,
    );
    expect(
      () => new GINConv({ inputDim: 4, units: 2, mlp: {} as never }),
    ).toThrow(ConfigError);
  });
});
