/**
 * The closed-form linear probe against independent references: the
 * least-squares fit of a two-class problem written out by hand (the
 * normal equations of a line in one feature), the stationarity of the
 * ridge objective at the returned weights, and accuracies that are known
 * exactly (separable classes, a single collapsed point).
 */

import { describe, expect, it } from "vitest";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { linearProbe } from "../../src/eval/probe.js";
import { mulberry32, randomNormal } from "../../src/random.js";

describe("linearProbe", () => {
  it("matches the hand-solved least-squares line in one feature", () => {
    // one feature x, one-hot targets: for class c the fit is the line
    // y = w x + b with w = cov(x, y) / var(x), b = ȳ − w x̄
    const x = [-2, -1, 0.5, 1, 3, -0.5];
    const labels = [0, 0, 1, 1, 1, 0];
    const probe = linearProbe(x, 6, 1, labels, { ridge: 0 });
    const mean = (v: number[]) => v.reduce((s, t) => s + t, 0) / v.length;
    const mx = mean(x);
    for (let c = 0; c < 2; c++) {
      const y = labels.map((l) => (l === c ? 1 : 0));
      const my = mean(y);
      let cov = 0;
      let vx = 0;
      for (let i = 0; i < 6; i++) {
        cov += (x[i] - mx) * (y[i] - my);
        vx += (x[i] - mx) ** 2;
      }
      const w = cov / vx;
      expect(probe.weights[c]).toBeCloseTo(w, 12);
      expect(probe.weights[2 + c]).toBeCloseTo(my - w * mx, 12);
    }
    expect(probe.accuracy).toBe(1);
  });

  it("returns a stationary point of the ridge objective", () => {
    // gradient X̃ᵀ(X̃W − Y) + λ I' W = 0, computed directly
    const r = mulberry32(3);
    const n = 50;
    const k = 3;
    const f = Float64Array.from({ length: n * k }, () => randomNormal(r));
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const ridge = 0.7;
    const { weights, numClasses } = linearProbe(f, n, k, labels, { ridge });
    expect(numClasses).toBe(3);
    for (let a = 0; a <= k; a++) {
      for (let c = 0; c < 3; c++) {
        let grad = a < k ? ridge * weights[a * 3 + c] : 0;
        for (let i = 0; i < n; i++) {
          let s = weights[k * 3 + c];
          for (let j = 0; j < k; j++) s += f[i * k + j] * weights[j * 3 + c];
          const xa = a < k ? f[i * k + a] : 1;
          grad += xa * (s - (labels[i] === c ? 1 : 0));
        }
        expect(Math.abs(grad)).toBeLessThan(1e-10);
      }
    }
  });

  it("scores separable classes 1, collapsed ones at the majority", () => {
    const r = mulberry32(5);
    const n = 40;
    const f = new Float64Array(n * 2);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i < 30 ? 0 : 1;
      f[2 * i] = (labels[i] === 0 ? -3 : 3) + 0.3 * randomNormal(r);
      f[2 * i + 1] = randomNormal(r);
    }
    expect(linearProbe(f, n, 2, labels).accuracy).toBe(1);

    // every sample at one point: the probe predicts the majority class
    const collapsed = new Float64Array(n * 2).fill(0.25);
    const probe = linearProbe(collapsed, n, 2, labels);
    expect(probe.accuracy).toBeCloseTo(30 / 40, 12);
  });

  it("rejects bad shapes and labels", () => {
    expect(() => linearProbe([1, 2, 3], 2, 2, [0, 1])).toThrow(ShapeError);
    expect(() => linearProbe([1, 2], 2, 1, [0])).toThrow(ShapeError);
    expect(() => linearProbe([1, 2], 2, 1, [0, -1])).toThrow(ConfigError);
    expect(() => linearProbe([1, 2], 2, 1, [0, 1], { ridge: -1 })).toThrow(
      ConfigError,
    );
  });
});
