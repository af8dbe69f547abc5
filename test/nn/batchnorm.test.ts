/**
 * BatchNorm1d against a float64 reference written here: the batch
 * statistics and the normalized output (1e-5 relative), the running
 * statistics after two training steps (PyTorch's rule, unbiased variance,
 * 1e-6), inference with the running statistics, and the gradients in the
 * input and in γ, β against central differences of the float64 layer
 * (relative error < 1e-4 on a seeded, well-scaled batch).
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { BatchNorm1d } from "../../src/nn/batchnorm.js";
import type { ForwardContext } from "../../src/nn/module.js";
import { mulberry32, randomNormal } from "../../src/random.js";
import { centralDifference } from "../helpers/dense.js";

function context(n: number, training: boolean): ForwardContext {
  return {
    graph: Graph.fromEdges([], [], { numNodes: n }),
    training,
    random: mulberry32(0),
  };
}

/** Seeded entries `shift + scale · N(0, 1)` per column c (scale 1 + c). */
function batch(seed: number, n: number, d: number): Float64Array {
  const r = mulberry32(seed);
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++)
      x[i * d + c] = c - 1 + (1 + c) * randomNormal(r);
  }
  return x;
}

/** Float64 batch norm in training mode; also returns the batch stats. */
function batchNorm64(
  x: Float64Array,
  n: number,
  d: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  eps = 1e-5,
): { y: Float64Array; mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(d);
  const variance = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    for (let i = 0; i < n; i++) mean[c] += x[i * d + c] / n;
    for (let i = 0; i < n; i++)
      variance[c] += (x[i * d + c] - mean[c]) ** 2 / n;
  }
  const y = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) {
      const z = (x[i * d + c] - mean[c]) / Math.sqrt(variance[c] + eps);
      y[i * d + c] = gamma[c] * z + beta[c];
    }
  }
  return { y, mean, variance };
}

function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

