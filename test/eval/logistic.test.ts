/**
 * The logistic-regression probe against independent references: the
 * objective written out plainly in float64 and its central finite
 * differences, plain gradient descent run to convergence, the closed form
 * of an intercept-only fit, a one-dimensional symmetric problem solved by
 * bisection, and accuracies known exactly (separable classes, infinite
 * regularization).
 */

import { describe, expect, it } from "vitest";
import { ConfigError, NumericalError, ShapeError } from "../../src/errors.js";
import {
  logisticObjective,
  logisticPredict,
  logisticRegression,
} from "../../src/eval/logistic.js";
import { mulberry32, randomNormal } from "../../src/random.js";

/** Seeded Gaussian blobs: class c centred at `spread · e_c`. */
function blobs(seed: number, n: number, d: number, classes: number) {
  const r = mulberry32(seed);
  const x = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = Math.floor(r() * classes);
    for (let a = 0; a < d; a++) {
      x[i * d + a] = randomNormal(r) + (a === y[i] % d ? 1.5 : 0);
    }
  }
  return { x, y };
}

/**
 * The objective `(1/N) Σ s_{y_i} (log Σ_c e^{z_ic} − z_{i y_i}) +
 * (λ/2)‖W‖²` with z = W x + b, written plainly (no stabilisation needed
 * for the small logits used here).
 */
function referenceObjective(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
  d: number,
  classes: number,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  l2: number,
  classWeights: number[] = Array(classes).fill(1),
): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const z: number[] = [];
    for (let c = 0; c < classes; c++) {
      let s = b[c];
      for (let a = 0; a < d; a++) s += w[c * d + a] * x[i * d + a];
      z.push(s);
    }
    const lse = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    total += classWeights[y[i]] * (lse - z[y[i]]);
  }
  let norm = 0;
  for (let j = 0; j < classes * d; j++) norm += w[j] * w[j];
  return total / n + 0.5 * l2 * norm;
}

/** The gradient of {@link referenceObjective} by central differences. */
function finiteDifferenceGradient(
  f: (w: Float64Array, b: Float64Array) => number,
  w: Float64Array,
  b: Float64Array,
  h = 1e-5,
): { gw: Float64Array; gb: Float64Array } {
  const gw = new Float64Array(w.length);
  const gb = new Float64Array(b.length);
  for (const [v, g] of [
    [w, gw],
    [b, gb],
  ] as const) {
    for (let j = 0; j < v.length; j++) {
      const keep = v[j];
      v[j] = keep + h;
      const up = f(w, b);
      v[j] = keep - h;
      const down = f(w, b);
      v[j] = keep;
      g[j] = (up - down) / (2 * h);
    }
  }
  return { gw, gb };
}

/** Largest |a − b| over max(1, |b|)-scaled entries. */
function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>) {
  let worst = 0;
  for (let j = 0; j < a.length; j++) {
    worst = Math.max(
      worst,
      Math.abs(a[j] - b[j]) / Math.max(1, Math.abs(b[j])),
    );
  }
  return worst;
}

describe("logisticObjective", () => {
  it("matches the plain objective and its finite differences", () => {
    const n = 30;
    const d = 4;
    const classes = 3;
    const { x, y } = blobs(1, n, d, classes);
    const r = mulberry32(2);
    const w = Float64Array.from({ length: classes * d }, () => randomNormal(r));
    const b = Float64Array.from({ length: classes }, () => randomNormal(r));
    const classWeights = [0.5, 2, 1.25];
    const l2 = 0.3;
    const got = logisticObjective(x, n, d, y, w, b, { l2, classWeights });
    const f = (ww: Float64Array, bb: Float64Array) =>
      referenceObjective(x, y, n, d, classes, ww, bb, l2, classWeights);
    expect(got.value).toBeCloseTo(f(w, b), 12);
    const { gw, gb } = finiteDifferenceGradient(f, w, b);
    expect(maxRelativeError(got.weightGradient, gw)).toBeLessThan(1e-6);
    expect(maxRelativeError(got.biasGradient, gb)).toBeLessThan(1e-6);
  });

  it("stays finite for logits in the thousands", () => {
    // log-sum-exp must subtract the largest logit
    const x = [1000, -1000];
    const w = [1, -1];
    const got = logisticObjective(x, 2, 1, [0, 1], w, [0, 0], { l2: 0 });
    // sample 0: logits (1000, −1000) with label 0 → loss ≈ e^{−2000} ≈ 0;
    // sample 1: logits (−1000, 1000) with label 1 → same
    expect(got.value).toBe(0);
    expect(Number.isFinite(got.weightGradient[0])).toBe(true);
  });
});

