/**
 * Encoders and heads against float64 references written here: the MLP
 * (Linear, BatchNorm with batch statistics, ReLU) and the CNN (direct
 * 3 × 3 stride-2 convolution with TF.js's "same" padding) forward passes
 * (1e-5 relative); the CNN's custom gradient (input, kernels, biases)
 * and ℓ2 normalization's gradient against central differences of the
 * float64 references (1e-4 relative); stop-gradient, BYOL's momentum
 * schedule and EMA update, and the network's view-major stacking.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import {
  CNNEncoder,
  GNNEncoder,
  MLPEncoder,
} from "../../src/contrastive/encoders.js";
import {
  byolMomentum,
  ContrastiveNetwork,
  ExponentialMovingAverage,
  l2Normalize,
  predictionHead,
  projectionHead,
  stopGradient,
} from "../../src/contrastive/heads.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import type { ForwardContext } from "../../src/nn/module.js";
import { mulberry32, randomNormal } from "../../src/random.js";
import { centralDifference } from "../helpers/dense.js";

function context(n: number, training = true): ForwardContext {
  return {
    graph: Graph.fromEdges([], [], { numNodes: n }),
    training,
    random: mulberry32(0),
  };
}

function normals(seed: number, size: number): Float64Array {
  const r = mulberry32(seed);
  return Float64Array.from({ length: size }, () => randomNormal(r));
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

const values = (v: tf.Variable) => Float64Array.from(v.dataSync());

// ---------------------------------------------------------------------------
// MLP
// ---------------------------------------------------------------------------

/** x W for row-major x [n, a] and W [a, b], float64. */
function matmul64(
  x: Float64Array,
  w: Float64Array,
  n: number,
  a: number,
  b: number,
) {
  const out = new Float64Array(n * b);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < a; t++) {
      for (let j = 0; j < b; j++) out[i * b + j] += x[i * a + t] * w[t * b + j];
    }
  }
  return out;
}

/** Batch norm with batch statistics, then γ, β (float64). */
function bn64(
  x: Float64Array,
  n: number,
  d: number,
  g: Float64Array | null,
  b: Float64Array | null,
) {
  const out = new Float64Array(n * d);
  for (let c = 0; c < d; c++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i * d + c] / n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (x[i * d + c] - mean) ** 2 / n;
    for (let i = 0; i < n; i++) {
      const z = (x[i * d + c] - mean) / Math.sqrt(variance + 1e-5);
      out[i * d + c] = (g === null ? 1 : g[c]) * z + (b === null ? 0 : b[c]);
    }
  }
  return out;
}

