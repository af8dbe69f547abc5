/**
 * ContraNorm against a float64 reference that forms the N × N softmax
 * similarity matrix explicitly, as the authors' code does: 50 nodes,
 * every option (|y − y_ref| ≤ 1e-5 · (|y_ref| + 1)); gradients of x and
 * of every parameter against float64 central differences (step 1e-6,
 * 2e-5 · (|g_fd| + 1)) on 12 nodes; invariance to the affinity block
 * size; errors and tensor leaks.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { ContraNorm, type ContraNormArgs } from "../../src/nn/contranorm.js";
import {
  centralDifference,
  dot,
  type Matrix,
  randomMatrix,
  worstError,
} from "../helpers/dense.js";
import { tensorOf } from "../helpers/mp-cases.js";
import { mulberry32 } from "../helpers/random.js";

/** The options the reference reads, defaults filled in. */
interface Options {
  scale: number;
  temperature: number;
  normalizeFeatures: boolean;
  /** Per-channel step (learnable), or null for the constant scale. */
  scaleVector: Float64Array | null;
  /** LayerNorm gain and offset, or null without LayerNorm. */
  gain: Float64Array | null;
  offset: Float64Array | null;
}

/**
 * ContraNorm in float64: `X − s ⊙ softmax(X_n X_nᵀ / τ) X`, then the
 * optional LayerNorm, with the similarity matrix built in full.
 */
function reference(
  o: Options,
  x: Float64Array,
  n: number,
  d: number,
): Float64Array {
  const xn = Float64Array.from(x);
  if (o.normalizeFeatures) {
    for (let i = 0; i < n; i++) {
      let sq = 0;
      for (let k = 0; k < d; k++) sq += x[i * d + k] ** 2;
      const norm = Math.max(Math.sqrt(sq), 1e-12);
      for (let k = 0; k < d; k++) xn[i * d + k] = x[i * d + k] / norm;
    }
  }
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const logits = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let k = 0; k < d; k++) acc += xn[i * d + k] * xn[j * d + k];
      logits[j] = acc / o.temperature;
    }
    const top = Math.max(...logits);
    let z = 0;
    for (let j = 0; j < n; j++) z += Math.exp(logits[j] - top);
    for (let k = 0; k < d; k++) {
      let neg = 0;
      for (let j = 0; j < n; j++) {
        neg += (Math.exp(logits[j] - top) / z) * x[j * d + k];
      }
      const s = o.scaleVector === null ? o.scale : o.scaleVector[k];
      out[i * d + k] = x[i * d + k] - s * neg;
    }
  }
  if (o.gain === null || o.offset === null) return out;
  for (let i = 0; i < n; i++) {
    let mean = 0;
    for (let k = 0; k < d; k++) mean += out[i * d + k] / d;
    let variance = 0;
    for (let k = 0; k < d; k++) variance += (out[i * d + k] - mean) ** 2 / d;
    const inv = 1 / Math.sqrt(variance + 1e-6);
    for (let k = 0; k < d; k++) {
      out[i * d + k] = (out[i * d + k] - mean) * inv * o.gain[k] + o.offset[k];
    }
  }
  return out;
}

/** The cases every reference test runs. */
const CASES: { label: string; args: ContraNormArgs }[] = [
  { label: "defaults (s = 0.1, τ = 1)", args: {} },
  { label: "s = 0.8, τ = 0.3", args: { scale: 0.8, temperature: 0.3 } },
  {
    label: "raw features, τ = 2",
    args: { scale: 0.5, temperature: 2, normalizeFeatures: false },
  },
  { label: "LayerNorm", args: { scale: 0.6, layerNorm: true } },
  {
    label: "learnable scale and LayerNorm",
    args: { scale: 0.3, learnable: true, layerNorm: true, temperature: 0.5 },
  },
  { label: "blocks of 7 rows", args: { scale: 0.9, blockSize: 7 } },
];

/** Give every parameter seeded values: scale in (0, 1), others ±1. */
function randomizeParams(layer: ContraNorm, seed: number): void {
  const rng = mulberry32(seed);
  for (const p of layer.parameters()) {
    const v = new Float32Array(p.variable.size).map(() =>
      p.name === "scale" ? rng() : 2 * rng() - 1,
    );
    p.variable.assign(tf.tensor(v, p.variable.shape));
  }
}

