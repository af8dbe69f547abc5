/**
 * The contrastive losses against float64 references: the two forms of the
 * spectral loss agree (relative 1e-6 in float64, the theory check
 * 1), the float32 tensor losses match the float64 sums, and their autodiff
 * gradients match central finite differences of the float64 losses.
 *
 * Tolerances: the float64 forms agree to about 1e-13 (rounding of N² sums);
 * the float32 losses match to 1e-5 relative; the gradients satisfy
 * ‖g − g_fd‖ ≤ 1e-4 ‖g_fd‖ (float32 rounding is ~1e-6 of the scale, the
 * float64 differences with step 1e-6 ~1e-9; a wrong factor is off by O(1)).
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import {
  infoNCELoss,
  spectralContrastiveLoss,
  spectralLossDense64,
  spectralLossFeatureSpace,
} from "../../src/contrastive/losses.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { gaussian, seededRandom } from "../spectral/helpers.js";

/**
 * A random symmetric weighted graph on n nodes: a self-loop on every node
 * and about `3n` undirected edges, weights multiples of 1/8 in (0, 4],
 * more likely inside three blocks (a small SBM).
 */
function randomAugmentationGraph(seed: number, n: number): Graph {
  const rand = seededRandom(seed);
  const src: number[] = [];
  const dst: number[] = [];
  const w: number[] = [];
  const add = (i: number, j: number, weight: number) => {
    src.push(i);
    dst.push(j);
    w.push(weight);
    if (i !== j) {
      src.push(j);
      dst.push(i);
      w.push(weight);
    }
  };
  for (let i = 0; i < n; i++) add(i, i, 1);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const p = i % 3 === j % 3 ? 0.3 : 0.03;
      if (rand() < p) add(i, j, (1 + Math.floor(rand() * 32)) / 8);
    }
  }
  return Graph.fromEdges(src, dst, { numNodes: n, weights: w });
}

/** Dense float64 A of a graph (duplicates summed). */
function denseA(g: Graph): Float64Array {
  const n = g.numNodes;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let e = g.rowPtr[i]; e < g.rowPtr[i + 1]; e++) {
      a[i * n + g.colIdx[e]] += g.weight(e);
    }
  }
  return a;
}

/** Float64 InfoNCE: −Σ A s/τ + Σ_x D_x log Σ_x' D_x' exp(s/τ). */
function infoNCE64(
  a: Float64Array,
  f: ArrayLike<number>,
  n: number,
  k: number,
  tau: number,
): number {
  const deg = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) deg[i] += a[i * n + j];
  }
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const s = new Float64Array(n);
    let max = -Infinity;
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let c = 0; c < k; c++) v += f[i * k + c] * f[j * k + c];
      s[j] = v / tau;
      loss -= a[i * n + j] * s[j];
      max = Math.max(max, s[j]);
    }
    let z = 0;
    for (let j = 0; j < n; j++) z += deg[j] * Math.exp(s[j] - max);
    loss += deg[i] * (max + Math.log(z));
  }
  return loss;
}

