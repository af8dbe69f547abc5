/**
 * Linear: forward against float64 `act(x W + b)`, parameter gradients
 * against central differences of that reference, sparse == dense input,
 * seeded initialisation and input dropout, tensor leaks and errors.
 *
 * Tolerances: forward 1e-5 relative (+1e-6 absolute); gradients
 * 1e-4 relative + 1e-5 absolute (float32 autodiff vs float64 differences);
 * sparse vs dense 1e-6.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { Linear } from "../../src/nn/linear.js";
import { mulberry32 } from "../../src/random.js";
import { randomMatrix } from "../helpers/dense.js";
import {
  addRow,
  checkParameterGradients,
  contextOf,
  droppedInput,
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

const { graph } = testGraph(1);
const n = graph.numNodes;

/** `act(x W + b)` in float64 from the given parameter values. */
function reference(
  x: Matrix,
  p: Map<string, Float64Array>,
  units: number,
  act: (v: number) => number = (v) => v,
): Matrix {
  const w = matrix(x.cols, units, p.get("weight") as Float64Array);
  const z = mm(x, w);
  const b = p.get("bias");
  return map(b === undefined ? z : addRow(z, b), act);
}

describe("Linear", () => {
  it("computes act(x W + b) (relu, kaiming init with a non-zero bias)", () => {
    const x = randomMatrix(mulberry32(2), n, 5);
    const layer = new Linear({
      inputDim: 5,
      units: 3,
      init: "kaiming",
      activation: "relu",
      seed: 4,
    });
    const p = parameterValues(layer);
    expect((p.get("bias") as Float64Array).some((v) => v !== 0)).toBe(true);
    const xt = tensorOf(x);
    const out = take(layer.apply(xt, contextOf(graph)));
    const expected = reference(x, p, 3, (v) => Math.max(v, 0));
    expectClose(out, expected.data, 1e-5, 1e-6);
    // relu must have cut something, or the test proves nothing about it
    expect(expected.data.some((v) => v === 0)).toBe(true);
    xt.dispose();
    layer.dispose();
  });

  it("has parameter gradients equal to central differences", () => {
    const x = randomMatrix(mulberry32(3), n, 4);
    const layer = new Linear({
      inputDim: 4,
      units: 3,
      init: "kaiming",
      activation: "tanh",
      seed: 1,
    });
    const xt = tensorOf(x);
    checkParameterGradients(layer, xt, contextOf(graph), (p) =>
      reference(x, p, 3, Math.tanh),
    );
    xt.dispose();
    layer.dispose();
  });

  it("gives the same result for sparse and dense input", () => {
    const x = sparseish(mulberry32(5), n, 6);
    const layer = new Linear({ inputDim: 6, units: 2, init: "kaiming" });
    const xt = tensorOf(x);
    const dense = take(layer.apply(xt, contextOf(graph)));
    const sparse = take(layer.apply(sparseOf(x), contextOf(graph)));
    expectClose(sparse, dense, 1e-6, 1e-7);
    xt.dispose();
    layer.dispose();
  });

  it("is deterministic: same seed, same weights; names its parameters", () => {
    const a = new Linear({ inputDim: 3, units: 2, seed: 7 });
    const b = new Linear({ inputDim: 3, units: 2, seed: 7 });
    const c = new Linear({ inputDim: 3, units: 2, seed: 8 });
    const wa = Array.from(a.weight.dataSync());
    expect(Array.from(b.weight.dataSync())).toEqual(wa);
    expect(Array.from(c.weight.dataSync())).not.toEqual(wa);
    expect(a.parameters().map((p) => p.name)).toEqual(["weight", "bias"]);
    const noBias = new Linear({ inputDim: 3, units: 2, bias: false });
    expect(noBias.parameters().map((p) => p.name)).toEqual(["weight"]);
    for (const l of [a, b, c, noBias]) l.dispose();
  });

  it("drops inputs in training only, with the context's seeded mask", () => {
    const rate = 0.4;
    const x = randomMatrix(mulberry32(9), n, 4);
    const layer = new Linear({ inputDim: 4, units: 3, inputDropout: rate });
    const xt = tensorOf(x);
    const p = parameterValues(layer);

    const dropped = droppedInput(x, rate, 21);
    const train = take(layer.apply(xt, contextOf(graph, true, 21)));
    expectClose(train, reference(dropped, p, 3).data, 1e-5, 1e-6);
    const again = take(layer.apply(xt, contextOf(graph, true, 21)));
    expect(Array.from(again)).toEqual(Array.from(train));

    const evalOut = take(layer.apply(xt, contextOf(graph, false, 21)));
    expectClose(evalOut, reference(x, p, 3).data, 1e-5, 1e-6);
    xt.dispose();
    layer.dispose();
  });

  it("leaks no tensor in forward, gradient and dispose", () => {
    const xt = tensorOf(randomMatrix(mulberry32(1), n, 4));
    expectNoLeak(() => {
      const layer = new Linear({
        inputDim: 4,
        units: 2,
        inputDropout: 0.5,
        activation: "elu",
      });
      const ctx = contextOf(graph, true);
      const { value, grads } = tf.variableGrads(
        () => layer.apply(xt, ctx).sum() as tf.Scalar,
        layer.parameters().map((q) => q.variable),
      );
      tf.dispose([value, ...Object.values(grads)]);
      layer.apply(xt, ctx).dispose();
      layer.dispose();
    });
    xt.dispose();
  });

  it("raises ShapeError for a wrong input width, ConfigError for bad args", () => {
    const layer = new Linear({ inputDim: 4, units: 2 });
    const xt = tf.zeros([n, 5]) as tf.Tensor2D;
    expect(() => layer.apply(xt, contextOf(graph))).toThrow(ShapeError);
    expect(() => layer.apply(xt, contextOf(graph))).toThrow(
      /Linear\(4→2\).*4.*\[14, 5\]/,
    );
    xt.dispose();
    layer.dispose();
    expect(() => new Linear({ inputDim: 0, units: 2 })).toThrow(ConfigError);
    expect(() => new Linear({ inputDim: 2, units: 2.5 })).toThrow(ConfigError);
    expect(
      () => new Linear({ inputDim: 2, units: 2, inputDropout: 1 }),
    ).toThrow(ConfigError);
    expect(
      () => new Linear({ inputDim: 2, units: 2, activation: "gelu" as never }),
    ).toThrow(ConfigError);
    expect(
      () => new Linear({ inputDim: 2, units: 2, init: "xavier" as never }),
    ).toThrow(ConfigError);
  });
});