/** The reference options of a layer, its parameters read back. */
function optionsOf(layer: ContraNorm): Options {
  const read = (name: string) => {
    const p = layer.parameters().find((q) => q.name === name);
    return p === undefined ? null : Float64Array.from(p.variable.dataSync());
  };
  return {
    scale: layer.scale,
    temperature: layer.temperature,
    normalizeFeatures: layer.normalizeFeatures,
    scaleVector: read("scale"),
    gain: read("layerNorm.weight"),
    offset: read("layerNorm.bias"),
  };
}

/** Random features with a common component, as after smoothing. */
function features(seed: number, n: number, d: number): Matrix {
  const x = randomMatrix(mulberry32(seed), n, d);
  for (let j = 0; j < x.data.length; j++) {
    x.data[j] = Math.fround(x.data[j] + (j % d === 0 ? 1 : 0));
  }
  return x;
}

describe("ContraNorm against the float64 reference", () => {
  for (const [c, { label, args }] of CASES.entries()) {
    it(`${label}: 50 nodes`, () => {
      const n = 50;
      const d = 6;
      const layer = new ContraNorm({ dim: d, ...args });
      randomizeParams(layer, c);
      const x = features(10 + c, n, d);
      const xt = tensorOf(x);
      const out = layer.apply(xt);
      const ref = reference(optionsOf(layer), x.data, n, d);
      expect(out.shape).toEqual([n, d]);
      expect(
        worstError(out.dataSync(), ref, 1e-5, 1e-5).ratio,
      ).toBeLessThanOrEqual(1);

      // the update moved the features: the test is not of the identity
      expect(
        worstError(out.dataSync(), x.data, 1e-3, 1e-3).ratio,
      ).toBeGreaterThan(1);
      tf.dispose([xt, out]);
      layer.dispose();
    });

    it(`${label}: gradients of x and of every parameter`, () => {
      const n = 12;
      const d = 3;
      const layer = new ContraNorm({ dim: d, ...args });
      randomizeParams(layer, 20 + c);
      const options = optionsOf(layer);
      const x = features(30 + c, n, d);
      const rng = mulberry32(40 + c);
      const r = new Float64Array(n * d).map(() => 2 * rng() - 1);
      const rt = tf.tensor2d(Float32Array.from(r), [n, d]);
      const xt = tensorOf(x);
      const loss = (input: tf.Tensor2D) =>
        tf.sum(tf.mul(layer.apply(input), rt)) as tf.Scalar;

      const gx = tf.grad((t: tf.Tensor) => loss(t as tf.Tensor2D))(xt);
      const fdx = centralDifference(
        (v) => dot(reference(options, v, n, d), r),
        x.data,
      );
      expect(
        worstError(gx.dataSync(), fdx, 2e-5, 2e-5).ratio,
      ).toBeLessThanOrEqual(1);

      const variables = layer.parameters().map((p) => p.variable);
      if (variables.length > 0) {
        const { value, grads } = tf.variableGrads(() => loss(xt), variables);
        const key: Record<string, keyof Options> = {
          scale: "scaleVector",
          "layerNorm.weight": "gain",
          "layerNorm.bias": "offset",
        };
        for (const p of layer.parameters()) {
          const field = key[p.name];
          const fd = centralDifference(
            (v) => dot(reference({ ...options, [field]: v }, x.data, n, d), r),
            options[field] as Float64Array,
          );
          expect(
            worstError(grads[p.variable.name].dataSync(), fd, 2e-5, 2e-5).ratio,
            p.name,
          ).toBeLessThanOrEqual(1);
        }
        tf.dispose([value, ...Object.values(grads)]);
      }
      tf.dispose([rt, xt, gx]);
      layer.dispose();
    });
  }
});

