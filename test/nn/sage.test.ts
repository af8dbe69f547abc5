/**
 * SAGEConv against a float64 reference written from the formula
 * `x_i W_root + AGG_{j→i}(x_j) W_neigh + b` (the aggregation by scanning
 * every edge, from test/helpers/dense.ts), for mean, sum, max, std,
 * softmax with a learnable temperature and a list; projection and L2
 * normalization; edge weights ignored by default; parameter gradients
 * against central differences; sparse == dense; seeded initialisation;
 * tensor leaks; typed errors.
 *
 * Tolerances: forward 1e-5 relative + 1e-6 absolute; gradients 1e-4
 * relative + 1e-5 absolute (2e-4 + 2e-5 through std and softmax, whose
 * float32 forward rounds more); sparse vs dense 1e-6.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import type { AggregateSpec } from "../../src/mp/aggregators.js";
import { SoftmaxAggregator } from "../../src/mp/aggregators.js";
import { SAGEConv, type SAGEConvArgs } from "../../src/nn/sage.js";
import { mulberry32 } from "../../src/random.js";
import {
  type DenseAggregate,
  denseAggregate,
  denseMessages,
  type EdgeList,
  linearMessage64,
  randomMatrix,
} from "../helpers/dense.js";
import {
  add,
  addRow,
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

/** What the reference needs to know about the layer. */
interface Setup {
  aggregate: DenseAggregate;
  units: number;
  project?: boolean;
  normalize?: boolean;
  edgeWeights?: boolean;
}

/** The SAGE convolution in float64, from the parameter values. */
function reference(
  edges: EdgeList,
  x: Matrix,
  p: Map<string, Float64Array>,
  setup: Setup,
): Matrix {
  const d = x.cols;

  // the neighbours' features, projected when asked
  let source = x;
  if (setup.project) {
    const wp = matrix(d, d, p.get("project.weight") as Float64Array);
    source = map(
      addRow(mm(x, wp), p.get("project.bias") as Float64Array),
      (v) => Math.max(v, 0),
    );
  }

  // the aggregation, with a temperature taken from the parameters
  let agg = setup.aggregate;
  const t = p.get("aggregate.temperature");
  if (t !== undefined && "name" in agg && agg.name === "softmax") {
    agg = { name: "softmax", temperature: t[0] };
  }
  const used = setup.edgeWeights ? edges : { ...edges, weights: null };
  const messages = denseMessages(used, source, source, linearMessage64);
  const aggregated = denseAggregate(agg, edges.dst, messages, edges.numDst, d);

  const wn = p.get("neighbor.weight") as Float64Array;
  let out = mm(aggregated, matrix(aggregated.cols, setup.units, wn));
  const wr = p.get("root.weight");
  if (wr !== undefined) out = add(out, mm(x, matrix(d, setup.units, wr)));
  const b = p.get("bias");
  if (b !== undefined) out = addRow(out, b);
  if (setup.normalize) {
    const norms = new Float64Array(out.rows);
    for (let i = 0; i < out.rows; i++) {
      let s = 0;
      for (let k = 0; k < out.cols; k++) s += out.data[i * out.cols + k] ** 2;
      norms[i] = Math.max(Math.sqrt(s), 1e-12);
    }
    out = map(out, (v, j) => v / norms[Math.floor(j / out.cols)]);
  }
  return out;
}

/** The cases: layer arguments and the matching reference setup. */
const CASES: {
  label: string;
  args: Partial<SAGEConvArgs>;
  setup: Omit<Setup, "units">;
  rtol?: number;
}[] = [
  { label: "mean", args: {}, setup: { aggregate: { name: "mean" } } },
  {
    label: "sum, no root weight, kaiming",
    args: { aggregate: "sum", rootWeight: false, init: "kaiming" },
    setup: { aggregate: { name: "sum" } },
  },
  {
    label: "max",
    args: { aggregate: "max" },
    setup: { aggregate: { name: "max" } },
  },
  {
    label: "std",
    args: { aggregate: "std" },
    setup: { aggregate: { name: "std" } },
    rtol: 2e-4,
  },
  {
    label: "[mean, max] concatenated",
    args: { aggregate: ["mean", "max"] },
    setup: {
      aggregate: {
        list: [{ name: "mean" }, { name: "max" }],
        combine: "concat",
      },
    },
  },
  {
    label: "learnable softmax (t = 1.5)",
    args: { aggregate: { name: "softmax", temperature: 1.5, learnable: true } },
    setup: { aggregate: { name: "softmax", temperature: 1.5 } },
    rtol: 2e-4,
  },
  {
    label: "max with projection and L2 normalization",
    args: { aggregate: "max", project: true, normalize: true, init: "kaiming" },
    setup: { aggregate: { name: "max" }, project: true, normalize: true },
  },
  {
    label: "mean with edge weights",
    args: { edgeWeights: true },
    setup: { aggregate: { name: "mean" }, edgeWeights: true },
  },
];

