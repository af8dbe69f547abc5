/**
 * Initialisers: limits, moments against their closed forms, determinism
 * and stream positions, argument errors; and the activations against
 * their formulas.
 *
 * Moments: with n draws, the sample mean of U(−a, a) has standard error
 * a / sqrt(3n) and the sample variance of a uniform has relative standard
 * error sqrt(0.8 / n) (kurtosis 1.8); for normal draws sqrt(2 / n). The
 * tolerances below are 5 standard errors.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError } from "../../src/errors.js";
import {
  ACTIVATION_NAMES,
  activate,
  checkActivation,
} from "../../src/nn/activation.js";
import {
  checkInit,
  createVariable,
  denseInit,
  glorotNormal,
  glorotUniform,
  heUniform,
  kaimingUniform,
  uniform,
  zeros,
} from "../../src/nn/init.js";
import { mulberry32 } from "../../src/random.js";
import { expectClose, expectNoLeak } from "./helpers.js";

/** Sample mean and (population) variance. */
function moments(v: Float32Array): { mean: number; variance: number } {
  let s = 0;
  for (const x of v) s += x;
  const mean = s / v.length;
  let q = 0;
  for (const x of v) q += (x - mean) ** 2;
  return { mean, variance: q / v.length };
}

/** Check the limit and moments of a U(−a, a) sample. */
function expectUniform(v: Float32Array, a: number): void {
  const n = v.length;
  let max = 0;
  for (const x of v) max = Math.max(max, Math.abs(x));
  expect(max).toBeLessThanOrEqual(a);
  // with n ≥ 20,000 draws the largest |x| is within 0.1 % of the bound
  expect(max).toBeGreaterThan(a * 0.999);
  const { mean, variance } = moments(v);
  expect(Math.abs(mean)).toBeLessThan((5 * a) / Math.sqrt(3 * n));
  const expected = (a * a) / 3;
  expect(Math.abs(variance / expected - 1)).toBeLessThan(
    5 * Math.sqrt(0.8 / n),
  );
}

describe("initialisers", () => {
  it("glorotUniform has limit sqrt(6 / (fanIn + fanOut))", () => {
    const v = glorotUniform(200, 150, mulberry32(1));
    expect(v.length).toBe(30_000);
    expectUniform(v, Math.sqrt(6 / 350));
  });

  it("glorotNormal has variance 2 / (fanIn + fanOut) and mean 0", () => {
    const n = 40_000;
    const v = glorotNormal(100, 400, mulberry32(2));
    expect(v.length).toBe(n);
    const sigma2 = 2 / 500;
    const { mean, variance } = moments(v);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(sigma2 / n));
    expect(Math.abs(variance / sigma2 - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });

  it("heUniform has limit sqrt(6 / fanIn)", () => {
    expectUniform(heUniform(30, 24_000, mulberry32(3)), Math.sqrt(6 / 30));
  });

  it("kaimingUniform (PyTorch nn.Linear) has limit 1 / sqrt(fanIn)", () => {
    expectUniform(kaimingUniform(64, 25_000, mulberry32(4)), 1 / 8);
  });

  it("is deterministic: same seed, same values; draws one uniform each", () => {
    const a = glorotUniform(7, 5, mulberry32(11));
    const b = glorotUniform(7, 5, mulberry32(11));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(glorotUniform(7, 5, mulberry32(12)))).not.toEqual(
      Array.from(a),
    );

    // entry k is limit · (2 u_k − 1) with u_k the k-th draw of the stream
    const rng = mulberry32(11);
    const limit = Math.sqrt(6 / 12);
    const expected = Array.from({ length: 35 }, () => limit * (2 * rng() - 1));
    expectClose(a, expected, 1e-6, 0);

    // a glorot normal entry consumes two uniforms
    const r1 = mulberry32(5);
    glorotNormal(3, 3, r1);
    const r2 = mulberry32(5);
    for (let k = 0; k < 18; k++) r2();
    expect(r1()).toBe(r2());
  });

  it("denseInit: glorot gives a zero bias, kaiming a bias in ±1/√fanIn", () => {
    const g = denseInit("glorot", 10, 4, true, mulberry32(0));
    expect(Array.from(g.bias as Float32Array)).toEqual([0, 0, 0, 0]);
    expect(g.weight.length).toBe(40);
    const k = denseInit("kaiming", 100, 3, true, mulberry32(0));
    const b = k.bias as Float32Array;
    expect(b.length).toBe(3);
    for (const v of b) expect(Math.abs(v)).toBeLessThanOrEqual(0.1);
    expect(b.some((v) => v !== 0)).toBe(true);
    expect(denseInit("glorot", 2, 2, false, mulberry32(0)).bias).toBeNull();
    expect(Array.from(zeros(3))).toEqual([0, 0, 0]);
  });

  it("createVariable holds the data with the shape, and leaks nothing", () => {
    expectNoLeak(() => {
      const v = createVariable(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
      expect(v.shape).toEqual([2, 3]);
      expect(v.trainable).toBe(true);
      expect(Array.from(v.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
      v.dispose();
    });
    expect(() => createVariable(new Float32Array(5), [2, 3])).toThrow(
      ConfigError,
    );
  });

  it("raises ConfigError for bad fans, sizes, limits and names", () => {
    const r = mulberry32(0);
    expect(() => glorotUniform(0, 3, r)).toThrow(ConfigError);
    expect(() => glorotNormal(3, 1.5, r)).toThrow(ConfigError);
    expect(() => heUniform(-1, 3, r)).toThrow(ConfigError);
    expect(() => kaimingUniform(3, 0, r)).toThrow(ConfigError);
    expect(() => uniform(3, Number.NaN, r)).toThrow(ConfigError);
    expect(() => zeros(0)).toThrow(ConfigError);
    expect(() => checkInit("Layer", "xavier")).toThrow(ConfigError);
    expect(checkInit("Layer", "kaiming")).toBe("kaiming");
  });
});

describe("activations", () => {
  const xs = [-2.5, -1, -0.25, 0, 0.3, 1, 4];
  const formulas: Record<string, (v: number) => number> = {
    relu: (v) => Math.max(v, 0),
    elu: (v) => (v > 0 ? v : Math.exp(v) - 1),
    leaky_relu: (v) => (v > 0 ? v : 0.01 * v),
    tanh: (v) => Math.tanh(v),
    sigmoid: (v) => 1 / (1 + Math.exp(-v)),
    identity: (v) => v,
  };

  for (const name of ACTIVATION_NAMES) {
    it(`${name} matches its formula`, () => {
      const x = tf.tensor1d(xs);
      const y = activate(x, name);
      expectClose(y.dataSync(), xs.map(formulas[name]), 1e-6, 1e-7, name);
      if (name === "identity") expect(y).toBe(x);
      tf.dispose([x, y]);
    });
  }

  it("leaky_relu takes a negative slope", () => {
    const x = tf.tensor1d([-2, 3]);
    const y = activate(x, "leaky_relu", { negativeSlope: 0.2 });
    expectClose(y.dataSync(), [-0.4, 3], 1e-6, 0);
    tf.dispose([x, y]);
  });

  it("raises ConfigError listing the allowed names", () => {
    const x = tf.tensor1d([1]);
    expect(() => activate(x, "swish" as never)).toThrow(ConfigError);
    expect(() => checkActivation("GINConv", "gelu")).toThrow(
      /relu, elu, leaky_relu, tanh, sigmoid, identity/,
    );
    x.dispose();
  });
});