describe("ContraNorm behaviour", () => {
  it("does not depend on the affinity block size", () => {
    const x = features(5, 23, 4);
    const xt = tensorOf(x);
    const whole = new ContraNorm({ scale: 0.7 }).apply(xt);
    for (const blockSize of [1, 5, 23]) {
      const part = new ContraNorm({ scale: 0.7, blockSize }).apply(xt);
      expect(
        worstError(part.dataSync(), whole.dataSync(), 1e-6, 1e-6).ratio,
        `blockSize ${blockSize}`,
      ).toBeLessThanOrEqual(1);
      part.dispose();
    }
    tf.dispose([xt, whole]);
  });

  it("scale 0 without LayerNorm returns a copy of x", () => {
    const x = features(6, 5, 3);
    const xt = tensorOf(x);
    const out = new ContraNorm({ scale: 0 }).apply(xt);
    expect(out).not.toBe(xt);
    expect(Array.from(out.dataSync())).toEqual(Array.from(xt.dataSync()));
    tf.dispose([xt, out]);
  });

  it("spreads collapsed features: the spread around the mean grows", () => {
    // nearly collapsed features: one shared direction plus small noise
    const n = 40;
    const d = 8;
    const x = randomMatrix(mulberry32(7), n, d, -0.05, 0.05);
    for (let i = 0; i < n; i++) x.data[i * d] += 1;
    const spread = (v: ArrayLike<number>) => {
      const mean = new Float64Array(d);
      for (let j = 0; j < v.length; j++) mean[j % d] += v[j] / n;
      let s = 0;
      for (let j = 0; j < v.length; j++) s += (v[j] - mean[j % d]) ** 2;
      // relative to the squared norm of the mean
      return s / n / mean.reduce((a, m) => a + m * m, 0);
    };
    const xt = tensorOf(x);
    const out = new ContraNorm({ scale: 0.5 }).apply(xt);
    expect(spread(out.dataSync())).toBeGreaterThan(2 * spread(x.data));
    tf.dispose([xt, out]);
  });

  it("names and initialises its parameters", () => {
    const layer = new ContraNorm({
      dim: 3,
      scale: 0.25,
      learnable: true,
      layerNorm: true,
    });
    const p = layer.parameters();
    expect(p.map((q) => q.name)).toEqual([
      "scale",
      "layerNorm.weight",
      "layerNorm.bias",
    ]);
    expect(Array.from(p[0].variable.dataSync())).toEqual([0.25, 0.25, 0.25]);
    expect(Array.from(p[1].variable.dataSync())).toEqual([1, 1, 1]);
    expect(Array.from(p[2].variable.dataSync())).toEqual([0, 0, 0]);
    expect(new ContraNorm().parameters()).toEqual([]);
    expect(new ContraNorm().scale).toBe(0.1);
    layer.dispose();
  });

  it("leaks no tensor in construction, apply and gradients", () => {
    const x = features(8, 9, 3);
    const xt = tensorOf(x);
    for (const args of CASES.map((c) => c.args)) {
      const start = tf.memory().numTensors;
      const layer = new ContraNorm({ dim: 3, ...args });
      const before = tf.memory().numTensors;
      layer.apply(xt).dispose();
      const g = tf.grad((t: tf.Tensor) =>
        tf.sum(layer.apply(t as tf.Tensor2D)),
      )(xt);
      g.dispose();
      const vars = layer.parameters().map((q) => q.variable);
      if (vars.length > 0) {
        const { value, grads } = tf.variableGrads(
          () => tf.sum(layer.apply(xt)) as tf.Scalar,
          vars,
        );
        tf.dispose([value, ...Object.values(grads)]);
      }
      expect(tf.memory().numTensors).toBe(before);
      layer.dispose();
      expect(tf.memory().numTensors).toBe(start);
    }
    xt.dispose();
  });

  it("raises ConfigError for bad arguments, ShapeError for bad input", () => {
    const bad: ContraNormArgs[] = [
      { scale: -0.1 },
      { scale: Number.NaN },
      { temperature: 0 },
      { temperature: Number.POSITIVE_INFINITY },
      { dim: 0 },
      { blockSize: 2.5 },
      { layerNorm: true },
      { learnable: true },
    ];
    for (const args of bad) {
      expect(() => new ContraNorm(args), JSON.stringify(args)).toThrow(
        ConfigError,
      );
    }
    const layer = new ContraNorm({ dim: 3 });
    const inputs: tf.Tensor[] = [
      tf.zeros([4]),
      tf.zeros([0, 3]),
      tf.zeros([2, 4]),
      tf.zeros([2, 3], "int32"),
    ];
    for (const t of inputs) {
      expect(() => layer.apply(t as tf.Tensor2D)).toThrow(ShapeError);
    }
    tf.dispose(inputs);
  });
});