describe("logisticRegression", () => {
  it("reaches a stationary point of the plain objective", () => {
    const n = 120;
    const d = 5;
    const classes = 4;
    const { x, y } = blobs(3, n, d, classes);
    const l2 = 0.01;
    const model = logisticRegression(x, n, d, y, { l2, tolerance: 1e-9 });
    expect(model.converged).toBe(true);
    expect(model.gradientNorm).toBeLessThanOrEqual(1e-9);

    // the finite-difference gradient of the written-out objective
    const f = (ww: Float64Array, bb: Float64Array) =>
      referenceObjective(x, y, n, d, classes, ww, bb, l2);
    const { gw, gb } = finiteDifferenceGradient(f, model.weights, model.bias);
    for (const g of [...gw, ...gb]) expect(Math.abs(g)).toBeLessThan(1e-8);
    expect(model.objective).toBeCloseTo(f(model.weights, model.bias), 12);

    // started at zero, the bias keeps Σ_c b_c = 0
    const biasSum = model.bias.reduce((s, v) => s + v, 0);
    expect(Math.abs(biasSum)).toBeLessThan(1e-12);
  });

  it("agrees with plain gradient descent run to convergence", () => {
    // strongly convex (λ = 0.2): gradient descent with step 1/L, L ≤
    // max‖x̃‖² / 2 + λ, converges linearly to the unique minimizer
    const n = 40;
    const d = 3;
    const classes = 3;
    const { x, y } = blobs(4, n, d, classes);
    const l2 = 0.2;
    let maxNorm = 0;
    for (let i = 0; i < n; i++) {
      let s = 1;
      for (let a = 0; a < d; a++) s += x[i * d + a] ** 2;
      maxNorm = Math.max(maxNorm, s);
    }
    const step = 1 / (maxNorm / 2 + l2);
    const w = new Float64Array(classes * d);
    const b = new Float64Array(classes);
    for (let it = 0; it < 20000; it++) {
      // plain gradient: (1/N) Σ (p_i − y_i) x̃_iᵀ + λ W
      const gw = new Float64Array(classes * d);
      const gb = new Float64Array(classes);
      for (let i = 0; i < n; i++) {
        const z: number[] = [];
        for (let c = 0; c < classes; c++) {
          let s = b[c];
          for (let a = 0; a < d; a++) s += w[c * d + a] * x[i * d + a];
          z.push(Math.exp(s));
        }
        const total = z.reduce((s, v) => s + v, 0);
        for (let c = 0; c < classes; c++) {
          const residual = z[c] / total - (y[i] === c ? 1 : 0);
          for (let a = 0; a < d; a++) {
            gw[c * d + a] += (residual * x[i * d + a]) / n;
          }
          gb[c] += residual / n;
        }
      }
      for (let j = 0; j < w.length; j++) w[j] -= step * (gw[j] + l2 * w[j]);
      for (let c = 0; c < classes; c++) b[c] -= step * gb[c];
    }
    const model = logisticRegression(x, n, d, y, { l2, tolerance: 1e-10 });
    expect(maxRelativeError(model.weights, w)).toBeLessThan(1e-7);
    expect(maxRelativeError(model.bias, b)).toBeLessThan(1e-7);
  });

  it("fits the log class frequencies when the features are zero", () => {
    // W = 0 is optimal (no signal, penalty), and softmax(b) must equal
    // the (weighted) class proportions: b_c = log π_c − mean_c log π_c
    const labels = [0, 0, 0, 1, 2, 2, 0, 1, 2, 0];
    const x = new Float64Array(labels.length * 2);
    const weights = [1, 3, 0.5];
    const model = logisticRegression(x, labels.length, 2, labels, {
      l2: 1,
      classWeights: weights,
      tolerance: 1e-12,
    });
    const mass = [0, 0, 0];
    for (const c of labels) mass[c] += weights[c];
    const logs = mass.map((m) => Math.log(m));
    const mean = logs.reduce((s, v) => s + v, 0) / 3;
    for (let c = 0; c < 3; c++) {
      expect(model.bias[c]).toBeCloseTo(logs[c] - mean, 9);
    }
    for (const v of model.weights) expect(v).toBe(0);
  });

  it("solves the symmetric one-feature binary problem exactly", () => {
    // x = +1 (class 1) and x = −1 (class 0), no intercept: by symmetry
    // W = (−u/2, u/2) and u solves σ(−u) = λ u / 2, found by bisection
    const l2 = 0.37;
    let lo = 0;
    let hi = 100;
    for (let it = 0; it < 200; it++) {
      const mid = 0.5 * (lo + hi);
      if (1 / (1 + Math.exp(mid)) > (l2 * mid) / 2) lo = mid;
      else hi = mid;
    }
    const u = 0.5 * (lo + hi);
    const model = logisticRegression([1, -1], 2, 1, [1, 0], {
      l2,
      fitIntercept: false,
      tolerance: 1e-13,
    });
    expect(model.weights[1]).toBeCloseTo(u / 2, 11);
    expect(model.weights[0]).toBeCloseTo(-u / 2, 11);
    expect(Array.from(model.bias)).toEqual([0, 0]);
  });

  it("separates separable classes with a small penalty", () => {
    const n = 200;
    const d = 6;
    const r = mulberry32(5);
    const x = new Float64Array(n * d);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 4;
      for (let a = 0; a < d; a++) x[i * d + a] = 0.3 * randomNormal(r);
      x[i * d + y[i]] += 3;
    }
    const model = logisticRegression(x, n, d, y, { l2: 1e-6 });
    const predictions = logisticPredict(model, x, n);
    expect(Array.from(predictions)).toEqual(Array.from(y));
  });

  it("predicts the majority class under a huge penalty", () => {
    const n = 90;
    const d = 4;
    const { x } = blobs(6, n, d, 3);
    // class 2 is the majority (40 of 90)
    const y = Int32Array.from({ length: n }, (_, i) =>
      i < 25 ? 0 : i < 50 ? 1 : 2,
    );
    const model = logisticRegression(x, n, d, y, { l2: 1e8 });
    expect(model.converged).toBe(true);
    const predictions = logisticPredict(model, x, n);
    for (const p of predictions) expect(p).toBe(2);
  });

  it("is deterministic, and C = 1/(N·λ) is the same problem", () => {
    const n = 150;
    const d = 8;
    const { x, y } = blobs(7, n, d, 3);
    const a = logisticRegression(x, n, d, y, { l2: 1e-3 });
    const b = logisticRegression(x, n, d, y, { l2: 1e-3 });
    expect(b.weights).toEqual(a.weights);
    expect(b.bias).toEqual(a.bias);
    expect(b.iterations).toBe(a.iterations);
    const c = logisticRegression(x, n, d, y, {
      C: 1 / (n * 1e-3),
      tolerance: 1e-10,
    });
    expect(c.l2).toBeCloseTo(1e-3, 15);
    expect(maxRelativeError(c.weights, a.weights)).toBeLessThan(1e-4);
  });

  it("class weight 2 equals duplicating that class", () => {
    // doubling class 0's samples turns (1/N) Σ into (1/(N + N₀)) Σ with
    // the class-0 terms twice: the same problem with λ' = λ N / (N + N₀)
    const n = 60;
    const d = 3;
    const { x, y } = blobs(8, n, d, 3);
    const l2 = 0.05;
    const weighted = logisticRegression(x, n, d, y, {
      l2,
      classWeights: [2, 1, 1],
      tolerance: 1e-11,
    });
    const xs: number[] = Array.from(x);
    const ys: number[] = Array.from(y);
    for (let i = 0; i < n; i++) {
      if (y[i] === 0) {
        xs.push(...x.subarray(i * d, (i + 1) * d));
        ys.push(0);
      }
    }
    const m = ys.length;
    const duplicated = logisticRegression(xs, m, d, ys, {
      l2: (l2 * n) / m,
      tolerance: 1e-11,
    });
    expect(maxRelativeError(weighted.weights, duplicated.weights)).toBeLessThan(
      1e-8,
    );
  });

  it("warm starts from a given point to the same minimizer", () => {
    const n = 100;
    const d = 5;
    const { x, y } = blobs(9, n, d, 3);
    const cold = logisticRegression(x, n, d, y, { l2: 1e-2, tolerance: 1e-10 });
    const start = logisticRegression(x, n, d, y, { l2: 1e-1 });
    const warm = logisticRegression(x, n, d, y, {
      l2: 1e-2,
      tolerance: 1e-10,
      initial: start,
    });
    expect(maxRelativeError(warm.weights, cold.weights)).toBeLessThan(1e-7);
  });

  it("raises typed errors naming the argument", () => {
    const x = new Float64Array(12);
    const y = [0, 1, 2, 1];
    const shape = (f: () => unknown, word: string) => {
      expect(f).toThrow(ShapeError);
      expect(f).toThrow(word);
    };
    shape(() => logisticRegression(x, 4, 4, y), "features");
    shape(() => logisticRegression(x, 4, 3, [0, 1]), "labels");
    shape(
      () =>
        logisticRegression(x, 4, 3, y, {
          initial: { weights: [0], bias: [0, 0, 0] },
        }),
      "initial.weights",
    );
    const config = (f: () => unknown) => expect(f).toThrow(ConfigError);
    config(() => logisticRegression(x, 4, 3, y, { l2: -1 }));
    config(() => logisticRegression(x, 4, 3, y, { l2: 1, C: 1 }));
    config(() => logisticRegression(x, 4, 3, y, { C: 0 }));
    config(() => logisticRegression(x, 4, 3, [0, 1, 3, 1], { numClasses: 3 }));
    config(() => logisticRegression(x, 4, 3, [0, -1, 2, 1]));
    config(() => logisticRegression(x, 4, 3, [0, 0.5, 2, 1]));
    config(() => logisticRegression(x, 4, 3, y, { classWeights: [1, 1] }));
    config(() => logisticRegression(x, 4, 3, y, { classWeights: [1, 0, 1] }));
    config(() => logisticRegression(x, 4, 3, y, { maxIterations: -1 }));
    const bad = new Float64Array(12);
    bad[5] = Number.NaN;
    expect(() => logisticRegression(bad, 4, 3, y)).toThrow(NumericalError);
  });
});
