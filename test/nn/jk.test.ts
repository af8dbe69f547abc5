/**
 * JumpingKnowledge against float64 references: concatenation (exact),
 * element-wise max (exact, with the gradient of ties on the first layer),
 * attention over layers (outputs and weights within 1e-6 · (|ref| + 1);
 * gradients of the scoring vector and of every layer within
 * 2e-5 · (|g_fd| + 1) of float64 central differences, step 1e-6), seeded
 * initialisation, errors and tensor leaks.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { JumpingKnowledge } from "../../src/nn/jk.js";
import {
  centralDifference,
  dot,
  type Matrix,
  randomMatrix,
  worstError,
} from "../helpers/dense.js";
import { tensorOf } from "../helpers/mp-cases.js";
import { mulberry32 } from "../helpers/random.js";

const N = 6;
const C = 4;
const L = 3;

/** L random layer outputs [N, C] in float64. */
function layers(seed: number, widths = [C, C, C]): Matrix[] {
  const rng = mulberry32(seed);
  return widths.map((w) => randomMatrix(rng, N, w));
}

/** The float64 attention readout: output [N, C] and weights [N, L]. */
function attentionReference(
  hs: readonly Float64Array[],
  a: Float64Array,
): { out: Float64Array; alpha: Float64Array } {
  const l = hs.length;
  const out = new Float64Array(N * C);
  const alpha = new Float64Array(N * l);
  for (let i = 0; i < N; i++) {
    const s = hs.map((h) => {
      let acc = 0;
      for (let c = 0; c < C; c++) acc += h[i * C + c] * a[c];
      return acc;
    });
    const top = Math.max(...s);
    const e = s.map((v) => Math.exp(v - top));
    const z = e.reduce((p, q) => p + q, 0);
    for (let k = 0; k < l; k++) {
      alpha[i * l + k] = e[k] / z;
      for (let c = 0; c < C; c++) {
        out[i * C + c] += (e[k] / z) * hs[k][i * C + c];
      }
    }
  }
  return { out, alpha };
}

