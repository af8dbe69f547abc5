/**
 * PairNorm against a float64 reference of the authors' equations for the
 * three modes (|y − y_ref| ≤ 1e-5 · (|y_ref| + 1)), the invariants the
 * paper proves (zero column mean and mean squared row norm s² for PN, row
 * norms s for PN-SI, total pairwise squared distance 2 N² s²), gradients
 * against float64 central differences (step 1e-6, 2e-5 · (|g_fd| + 1)),
 * errors and tensor leaks.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { PairNorm, type PairNormMode } from "../../src/nn/pairnorm.js";
import {
  centralDifference,
  dot,
  type Matrix,
  randomMatrix,
  worstError,
} from "../helpers/dense.js";
import { tensorOf } from "../helpers/mp-cases.js";
import { mulberry32 } from "../helpers/random.js";

const N = 10;
const D = 4;
const EPS = 1e-6;
const MODES: PairNormMode[] = ["PN", "PN-SI", "PN-SCS"];

/** PairNorm in float64, written from the paper and the authors' code. */
function reference(
  mode: PairNormMode,
  s: number,
  x: Float64Array,
  n: number,
  d: number,
): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) mean[k] += x[i * d + k] / n;
  }
  const rowNorm = (v: Float64Array, i: number) => {
    let acc = EPS;
    for (let k = 0; k < d; k++) acc += v[i * d + k] ** 2;
    return Math.sqrt(acc);
  };
  const out = new Float64Array(n * d);
  if (mode === "PN-SCS") {
    for (let i = 0; i < n; i++) {
      const r = rowNorm(x, i);
      for (let k = 0; k < d; k++) {
        out[i * d + k] = (s * x[i * d + k]) / r - mean[k];
      }
    }
    return out;
  }
  const c = x.map((v, j) => v - mean[j % d]);
  let meanSquare = 0;
  for (let j = 0; j < c.length; j++) meanSquare += c[j] ** 2 / n;
  for (let i = 0; i < n; i++) {
    const r = mode === "PN" ? Math.sqrt(EPS + meanSquare) : rowNorm(c, i);
    for (let k = 0; k < d; k++) out[i * d + k] = (s * c[i * d + k]) / r;
  }
  return out;
}

/** Random features with a large common component (an oversmoothed set). */
function features(seed: number): Matrix {
  const x = randomMatrix(mulberry32(seed), N, D);
  for (let j = 0; j < x.data.length; j++) {
    x.data[j] = Math.fround(x.data[j] + 3 * (j % D));
  }
  return x;
}

describe("PairNorm", () => {
  for (const mode of MODES) {
    for (const scale of [1, 2.5]) {
      it(`${mode}, s = ${scale}: matches the float64 reference`, () => {
        const x = features(1);
        const layer = new PairNorm({ mode, scale });
        const xt = tensorOf(x);
        const out = layer.apply(xt);
        const ref = reference(mode, scale, x.data, N, D);
        expect(out.shape).toEqual([N, D]);
        expect(
          worstError(out.dataSync(), ref, 1e-5, 1e-5).ratio,
        ).toBeLessThanOrEqual(1);
        tf.dispose([xt, out]);
      });
    }

    it(`${mode}: gradient of x against central differences`, () => {
      const x = features(2);
      const layer = new PairNorm({ mode, scale: 1.7 });
      const rng = mulberry32(3);
      const r = new Float64Array(N * D).map(() => 2 * rng() - 1);
      const rt = tf.tensor2d(Float32Array.from(r), [N, D]);
      const xt = tensorOf(x);
      const g = tf.grad((t: tf.Tensor) =>
        tf.sum(tf.mul(layer.apply(t as tf.Tensor2D), rt)),
      )(xt);
      const fd = centralDifference(
        (v) => dot(reference(mode, 1.7, v, N, D), r),
        x.data,
      );
      expect(
        worstError(g.dataSync(), fd, 2e-5, 2e-5).ratio,
      ).toBeLessThanOrEqual(1);
      tf.dispose([rt, xt, g]);
    });
  }

  it("PN: zero column means, mean squared norm s², pairwise distance 2 N² s²", () => {
    const x = features(4);
    const s = 3;
    const xt = tensorOf(x);
    const out = new PairNorm({ scale: s }).apply(xt);
    const y = out.arraySync();
    for (let k = 0; k < D; k++) {
      const m = y.reduce((acc, row) => acc + row[k], 0) / N;
      expect(Math.abs(m)).toBeLessThan(1e-5);
    }
    const meanSquare =
      y.reduce((acc, row) => acc + row.reduce((a, v) => a + v * v, 0), 0) / N;
    expect(Math.abs(meanSquare - s * s)).toBeLessThan(1e-4 * s * s);
    let tpsd = 0;
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        for (let k = 0; k < D; k++) tpsd += (y[i][k] - y[j][k]) ** 2;
      }
    }
    expect(Math.abs(tpsd - 2 * N * N * s * s)).toBeLessThan(
      1e-4 * 2 * N * N * s * s,
    );
    tf.dispose([xt, out]);
  });

  it("PN-SI: every centered row gets norm s", () => {
    const x = features(5);
    const xt = tensorOf(x);
    const out = new PairNorm({ mode: "PN-SI", scale: 2 }).apply(xt);
    for (const row of out.arraySync()) {
      const norm = Math.sqrt(row.reduce((a, v) => a + v * v, 0));
      expect(Math.abs(norm - 2)).toBeLessThan(1e-5);
    }
    tf.dispose([xt, out]);
  });

  it("PN-SCS and PN-SI keep zero rows finite", () => {
    const xt = tf.tensor2d([0, 0, 1, 2, 0, 0], [3, 2]);
    for (const mode of MODES) {
      const g = tf.grad((t: tf.Tensor) =>
        tf.sum(new PairNorm({ mode }).apply(t as tf.Tensor2D)),
      )(xt);
      expect(Array.from(g.dataSync()).every(Number.isFinite), mode).toBe(true);
      g.dispose();
    }
    xt.dispose();
  });

  it("has no parameters, ignores context, leaks no tensor", () => {
    const x = features(6);
    const xt = tensorOf(x);
    const before = tf.memory().numTensors;
    for (const mode of MODES) {
      const layer = new PairNorm({ mode });
      expect(layer.parameters()).toEqual([]);
      expect(layer.name).toBe(`PairNorm(${mode})`);
      layer.apply(xt).dispose();
      const g = tf.grad((t: tf.Tensor) =>
        tf.sum(layer.apply(t as tf.Tensor2D)),
      )(xt);
      g.dispose();
      layer.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    xt.dispose();
  });

  it("raises ConfigError for bad arguments, ShapeError for bad input", () => {
    expect(
      () => new PairNorm({ mode: "PN-X" as unknown as PairNormMode }),
    ).toThrow(ConfigError);
    for (const scale of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new PairNorm({ scale })).toThrow(ConfigError);
    }
    const layer = new PairNorm();
    const bad: tf.Tensor[] = [
      tf.zeros([4]),
      tf.zeros([0, 3]),
      tf.zeros([2, 2], "int32"),
    ];
    for (const t of bad) {
      expect(() => layer.apply(t as tf.Tensor2D)).toThrow(ShapeError);
    }
    tf.dispose(bad);
  });
});