describe("MLPEncoder", () => {
  it("is Linear → BatchNorm → ReLU per layer (float64 reference)", () => {
    const n = 7;
    const enc = new MLPEncoder({ dims: [5, 6, 4], seed: 3 });
    expect(enc.parameters().map((p) => p.name)).toEqual([
      "layers.0.weight",
      "norms.0.weight",
      "norms.0.bias",
      "layers.1.weight",
      "norms.1.weight",
      "norms.1.bias",
    ]);
    // non-trivial γ, β
    enc.norms[0]?.weight?.assign(tf.tensor1d([1, 2, 0.5, 1, 1.5, 0.7]));
    enc.norms[1]?.bias?.assign(tf.tensor1d([0.1, -0.2, 0.3, 0]));
    const x64 = normals(1, n * 5);
    const x = tf.tensor2d(Float32Array.from(x64), [n, 5]);
    const y = enc.apply(x, context(n));

    let h = Float64Array.from(x.dataSync());
    const widths = [5, 6, 4];
    for (let l = 0; l < 2; l++) {
      const z = matmul64(
        h,
        values(enc.linears[l].weight),
        n,
        widths[l],
        widths[l + 1],
      );
      const norm = enc.norms[l];
      const bn = bn64(
        z,
        n,
        widths[l + 1],
        values(norm?.weight as tf.Variable),
        values(norm?.bias as tf.Variable),
      );
      h = bn.map((v) => Math.max(v, 0));
    }
    expect(relativeError(y.dataSync(), h)).toBeLessThan(1e-5);
    expect(enc.buffers().map((b) => b.name)).toEqual([
      "norms.0.running_mean",
      "norms.0.running_var",
      "norms.1.running_mean",
      "norms.1.running_var",
    ]);
    tf.dispose([x, y]);
    enc.dispose();
  });

  it("projector: linear last layer with a plain BatchNorm; predictor", () => {
    const proj = projectionHead({
      inputDim: 6,
      hiddenDim: 5,
      outputDim: 3,
      layers: 3,
      lastNorm: "plain",
      seed: 1,
    });
    expect(proj.dims).toEqual([6, 5, 5, 3]);
    expect(proj.linears[2].bias).toBeNull();
    expect(proj.norms[2]?.weight).toBeNull();
    const n = 6;
    const x = tf.tensor2d(Float32Array.from(normals(2, n * 6)), [n, 6]);
    const y = proj.apply(x, context(n));

    // the plain last BatchNorm: every column mean 0, biased variance ≈ 1
    const v = y.dataSync();
    for (let c = 0; c < 3; c++) {
      let mean = 0;
      let sq = 0;
      for (let i = 0; i < n; i++) mean += v[i * 3 + c] / n;
      for (let i = 0; i < n; i++) sq += (v[i * 3 + c] - mean) ** 2 / n;
      expect(Math.abs(mean)).toBeLessThan(1e-6);
      // biased variance σ²/(σ² + ε) of a unit-free column: just below 1
      expect(sq).toBeLessThan(1);
      expect(sq).toBeGreaterThan(0.99);
      // some entries negative: no ReLU after the last layer
    }
    expect(Array.from(v).some((e) => e < 0)).toBe(true);
    const pred = predictionHead({ inputDim: 8 });
    expect(pred.dims).toEqual([8, 2, 8]);
    expect(pred.linears[1].bias).not.toBeNull();
    tf.dispose([x, y]);
    proj.dispose();
    pred.dispose();
  });

  it("rejects bad arguments with ConfigError", () => {
    expect(() => new MLPEncoder({ dims: [4] })).toThrow(ConfigError);
    expect(() => new MLPEncoder({ dims: [4, 0] })).toThrow(ConfigError);
    expect(() => new MLPEncoder({ dims: [4, 3], lastNorm: "plain" })).toThrow(
      ConfigError,
    );
    expect(() => projectionHead({ inputDim: 4, layers: 0 })).toThrow(
      ConfigError,
    );
  });
});

// ---------------------------------------------------------------------------
// CNN
// ---------------------------------------------------------------------------

/**
 * Float64 3 × 3 stride-2 convolution with "same" padding (TF.js: total
 * padding max(2(out − 1) + 3 − in, 0), the smaller half first), plus bias.
 */
function conv64(
  x: Float64Array,
  n: number,
  h: number,
  w: number,
  c: number,
  k: Float64Array,
  bias: Float64Array,
  o: number,
): { y: Float64Array; ho: number; wo: number } {
  const ho = Math.ceil(h / 2);
  const wo = Math.ceil(w / 2);
  const top = Math.floor(Math.max(2 * (ho - 1) + 3 - h, 0) / 2);
  const left = Math.floor(Math.max(2 * (wo - 1) + 3 - w, 0) / 2);
  const y = new Float64Array(n * ho * wo * o);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        for (let q = 0; q < o; q++) {
          let s = bias[q];
          for (let a = 0; a < 3; a++) {
            for (let e = 0; e < 3; e++) {
              const r = 2 * i + a - top;
              const t = 2 * j + e - left;
              if (r < 0 || r >= h || t < 0 || t >= w) continue;
              for (let ch = 0; ch < c; ch++) {
                s +=
                  x[((b * h + r) * w + t) * c + ch] *
                  k[((a * 3 + e) * c + ch) * o + q];
              }
            }
          }
          y[((b * ho + i) * wo + j) * o + q] = s;
        }
      }
    }
  }
  return { y, ho, wo };
}