describe("BatchNorm1d", () => {
  const n = 9;
  const d = 4;

  it("normalizes with batch statistics and updates the running ones", () => {
    const bn = new BatchNorm1d({ units: d, momentum: 0.25 });
    const gamma = [0.5, 2, -1, 1.5];
    const beta = [0.25, -1, 0, 3];
    bn.weight?.assign(tf.tensor1d(gamma));
    bn.bias?.assign(tf.tensor1d(beta));

    const runMean = new Float64Array(d);
    const runVar = new Float64Array(d).fill(1);
    for (const seed of [1, 2]) {
      const x64 = batch(seed, n, d);
      const x = tf.tensor2d(Float32Array.from(x64), [n, d]);
      const y = bn.apply(x, context(n, true));
      const ref = batchNorm64(
        Float64Array.from(x.dataSync()),
        n,
        d,
        gamma,
        beta,
      );
      expect(relativeError(y.dataSync(), ref.y)).toBeLessThan(1e-5);
      for (let c = 0; c < d; c++) {
        runMean[c] = 0.75 * runMean[c] + 0.25 * ref.mean[c];
        runVar[c] = 0.75 * runVar[c] + 0.25 * ((ref.variance[c] * n) / (n - 1));
      }
      tf.dispose([x, y]);
    }
    expect(relativeError(bn.runningMean.dataSync(), runMean)).toBeLessThan(
      1e-6,
    );
    expect(relativeError(bn.runningVar.dataSync(), runVar)).toBeLessThan(1e-6);

    // inference: (x − running mean) / √(running var + ε), then γ, β
    const x64 = batch(3, n, d);
    const x = tf.tensor2d(Float32Array.from(x64), [n, d]);
    const before = tf.memory().numTensors;
    const y = bn.apply(x, context(n, false));
    expect(tf.memory().numTensors).toBe(before + 1);
    const expected = new Float64Array(n * d);
    const xv = x.dataSync();
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < d; c++) {
        const z = (xv[i * d + c] - runMean[c]) / Math.sqrt(runVar[c] + 1e-5);
        expected[i * d + c] = gamma[c] * z + beta[c];
      }
    }
    expect(relativeError(y.dataSync(), expected)).toBeLessThan(1e-5);
    // inference leaves the running statistics alone
    expect(relativeError(bn.runningMean.dataSync(), runMean)).toBeLessThan(
      1e-6,
    );
    tf.dispose([x, y]);
    bn.dispose();
  });

  it("has the gradients of the float64 layer (central differences)", () => {
    const bn = new BatchNorm1d({ units: d });
    const gamma = [0.5, 2, -1, 1.5];
    const beta = [0.25, -1, 0, 3];
    bn.weight?.assign(tf.tensor1d(gamma));
    bn.bias?.assign(tf.tensor1d(beta));
    const x = tf.tensor2d(Float32Array.from(batch(4, n, d)), [n, d]);
    const xv = Float64Array.from(x.dataSync());
    const r = mulberry32(5);
    const proj = Float64Array.from({ length: n * d }, () => randomNormal(r));
    const projT = tf.tensor2d(Float32Array.from(proj), [n, d]);

    // loss = Σ y ⊙ R, R a fixed random projection (y mixes rows through μ, σ)
    const ctx = context(n, true);
    const loss = (input: tf.Tensor) =>
      tf.sum(tf.mul(bn.apply(input as tf.Tensor2D, ctx), projT)) as tf.Scalar;
    const dx = tf.grad(loss)(x);
    const { grads } = tf.variableGrads(
      () => loss(x),
      [bn.weight as tf.Variable, bn.bias as tf.Variable],
    );

    const loss64 = (
      xs: Float64Array,
      g: ArrayLike<number>,
      b: ArrayLike<number>,
    ) => {
      const { y } = batchNorm64(xs, n, d, g, b);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i] * proj[i];
      return s;
    };
    const fdX = centralDifference((v) => loss64(v, gamma, beta), xv);
    const fdG = centralDifference(
      (v) => loss64(xv, v, beta),
      Float64Array.from(gamma),
    );
    const fdB = centralDifference(
      (v) => loss64(xv, gamma, v),
      Float64Array.from(beta),
    );
    expect(relativeError(dx.dataSync(), fdX)).toBeLessThan(1e-4);
    const wName = (bn.weight as tf.Variable).name;
    const bName = (bn.bias as tf.Variable).name;
    expect(relativeError(grads[wName].dataSync(), fdG)).toBeLessThan(1e-5);
    expect(relativeError(grads[bName].dataSync(), fdB)).toBeLessThan(1e-5);
    tf.dispose([x, projT, dx, ...Object.values(grads)]);
    bn.dispose();
  });

  it("without affine parameters has no parameters and outputs z", () => {
    const bn = new BatchNorm1d({ units: d, affine: false });
    expect(bn.parameters()).toEqual([]);
    expect(bn.buffers().map((b) => b.name)).toEqual([
      "running_mean",
      "running_var",
    ]);
    const x64 = batch(6, n, d);
    const x = tf.tensor2d(Float32Array.from(x64), [n, d]);
    const y = bn.apply(x, context(n, true));
    const ones = [1, 1, 1, 1];
    const ref = batchNorm64(
      Float64Array.from(x.dataSync()),
      n,
      d,
      ones,
      [0, 0, 0, 0],
    );
    expect(relativeError(y.dataSync(), ref.y)).toBeLessThan(1e-5);
    tf.dispose([x, y]);
    bn.dispose();
  });

  it("names its parameters, excluded from decay", () => {
    const bn = new BatchNorm1d({ units: 3 });
    expect(bn.parameters().map((p) => [p.name, p.decay])).toEqual([
      ["weight", false],
      ["bias", false],
    ]);
    bn.dispose();
  });

  it("rejects bad arguments and inputs with typed errors", () => {
    expect(() => new BatchNorm1d({ units: 0 })).toThrow(ConfigError);
    expect(() => new BatchNorm1d({ units: 3, momentum: 2 })).toThrow(
      ConfigError,
    );
    expect(() => new BatchNorm1d({ units: 3, epsilon: 0 })).toThrow(
      ConfigError,
    );
    const bn = new BatchNorm1d({ units: 3 });
    const wrong = tf.zeros([4, 2]) as tf.Tensor2D;
    expect(() => bn.apply(wrong, context(4, true))).toThrow(ShapeError);
    const single = tf.zeros([1, 3]) as tf.Tensor2D;
    expect(() => bn.apply(single, context(1, true))).toThrow(ShapeError);
    const y = bn.apply(single, context(1, false));
    expect(y.shape).toEqual([1, 3]);
    tf.dispose([wrong, single, y]);
    bn.dispose();
  });
});