describe("JumpingKnowledge", () => {
  it("cat concatenates the layers in order", () => {
    const hs = layers(1, [2, 3, 1]);
    const jk = new JumpingKnowledge({ mode: "cat" });
    expect(jk.outputDim([2, 3, 1])).toBe(6);
    const ts = hs.map(tensorOf);
    const out = jk.combine(ts).arraySync();
    for (let i = 0; i < N; i++) {
      const want = hs.flatMap((h) =>
        Array.from(h.data.subarray(i * h.cols, (i + 1) * h.cols)),
      );
      expect(out[i]).toEqual(want);
    }
    expect(jk.parameters()).toEqual([]);
    tf.dispose(ts);
  });

  it("max takes the element-wise maximum; ties send the gradient to the first layer", () => {
    const hs = layers(2);
    // a tie between layers 0 and 2 on a whole row
    for (let c = 0; c < C; c++) hs[2].data[c] = hs[0].data[c] + 0;
    for (let c = 0; c < C; c++) hs[1].data[c] = -2;
    const jk = new JumpingKnowledge({ mode: "max", channels: C });
    expect(jk.outputDim([C, C, C])).toBe(C);
    const ts = hs.map(tensorOf);
    const out = jk.combine(ts).dataSync();
    const winner = new Int32Array(N * C);
    for (let j = 0; j < N * C; j++) {
      let best = 0;
      for (let l = 1; l < L; l++) {
        if (hs[l].data[j] > hs[best].data[j]) best = l;
      }
      winner[j] = best;
      expect(out[j]).toBe(hs[best].data[j]);
    }
    const grads = tf.grads((...args: tf.Tensor[]) =>
      tf.sum(jk.combine(args as tf.Tensor2D[])),
    )(ts);
    for (let l = 0; l < L; l++) {
      const g = grads[l].dataSync();
      for (let j = 0; j < N * C; j++) {
        expect(g[j]).toBe(winner[j] === l ? 1 : 0);
      }
    }
    tf.dispose([...ts, ...grads]);
  });

  it("attention: output and weights match the float64 reference", () => {
    const hs = layers(3);
    const jk = new JumpingKnowledge({
      mode: "attention",
      channels: C,
      numLayers: L,
      seed: 5,
    });
    const [att] = jk.parameters();
    expect(att.name).toBe("att");
    att.variable.assign(tf.tensor1d([1.5, -2, 0.5, 3]));
    const a = Float64Array.from(att.variable.dataSync());
    const ref = attentionReference(
      hs.map((h) => h.data),
      a,
    );
    const ts = hs.map(tensorOf);
    const out = jk.combine(ts);
    const alpha = jk.attention(ts);
    expect(out.shape).toEqual([N, C]);
    expect(alpha.shape).toEqual([N, L]);
    expect(
      worstError(out.dataSync(), ref.out, 1e-6, 1e-6).ratio,
    ).toBeLessThanOrEqual(1);
    expect(
      worstError(alpha.dataSync(), ref.alpha, 1e-6, 1e-6).ratio,
    ).toBeLessThanOrEqual(1);
    // the weights are not uniform: the scoring vector matters
    expect(Math.max(...ref.alpha) - Math.min(...ref.alpha)).toBeGreaterThan(
      0.3,
    );
    tf.dispose([...ts, out, alpha]);
    jk.dispose();
  });

  it("attention: gradients of the scoring vector and of every layer", () => {
    const hs = layers(4);
    const jk = new JumpingKnowledge({ mode: "attention", channels: C });
    const variable = jk.parameters()[0].variable;
    variable.assign(tf.tensor1d([0.7, -1.1, 0.4, 1.3]));
    const a = Float64Array.from(variable.dataSync());
    const rng = mulberry32(8);
    const r = new Float64Array(N * C).map(() => 2 * rng() - 1);
    const rt = tf.tensor2d(Float32Array.from(r), [N, C]);
    const ts = hs.map(tensorOf);
    const loss = (inputs: tf.Tensor2D[]) =>
      tf.sum(tf.mul(jk.combine(inputs), rt)) as tf.Scalar;

    const { value, grads } = tf.variableGrads(() => loss(ts), [variable]);
    const layerGrads = tf.grads((...args: tf.Tensor[]) =>
      loss(args as tf.Tensor2D[]),
    )(ts);
    const data = hs.map((h) => h.data);
    const refLoss = dot(attentionReference(data, a).out, r);
    expect(Math.abs(value.dataSync()[0] - refLoss)).toBeLessThanOrEqual(
      1e-5 * (Math.abs(refLoss) + 1),
    );
    const fdA = centralDifference(
      (v) => dot(attentionReference(data, v).out, r),
      a,
    );
    expect(
      worstError(grads[variable.name].dataSync(), fdA, 2e-5, 2e-5).ratio,
    ).toBeLessThanOrEqual(1);
    for (let l = 0; l < L; l++) {
      const fd = centralDifference((v) => {
        const probe = data.slice();
        probe[l] = v;
        return dot(attentionReference(probe, a).out, r);
      }, data[l]);
      expect(
        worstError(layerGrads[l].dataSync(), fd, 2e-5, 2e-5).ratio,
        `layer ${l}`,
      ).toBeLessThanOrEqual(1);
    }
    tf.dispose([rt, value, ...ts, ...layerGrads, ...Object.values(grads)]);
    jk.dispose();
  });

  it("draws the scoring vector from its seed, Glorot uniform", () => {
    const make = (seed: number) =>
      new JumpingKnowledge({ mode: "attention", channels: 64, seed });
    const a = make(1);
    const b = make(1);
    const c = make(2);
    const va = Array.from(a.parameters()[0].variable.dataSync());
    expect(Array.from(b.parameters()[0].variable.dataSync())).toEqual(va);
    expect(Array.from(c.parameters()[0].variable.dataSync())).not.toEqual(va);
    const limit = Math.sqrt(6 / 65);
    const top = Math.max(...va.map(Math.abs));
    expect(top).toBeLessThanOrEqual(limit);
    expect(top).toBeGreaterThan(0.8 * limit);
    for (const jk of [a, b, c]) jk.dispose();
  });

  it("a single layer comes back unchanged, as a new tensor", () => {
    const [h] = layers(5, [C]);
    const t = tensorOf(h);
    for (const mode of ["cat", "max", "attention"] as const) {
      const jk = new JumpingKnowledge({ mode, channels: C });
      const out = jk.combine([t]);
      expect(out).not.toBe(t);
      expect(
        worstError(out.dataSync(), h.data, 1e-6, 1e-7).ratio,
      ).toBeLessThanOrEqual(1);
      out.dispose();
      jk.dispose();
    }
    t.dispose();
  });

  it("leaks no tensor in combine, attention and gradients", () => {
    const ts = layers(6).map(tensorOf);
    for (const mode of ["cat", "max", "attention"] as const) {
      const start = tf.memory().numTensors;
      const jk = new JumpingKnowledge({ mode, channels: C });
      const before = tf.memory().numTensors;
      jk.combine(ts).dispose();
      if (mode === "attention") jk.attention(ts).dispose();
      const g = tf.grads((...args: tf.Tensor[]) =>
        tf.sum(jk.combine(args as tf.Tensor2D[])),
      )(ts);
      tf.dispose(g);
      expect(tf.memory().numTensors, mode).toBe(before);
      jk.dispose();
      expect(tf.memory().numTensors, mode).toBe(start);
    }
    tf.dispose(ts);
  });

  it("raises typed errors for bad arguments and inputs", () => {
    expect(
      () => new JumpingKnowledge({ mode: "lstm" as unknown as "cat" }),
    ).toThrow(ConfigError);
    expect(() => new JumpingKnowledge({ mode: "attention" })).toThrow(
      ConfigError,
    );
    expect(() => new JumpingKnowledge({ mode: "max", channels: 0 })).toThrow(
      ConfigError,
    );
    expect(() => new JumpingKnowledge({ mode: "cat", numLayers: 1.5 })).toThrow(
      ConfigError,
    );
    expect(() => new JumpingKnowledge({ mode: "cat" }).attention([])).toThrow(
      ConfigError,
    );

    const before = tf.memory().numTensors;
    const a = tf.zeros([N, C]) as tf.Tensor2D;
    const wide = tf.zeros([N, C + 1]) as tf.Tensor2D;
    const short = tf.zeros([N - 1, C]) as tf.Tensor2D;
    const max = new JumpingKnowledge({ mode: "max" });
    const cat = new JumpingKnowledge({ mode: "cat", numLayers: 2 });
    expect(() => max.combine([])).toThrow(ShapeError);
    expect(() => max.combine([a, wide])).toThrow(ShapeError);
    expect(() => max.outputDim([C, C + 1])).toThrow(ShapeError);
    expect(() => cat.combine([a, short])).toThrow(ShapeError);
    expect(() => cat.combine([a])).toThrow(ShapeError);
    expect(() => cat.outputDim([])).toThrow(ShapeError);
    expect(cat.outputDim([C, C + 1])).toBe(2 * C + 1);
    const att = new JumpingKnowledge({ mode: "attention", channels: C });
    expect(() => att.combine([wide])).toThrow(ShapeError);
    att.dispose();
    tf.dispose([a, wide, short]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