describe("CNNEncoder", () => {
  const n = 2;
  const height = 6;
  const width = 5;
  const channels = 2;
  const filters = [3, 4];

  /** The CNN in float64 from given parameters: flat list in order. */
  function cnn64(
    x: Float64Array,
    params: Float64Array[],
    outputDim: number,
  ): Float64Array {
    let h = x;
    let hh = height;
    let ww = width;
    let c = channels;
    for (let l = 0; l < filters.length; l++) {
      const r = conv64(
        h,
        n,
        hh,
        ww,
        c,
        params[2 * l],
        params[2 * l + 1],
        filters[l],
      );
      h = r.y.map((v) => Math.max(v, 0));
      hh = r.ho;
      ww = r.wo;
      c = filters[l];
    }
    const flatDim = hh * ww * c;
    const z = matmul64(h, params[4], n, flatDim, outputDim);
    const bias = params[5];
    return z.map((v, i) => Math.max(v + bias[i % outputDim], 0));
  }

  it("forward and gradients match the float64 CNN", () => {
    const enc = new CNNEncoder({
      height,
      width,
      channels,
      filters,
      outputDim: 3,
      seed: 2,
    });
    expect(enc.parameters().map((p) => p.name)).toEqual([
      "convs.0.weight",
      "convs.0.bias",
      "convs.1.weight",
      "convs.1.bias",
      "linear.weight",
      "linear.bias",
    ]);
    const size = height * width * channels;
    const x = tf.tensor2d(Float32Array.from(normals(3, n * size)), [n, size]);
    const x64 = Float64Array.from(x.dataSync());
    const params = enc.parameters().map((p) => values(p.variable));
    const y = enc.apply(x, context(n));
    const ref = cnn64(x64, params, 3);
    expect(relativeError(y.dataSync(), ref)).toBeLessThan(1e-5);

    // gradients of Σ y ⊙ R in x and in every parameter
    const proj = normals(4, n * 3);
    const projT = tf.tensor2d(Float32Array.from(proj), [n, 3]);
    const loss = (input: tf.Tensor2D) =>
      tf.sum(tf.mul(enc.apply(input, context(n)), projT)) as tf.Scalar;
    const dx = tf.grad((v: tf.Tensor) => loss(v as tf.Tensor2D))(x);
    const vars = enc.parameters().map((p) => p.variable);
    const { grads } = tf.variableGrads(() => loss(x), vars);
    const loss64 = (xs: Float64Array, ps: Float64Array[]) => {
      const out = cnn64(xs, ps, 3);
      let s = 0;
      for (let i = 0; i < out.length; i++) s += out[i] * proj[i];
      return s;
    };
    const fdX = centralDifference((v) => loss64(v, params), x64);
    expect(relativeError(dx.dataSync(), fdX)).toBeLessThan(1e-4);
    params.forEach((p, i) => {
      const fd = centralDifference((v) => {
        const ps = params.slice();
        ps[i] = Float64Array.from(v);
        return loss64(x64, ps);
      }, p);
      const g = grads[vars[i].name].dataSync();
      expect(relativeError(g, fd)).toBeLessThan(1e-4);
    });
    tf.dispose([x, y, projT, dx, ...Object.values(grads)]);
    enc.dispose();
  });

  it("checks its input width", () => {
    const enc = new CNNEncoder({ height: 4, width: 4, filters: [2] });
    const wrong = tf.zeros([2, 15]) as tf.Tensor2D;
    expect(() => enc.apply(wrong, context(2))).toThrow(ShapeError);
    expect(() => new CNNEncoder({ height: 0, width: 4 })).toThrow(ConfigError);
    wrong.dispose();
    enc.dispose();
  });
});

// ---------------------------------------------------------------------------
// GNN wrapper
// ---------------------------------------------------------------------------

describe("GNNEncoder", () => {
  it("returns act(logits) over the context's graph and owns the model", () => {
    const calls: Graph[] = [];
    let disposed = false;
    const weight = tf.variable(tf.tensor2d([[1, -2]]));
    const model = {
      forward(x: unknown, graph: Graph) {
        calls.push(graph);
        const logits = tf.matMul(x as tf.Tensor2D, weight) as tf.Tensor2D;
        return { logits, hidden: [tf.zeros([1, 1]) as tf.Tensor2D] };
      },
      parameters: () => [{ name: "w", variable: weight }],
      dispose: () => {
        disposed = true;
      },
    };
    const enc = new GNNEncoder(model, { activation: "relu" });
    const ctx = context(3);
    const x = tf.tensor2d([[1], [-1], [2]]);
    const before = tf.memory().numTensors;
    const y = enc.apply(x, ctx);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(Array.from(y.dataSync())).toEqual([1, 0, 0, 2, 2, 0]);
    expect(calls[0]).toBe(ctx.graph);
    expect(enc.parameters().map((p) => p.name)).toEqual(["w"]);
    enc.dispose();
    expect(disposed).toBe(true);
    expect(() => new GNNEncoder({} as never)).toThrow(ConfigError);
    tf.dispose([x, y, weight]);
  });
});