describe("SAGEConv", () => {
  for (const c of CASES) {
    it(`${c.label}: forward and parameter gradients match the reference`, () => {
      // a weighted graph, so that ignoring the weights is tested too
      const { graph, edges, n } = testGraph(21, true);
      const x = randomMatrix(mulberry32(22), n, 4);
      const layer = new SAGEConv({ inputDim: 4, units: 3, seed: 1, ...c.args });
      const xt = tensorOf(x);
      const setup = { ...c.setup, units: 3 };
      const p = parameterValues(layer);
      const out = take(layer.apply(xt, contextOf(graph)));
      expectClose(out, reference(edges, x, p, setup).data, 1e-5, 1e-6);
      const rtol = c.rtol ?? 1e-4;
      checkParameterGradients(
        layer,
        xt,
        contextOf(graph),
        (q) => reference(edges, x, q, setup),
        rtol,
        rtol / 10,
      );
      xt.dispose();
      layer.dispose();
    });
  }

  it("lists the parameters by name, the learnable temperature included", () => {
    const before = tf.memory().numTensors;
    const layer = new SAGEConv({
      inputDim: 4,
      units: 2,
      project: true,
      aggregate: [
        "mean",
        { name: "softmax", learnable: true },
        { name: "powermean", p: 2, learnable: true },
      ],
    });
    expect(layer.parameters().map((p) => p.name)).toEqual([
      "project.weight",
      "project.bias",
      "neighbor.weight",
      "root.weight",
      "bias",
      "aggregate.1.temperature",
      "aggregate.2.p",
    ]);
    // three aggregators of width 4, concatenated
    expect(layer.neighborWeight.shape).toEqual([12, 2]);
    // its seven variables (two created for the aggregators) are freed
    expect(tf.memory().numTensors).toBe(before + 7);
    layer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("uses but does not free an aggregator object passed in", () => {
    const softmax = new SoftmaxAggregator({ learnable: true });
    const layer = new SAGEConv({ inputDim: 3, units: 2, aggregate: softmax });
    const names = layer.parameters().map((p) => p.name);
    expect(names).toContain("aggregate.temperature");
    layer.dispose();
    const t = softmax.temperature as tf.Variable;
    expect(t.isDisposed).toBe(false);
    softmax.dispose();
  });

  for (const aggregate of ["mean", "max"] as AggregateSpec[]) {
    it(`gives the same result for sparse and dense input (${aggregate})`, () => {
      const { graph, n } = testGraph(23);
      const x = sparseish(mulberry32(24), n, 7);
      const layer = new SAGEConv({ inputDim: 7, units: 3, aggregate });
      const xt = tensorOf(x);
      const dense = take(layer.apply(xt, contextOf(graph)));
      const sparse = take(layer.apply(sparseOf(x), contextOf(graph)));
      expectClose(sparse, dense, 1e-6, 1e-7);
      xt.dispose();
      layer.dispose();
    });
  }

  it("is deterministic in its initialisation and dropout", () => {
    const { graph, n } = testGraph(25);
    const xt = tensorOf(randomMatrix(mulberry32(26), n, 4));
    const make = (seed: number) =>
      new SAGEConv({ inputDim: 4, units: 3, seed, inputDropout: 0.3 });
    const [a, b, c] = [make(5), make(5), make(6)];
    const run = (l: SAGEConv, s: number) =>
      Array.from(take(l.apply(xt, contextOf(graph, true, s))));
    expect(run(a, 1)).toEqual(run(b, 1));
    expect(run(a, 1)).not.toEqual(run(a, 2));
    expect(run(a, 1)).not.toEqual(run(c, 1));
    for (const l of [a, b, c]) l.dispose();
    xt.dispose();
  });

  it("leaks no tensor in forward, gradient and dispose", () => {
    const { graph, n } = testGraph(27);
    const xt = tensorOf(randomMatrix(mulberry32(28), n, 4));
    expectNoLeak(() => {
      const layer = new SAGEConv({
        inputDim: 4,
        units: 2,
        aggregate: ["max", { name: "softmax", learnable: true }],
        project: true,
        normalize: true,
        inputDropout: 0.2,
      });
      const ctx = contextOf(graph, true);
      const { value, grads } = tf.variableGrads(
        () => layer.apply(xt, ctx).square().sum() as tf.Scalar,
        layer.parameters().map((q) => q.variable),
      );
      tf.dispose([value, ...Object.values(grads)]);
      layer.apply(xt, ctx).dispose();
      layer.dispose();
    });
    xt.dispose();
  });

  it("raises ShapeError for a wrong input, ConfigError for bad arguments", () => {
    const { graph, n } = testGraph(29);
    const layer = new SAGEConv({ inputDim: 4, units: 2 });
    const wide = tf.zeros([n, 3]) as tf.Tensor2D;
    expect(() => layer.apply(wide, contextOf(graph))).toThrow(ShapeError);
    expect(() => layer.apply(wide, contextOf(graph))).toThrow(/SAGEConv/);
    wide.dispose();
    layer.dispose();
    expect(
      () =>
        new SAGEConv({ inputDim: 4, units: 2, aggregate: "median" as never }),
    ).toThrow(ConfigError);
    expect(
      () => new SAGEConv({ inputDim: 4, units: 2, normalize: 1 as never }),
    ).toThrow(ConfigError);
    expect(() => new SAGEConv({ inputDim: -4, units: 2 })).toThrow(ConfigError);
  });
});