/** Central differences of a float64 function at x, step h. */
function numericGradient(
  fn: (x: Float64Array) => number,
  x: Float64Array,
  h = 1e-6,
): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + h;
    const up = fn(x);
    x[i] = keep - h;
    const down = fn(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** ‖a − b‖ / ‖b‖. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** Random features rounded to float32, as a float64 array. */
function randomFeatures(seed: number, n: number, k: number, scale: number) {
  const g = gaussian(seededRandom(seed));
  return Float64Array.from(
    Float32Array.from({ length: n * k }, () => scale * g()),
  );
}

/** The autodiff gradient of `loss` at x, and its value. */
function tensorGradient(
  loss: (x: tf.Tensor2D) => tf.Scalar,
  x: Float64Array,
  n: number,
  k: number,
): { value: number; grad: Float32Array } {
  return tf.tidy(() => {
    const t = tf.tensor2d(Float32Array.from(x), [n, k]);
    const { value, grad } = tf.valueAndGrad(loss)(t);
    return {
      value: value.dataSync()[0],
      grad: grad.dataSync() as Float32Array,
    };
  });
}

const CASES = [
  { seed: 1, n: 30, k: 4 },
  { seed: 2, n: 45, k: 6 },
  { seed: 3, n: 60, k: 8 },
];

describe("spectral contrastive loss", () => {
  it.each(CASES)(
    "sample and feature-space forms agree in float64 ($n × $k)",
    ({ seed, n, k }) => {
      const g = randomAugmentationGraph(seed, n);
      const f = randomFeatures(seed + 100, n, k, 0.5);
      const { sampleSpace, featureSpace } = spectralLossDense64(g, f, k);
      const rel = Math.abs(sampleSpace - featureSpace) / Math.abs(featureSpace);
      expect(rel).toBeLessThan(1e-6);
      expect(Math.abs(featureSpace)).toBeGreaterThan(1);
    },
  );

  it("the forms agree for an un-normalized A and its scaled copy", () => {
    const g = randomAugmentationGraph(7, 30);
    const w = Float32Array.from(
      { length: g.numEdges },
      (_, e) => g.weight(e) / 64,
    );
    const scaled = g.withWeights(w);
    const f = randomFeatures(8, 30, 4, 0.5);
    const a = spectralLossDense64(g, f, 4);
    const b = spectralLossDense64(scaled, f, 4);
    expect(Math.abs(a.sampleSpace - a.featureSpace)).toBeLessThan(
      1e-9 * Math.abs(a.featureSpace),
    );
    expect(Math.abs(b.sampleSpace - b.featureSpace)).toBeLessThan(
      1e-9 * Math.abs(b.featureSpace),
    );
  });

  it.each(CASES)(
    "tensor losses and gradients vs float64 and finite differences ($n × $k)",
    ({ seed, n, k }) => {
      const g = randomAugmentationGraph(seed, n);
      const deg = g.inDegrees();
      const f = randomFeatures(seed + 200, n, k, 0.3);

      // sample space, in f
      const sample = (x: Float64Array) =>
        spectralLossDense64(g, x, k).sampleSpace;
      const s = tensorGradient((x) => spectralContrastiveLoss(g, x), f, n, k);
      expect(Math.abs(s.value - sample(f))).toBeLessThan(
        1e-5 * Math.abs(sample(f)),
      );
      expect(relativeError(s.grad, numericGradient(sample, f))).toBeLessThan(
        1e-4,
      );

      // feature space, in F = D^1/2 F_f
      const bigF = Float64Array.from(
        Float32Array.from(f, (v, i) => v * Math.sqrt(deg[Math.floor(i / k)])),
      );
      const feature = (x: Float64Array) => {
        const ff = x.map((v, i) => v / Math.sqrt(deg[Math.floor(i / k)]));
        return spectralLossDense64(g, ff, k).featureSpace;
      };
      const t = tensorGradient(
        (x) => spectralLossFeatureSpace(g, x),
        bigF,
        n,
        k,
      );
      expect(Math.abs(t.value - feature(bigF))).toBeLessThan(
        1e-5 * Math.abs(feature(bigF)),
      );
      expect(
        relativeError(t.grad, numericGradient(feature, bigF)),
      ).toBeLessThan(1e-4);
    },
  );

  it("raises ShapeError for features of the wrong shape", () => {
    const g = randomAugmentationGraph(1, 10);
    const f = tf.zeros([9, 3]) as tf.Tensor2D;
    expect(() => spectralContrastiveLoss(g, f)).toThrow(ShapeError);
    expect(() => spectralLossFeatureSpace(g, f)).toThrow(ShapeError);
    expect(() => infoNCELoss(g, f)).toThrow(ShapeError);
    expect(() => spectralLossDense64(g, new Float64Array(29), 3)).toThrow(
      ShapeError,
    );
    f.dispose();
  });
});

describe("InfoNCE", () => {
  it.each([
    { seed: 4, n: 30, k: 4, tau: 1 },
    { seed: 5, n: 50, k: 6, tau: 0.5 },
  ])(
    "matches float64 and finite differences ($n × $k, τ = $tau)",
    ({ seed, n, k, tau }) => {
      const g = randomAugmentationGraph(seed, n);
      const a = denseA(g);
      const f = randomFeatures(seed + 300, n, k, 0.5);
      const ref = (x: Float64Array) => infoNCE64(a, x, n, k, tau);
      const { value, grad } = tensorGradient(
        (x) => infoNCELoss(g, x, { temperature: tau }),
        f,
        n,
        k,
      );
      expect(Math.abs(value - ref(f))).toBeLessThan(1e-5 * Math.abs(ref(f)));
      expect(relativeError(grad, numericGradient(ref, f))).toBeLessThan(1e-4);
    },
  );

  it("the temperature equals scaling the features by 1/√τ", () => {
    const g = randomAugmentationGraph(6, 20);
    const f = randomFeatures(9, 20, 3, 1);
    const tau = 0.25;
    const scaled = f.map((v) => v / Math.sqrt(tau));
    const a = tf.tidy(
      () =>
        infoNCELoss(g, tf.tensor2d(Float32Array.from(f), [20, 3]), {
          temperature: tau,
        }).dataSync()[0],
    );
    const b = tf.tidy(
      () =>
        infoNCELoss(
          g,
          tf.tensor2d(Float32Array.from(scaled), [20, 3]),
        ).dataSync()[0],
    );
    expect(Math.abs(a - b)).toBeLessThan(1e-5 * Math.abs(b));
  });

  it("raises ConfigError for a bad temperature or a node of degree 0", () => {
    const g = randomAugmentationGraph(1, 10);
    const f = tf.zeros([10, 3]) as tf.Tensor2D;
    expect(() => infoNCELoss(g, f, { temperature: 0 })).toThrow(ConfigError);
    const lonely = Graph.fromEdges([0, 1], [1, 0], { numNodes: 10 });
    expect(() => infoNCELoss(lonely, f)).toThrow(ConfigError);
    f.dispose();
  });
});