// ---------------------------------------------------------------------------
// heads
// ---------------------------------------------------------------------------

describe("heads", () => {
  it("l2Normalize: unit rows, gradient of the float64 map, zero rows", () => {
    const x64 = normals(5, 4 * 3);
    const x = tf.tensor2d(Float32Array.from(x64), [4, 3]);
    const xv = Float64Array.from(x.dataSync());
    const y = l2Normalize(x);
    const yv = y.dataSync();
    for (let i = 0; i < 4; i++) {
      const norm = Math.hypot(xv[3 * i], xv[3 * i + 1], xv[3 * i + 2]);
      for (let c = 0; c < 3; c++) {
        expect(Math.abs(yv[3 * i + c] - xv[3 * i + c] / norm)).toBeLessThan(
          1e-6,
        );
      }
    }
    const proj = normals(6, 12);
    const projT = tf.tensor2d(Float32Array.from(proj), [4, 3]);
    const g = tf.grad((v: tf.Tensor) =>
      tf.sum(tf.mul(l2Normalize(v as tf.Tensor2D), projT)),
    )(x);
    const fd = centralDifference((v) => {
      let s = 0;
      for (let i = 0; i < 4; i++) {
        const norm = Math.hypot(v[3 * i], v[3 * i + 1], v[3 * i + 2]);
        for (let c = 0; c < 3; c++)
          s += (v[3 * i + c] / norm) * proj[3 * i + c];
      }
      return s;
    }, xv);
    expect(relativeError(g.dataSync(), fd)).toBeLessThan(1e-4);

    const zero = tf.zeros([1, 3]) as tf.Tensor2D;
    const gz = tf.grad((v: tf.Tensor) => tf.sum(l2Normalize(v as tf.Tensor2D)))(
      zero,
    );
    expect(Array.from(l2Normalize(zero).dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(gz.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([x, y, projT, g, zero, gz]);
  });

  it("stopGradient: same value, zero gradient", () => {
    const x = tf.tensor2d([[1, 2]]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(stopGradient(v), v)))(x);
    // d/dx Σ sg(x) x = sg(x) = x
    expect(Array.from(g.dataSync())).toEqual([1, 2]);
    tf.dispose([x, g]);
  });

  it("byolMomentum runs from τ_base to 1 on a cosine", () => {
    expect(byolMomentum(0.996, 0, 100)).toBeCloseTo(0.996, 12);
    expect(byolMomentum(0.996, 100, 100)).toBeCloseTo(1, 12);
    expect(byolMomentum(0.99, 50, 100)).toBeCloseTo(0.995, 12);
    expect(() => byolMomentum(1.5, 0, 10)).toThrow(ConfigError);
    expect(() => byolMomentum(0.9, 11, 10)).toThrow(ConfigError);
  });

  it("ExponentialMovingAverage: ξ ← τ ξ + (1 − τ) θ by name", () => {
    const theta = tf.variable(tf.tensor1d([1, 2, 3]));
    const xi = tf.variable(tf.tensor1d([0, 0, 0]));
    const ema = new ExponentialMovingAverage(
      [{ name: "w", variable: xi }],
      [{ name: "w", variable: theta }],
      0.9,
    );
    ema.update();
    expect(relativeError(xi.dataSync(), [0.1, 0.2, 0.3])).toBeLessThan(1e-7);
    theta.assign(tf.tensor1d([2, 2, 2]));
    ema.update(0.5);
    expect(relativeError(xi.dataSync(), [1.05, 1.1, 1.15])).toBeLessThan(1e-7);
    ema.copy();
    expect(Array.from(xi.dataSync())).toEqual([2, 2, 2]);
    const other = tf.variable(tf.zeros([2]));
    expect(
      () =>
        new ExponentialMovingAverage(
          [{ name: "w", variable: other }],
          [{ name: "w", variable: theta }],
        ),
    ).toThrow(ShapeError);
    expect(
      () =>
        new ExponentialMovingAverage(
          [{ name: "v", variable: xi }],
          [{ name: "w", variable: theta }],
        ),
    ).toThrow(ShapeError);
    expect(() => ema.update(2)).toThrow(ConfigError);
    tf.dispose([theta, xi, other]);
  });
});

describe("ContrastiveNetwork", () => {
  const b = 5;
  const d = 4;
  const makeViews = () =>
    [7, 8].map((seed) => ({
      x: tf.tensor2d(Float32Array.from(normals(seed, b * d)), [b, d]),
    }));

  it("stacks views view-major, each view its own BatchNorm batch", () => {
    const network = new ContrastiveNetwork({
      encoder: new MLPEncoder({ dims: [d, 6], seed: 1 }),
      projector: projectionHead({ inputDim: 6, outputDim: 3, seed: 2 }),
      targets: "self",
    });
    const views = makeViews();
    const opts = { training: true, random: mulberry32(0) };
    const both = network.forward(views, opts);
    expect(both.features.shape).toEqual([2 * b, 3]);
    expect(both.hidden.shape).toEqual([2 * b, 6]);
    for (let v = 0; v < 2; v++) {
      const one = network.forward([views[v]], opts);
      const rows = tf.slice(both.features, [v * b, 0], [b, 3]);
      expect(
        relativeError(rows.dataSync(), one.features.dataSync()),
      ).toBeLessThan(1e-6);
      tf.dispose([
        rows,
        one.features,
        one.hidden,
        one.projections,
        one.targets as tf.Tensor,
      ]);
    }
    // "self" targets: the normalized projections (no predictor: = F)
    const t = both.targets as tf.Tensor2D;
    expect(relativeError(t.dataSync(), both.features.dataSync())).toBeLessThan(
      1e-7,
    );
    expect(() => network.forward([], opts)).toThrow(ShapeError);
    const odd = { x: tf.zeros([b + 1, d]) as tf.Tensor2D };
    expect(() => network.forward([views[0], odd], opts)).toThrow(ShapeError);
    expect(() => network.targetForward(views, opts)).toThrow(ConfigError);
    tf.dispose([both.features, both.hidden, both.projections, t, odd.x]);
    for (const v of views) v.x.dispose();
    network.dispose();
  });

  it("EMA targets start as the online branch and are not parameters", () => {
    const network = new ContrastiveNetwork({
      encoder: new MLPEncoder({ dims: [d, 6], seed: 1 }),
      projector: projectionHead({ inputDim: 6, outputDim: 3, seed: 2 }),
      predictor: predictionHead({ inputDim: 3, hiddenDim: 2, seed: 3 }),
      targets: "ema",
      targetEncoder: new MLPEncoder({ dims: [d, 6], seed: 10 }),
      targetProjector: projectionHead({ inputDim: 6, outputDim: 3, seed: 11 }),
    });
    const names = network.parameters().map((p) => p.name);
    // predictor: Linear (no bias before BN), BN γ β, Linear with bias
    expect(names.filter((n) => n.startsWith("predictor.")).length).toBe(5);
    expect(names.length).toBe(3 + 5 + 5);
    const views = makeViews();
    const opts = { training: true, random: mulberry32(0) };
    const out = network.forward(views, opts);
    const target = network.targetForward(views, opts);
    const z = l2Normalize(out.projections);
    expect(relativeError(target.dataSync(), z.dataSync())).toBeLessThan(1e-6);
    expect(
      () =>
        new ContrastiveNetwork({
          encoder: new MLPEncoder({ dims: [d, 6] }),
          targets: "ema",
        }),
    ).toThrow(ConfigError);
    tf.dispose([out.features, out.hidden, out.projections, target, z]);
    for (const v of views) v.x.dispose();
    network.dispose();
  });
});
