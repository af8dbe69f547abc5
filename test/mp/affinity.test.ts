// Affinity graphs: blockwise weights and propagation against dense float64
// references, gradients against central finite differences, independence
// from the block size, memory at N = 20,000, and tensor leaks.

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { type AffinityOptions, affinityGraph } from "../../src/mp/affinity.js";
import type { EdgeBatch } from "../../src/mp/propagate.js";
import { propagate } from "../../src/mp/propagate.js";
import { mulberry32, type Rng } from "../helpers/random.js";

// Tolerances. Forward values: every entry within FWD_TOL × max|reference|
// of the float64 reference (float32 products over N terms). Gradients:
// within GRAD_TOL × max|finite difference| of a central difference
// (step FD_STEP) of the float64 reference.
const FWD_TOL = 1e-5;
const GRAD_TOL = 1e-4;
const FD_STEP = 1e-5;

/** Uniform float32 values in [-scale, scale). */
function uniform(rng: Rng, size: number, scale = 1): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (2 * rng() - 1) * scale;
  return out;
}

/** The reference's own view of the affinity options. */
interface RefConfig {
  kind: "dot" | "softmax";
  temperature: number;
  excludeSelf: boolean;
  logBias: ArrayLike<number> | null;
  mean: boolean;
}

function refConfig(o: AffinityOptions, mean = false): RefConfig {
  const b = o.logBias;
  return {
    kind: o.kind ?? "dot",
    temperature: o.temperature ?? 1,
    excludeSelf: o.excludeSelf ?? false,
    logBias: b === undefined ? null : b instanceof tf.Tensor ? b.dataSync() : b,
    mean,
  };
}

/** Dense float64 weights W (n × n) of features f (n × k). */
function refWeights(
  f: ArrayLike<number>,
  n: number,
  k: number,
  c: RefConfig,
): Float64Array {
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += f[i * k + t] * f[j * k + t];
      w[i * n + j] = s / c.temperature + (c.logBias ? c.logBias[j] : 0);
    }
    if (c.kind === "dot") {
      if (c.excludeSelf) w[i * n + i] = 0;
      continue;
    }
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < n; j++) {
      if (c.excludeSelf && j === i) continue;
      m = Math.max(m, w[i * n + j]);
    }
    let z = 0;
    for (let j = 0; j < n; j++) {
      const e = c.excludeSelf && j === i ? 0 : Math.exp(w[i * n + j] - m);
      w[i * n + j] = e;
      z += e;
    }
    for (let j = 0; j < n; j++) w[i * n + j] /= z;
  }
  return w;
}

/** Dense float64 `W X` (divided by the neighbour count for mean). */
function refPropagate(
  f: ArrayLike<number>,
  x: ArrayLike<number>,
  n: number,
  k: number,
  d: number,
  c: RefConfig,
): Float64Array {
  const w = refWeights(f, n, k, c);
  const y = new Float64Array(n * d);
  const count = c.excludeSelf ? n - 1 : n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const wij = w[i * n + j];
      for (let t = 0; t < d; t++) y[i * d + t] += wij * x[j * d + t];
    }
    if (c.mean) for (let t = 0; t < d; t++) y[i * d + t] /= count;
  }
  return y;
}

/** Largest absolute value. */
function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Largest absolute difference. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Check `got` against `want` within `tol × max|want|`. */
function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: number,
): void {
  const scale = Math.max(maxAbs(want), 1e-12);
  expect(maxDiff(got, want) / scale).toBeLessThanOrEqual(tol);
}

/** Central finite differences of `loss` at `v` (copied), entry by entry. */
function finiteDiff(
  v: ArrayLike<number>,
  loss: (p: Float64Array) => number,
): Float64Array {
  const p = Float64Array.from(v);
  const g = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const old = p[i];
    p[i] = old + FD_STEP;
    const up = loss(p);
    p[i] = old - FD_STEP;
    const down = loss(p);
    p[i] = old;
    g[i] = (up - down) / (2 * FD_STEP);
  }
  return g;
}

/** `Σ r ⊙ y`. */
function dotAll(r: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += r[i] * y[i];
  return s;
}

/** The configurations every forward and gradient test runs through. */
function configs(rng: Rng, n: number): Array<[string, AffinityOptions]> {
  const bias = uniform(rng, n, 0.5);
  return [
    ["dot", { kind: "dot" }],
    ["dot τ=0.5", { kind: "dot", temperature: 0.5 }],
    ["dot excludeSelf", { kind: "dot", excludeSelf: true }],
    ["softmax", { kind: "softmax" }],
    ["softmax τ=0.3", { kind: "softmax", temperature: 0.3 }],
    ["softmax excludeSelf", { kind: "softmax", excludeSelf: true }],
    ["softmax logBias (array)", { kind: "softmax", logBias: bias }],
    [
      "softmax τ=0.7 logBias excludeSelf",
      { kind: "softmax", temperature: 0.7, logBias: bias, excludeSelf: true },
    ],
  ];
}

describe("affinityGraph forward", () => {
  const n = 37;
  const k = 5;
  const d = 4;
  const rng = mulberry32(11);
  const fData = uniform(rng, n * k);
  const xData = uniform(rng, n * d);

  for (const [name, options] of configs(mulberry32(12), n)) {
    for (const aggregate of ["sum", "mean"] as const) {
      it(`${name}, ${aggregate}: W X matches the float64 reference`, () => {
        const f = tf.tensor2d(fData, [n, k]);
        const x = tf.tensor2d(xData, [n, d]);
        const g = affinityGraph(f, { ...options, blockSize: 10 });
        const y = g.propagate(x, { aggregate });
        expect(y.shape).toEqual([n, d]);
        const c = refConfig(options, aggregate === "mean");
        expectClose(
          y.dataSync(),
          refPropagate(fData, xData, n, k, d, c),
          FWD_TOL,
        );
        tf.dispose([f, x, y]);
      });
    }

    it(`${name}: weightsBlock and toDense match the reference weights`, () => {
      const f = tf.tensor2d(fData, [n, k]);
      const g = affinityGraph(f, options);
      const want = refWeights(fData, n, k, refConfig(options));
      const dense = g.toDense();
      expect(dense.shape).toEqual([n, n]);
      expectClose(dense.dataSync(), want, FWD_TOL);
      const block = g.weightsBlock(5, 12);
      expect(block.shape).toEqual([7, n]);
      expectClose(block.dataSync(), want.subarray(5 * n, 12 * n), FWD_TOL);
      tf.dispose([f, dense, block]);
    });
  }

  it("accepts logBias as a tensor, with −∞ entries giving weight 0", () => {
    const bias = uniform(mulberry32(13), n, 1);
    bias[3] = Number.NEGATIVE_INFINITY;
    const f = tf.tensor2d(fData, [n, k]);
    const x = tf.tensor2d(xData, [n, d]);
    const b = tf.tensor1d(bias);
    const options: AffinityOptions = { kind: "softmax", logBias: b };
    const y = affinityGraph(f, options).propagate(x);
    const w = affinityGraph(f, options).weightsBlock(0, n);
    const c = refConfig({ kind: "softmax", logBias: bias });
    expectClose(y.dataSync(), refPropagate(fData, xData, n, k, d, c), FWD_TOL);
    const wd = w.dataSync();
    for (let i = 0; i < n; i++) expect(wd[i * n + 3]).toBe(0);
    tf.dispose([f, x, b, y, w]);
  });
});

describe("affinityGraph block size", () => {
  const n = 50;
  const k = 8;
  const d = 6;
  const rng = mulberry32(21);
  const fData = uniform(rng, n * k);
  const xData = uniform(rng, n * d);
  const rData = uniform(rng, n * d);
  const bias = uniform(rng, n, 0.5);

  const cases: Array<[string, AffinityOptions]> = [
    ["dot", { kind: "dot" }],
    [
      "softmax logBias excludeSelf",
      { kind: "softmax", temperature: 0.5, logBias: bias, excludeSelf: true },
    ],
  ];
  for (const [name, options] of cases) {
    it(`${name}: blocks of 1, 7 and N give identical results`, () => {
      const f = tf.tensor2d(fData, [n, k]);
      const x = tf.tensor2d(xData, [n, d]);
      const r = tf.tensor2d(rData, [n, d]);
      const results = [1, 7, n].map((blockSize) => {
        const g = affinityGraph(f, { ...options, blockSize });
        const y = g.propagate(x);
        const grads = tf.grads((xs: tf.Tensor, fs: tf.Tensor) =>
          tf.sum(
            tf.mul(
              r,
              affinityGraph(fs as tf.Tensor2D, {
                ...options,
                blockSize,
              }).propagate(xs as tf.Tensor2D),
            ),
          ),
        )([x, f]);
        const out = [y, ...grads].map((t) => t.dataSync().slice());
        tf.dispose([y, ...grads]);
        return out;
      });

      // NOTE: each output row is computed by the same row-wise kernels
      // whatever the block, so the values agree bit for bit on WASM; the
      // 1e-6 bound is the documented guarantee.
      for (const other of results.slice(1)) {
        for (let t = 0; t < 3; t++) {
          const scale = maxAbs(results[0][t]);
          expect(maxDiff(other[t], results[0][t])).toBeLessThanOrEqual(
            1e-6 * scale,
          );
          if (tf.getBackend() === "wasm") {
            expect(other[t]).toEqual(results[0][t]);
          }
        }
      }
      tf.dispose([f, x, r]);
    });
  }
});

describe("affinityGraph gradients", () => {
  const n = 9;
  const k = 3;
  const d = 2;
  const rng = mulberry32(31);
  const fData = uniform(rng, n * k);
  const xData = uniform(rng, n * d);
  const rData = uniform(rng, n * d);
  // the same tensor as x and features needs d = k
  const rSame = uniform(rng, n * k);

  for (const [name, options] of configs(mulberry32(32), n)) {
    for (const aggregate of ["sum", "mean"] as const) {
      const c = refConfig(options, aggregate === "mean");
      const label = `${name}, ${aggregate}`;

      it(`${label}: d/dx and d/dF match finite differences`, () => {
        const f = tf.tensor2d(fData, [n, k]);
        const x = tf.tensor2d(xData, [n, d]);
        const r = tf.tensor2d(rData, [n, d]);
        const [gx, gf] = tf.grads((xs: tf.Tensor, fs: tf.Tensor) => {
          const g = affinityGraph(fs as tf.Tensor2D, {
            ...options,
            blockSize: 4,
          });
          return tf.sum(
            tf.mul(r, g.propagate(xs as tf.Tensor2D, { aggregate })),
          );
        })([x, f]);
        const wantX = finiteDiff(xData, (p) =>
          dotAll(rData, refPropagate(fData, p, n, k, d, c)),
        );
        const wantF = finiteDiff(fData, (p) =>
          dotAll(rData, refPropagate(p, xData, n, k, d, c)),
        );
        expectClose(gx.dataSync(), wantX, GRAD_TOL);
        expectClose(gf.dataSync(), wantF, GRAD_TOL);
        tf.dispose([f, x, r, gx, gf]);
      });

      it(`${label}: x = F (one tensor) adds both gradients`, () => {
        const f = tf.tensor2d(fData, [n, k]);
        const r = tf.tensor2d(rSame, [n, k]);
        const gf = tf.grad((fs: tf.Tensor) => {
          const g = affinityGraph(fs as tf.Tensor2D, {
            ...options,
            blockSize: 4,
          });
          return tf.sum(
            tf.mul(r, g.propagate(fs as tf.Tensor2D, { aggregate })),
          );
        })(f);
        const want = finiteDiff(fData, (p) =>
          dotAll(rSame, refPropagate(p, p, n, k, k, c)),
        );
        expectClose(gf.dataSync(), want, GRAD_TOL);
        tf.dispose([f, r, gf]);
      });
    }
  }

  for (const excludeSelf of [false, true]) {
    it(`excludeSelf ${excludeSelf}: d/dlogBias, fused and dense`, () => {
      // one −∞ entry: a column of zero weights, whose gradients must be 0,
      // not NaN
      const bias = uniform(mulberry32(33), n, 0.5);
      bias[2] = Number.NEGATIVE_INFINITY;
      const f = tf.tensor2d(fData, [n, k]);
      const x = tf.tensor2d(xData, [n, d]);
      const r = tf.tensor2d(rData, [n, d]);
      const b = tf.tensor1d(bias);
      const base = { kind: "softmax", temperature: 0.6, excludeSelf };
      const c = refConfig(base as AffinityOptions);
      const loss = (fp: ArrayLike<number>, bp: ArrayLike<number>) =>
        dotAll(rData, refPropagate(fp, xData, n, k, d, { ...c, logBias: bp }));
      const wantB = finiteDiff(bias, (p) => loss(fData, p));
      const wantF = finiteDiff(fData, (p) => loss(p, bias));

      // through the fused propagation
      const [gf, gb] = tf.grads((fs: tf.Tensor, bs: tf.Tensor) => {
        const g = affinityGraph(fs as tf.Tensor2D, {
          ...(base as AffinityOptions),
          logBias: bs as tf.Tensor1D,
          blockSize: 4,
        });
        return tf.sum(tf.mul(r, g.propagate(x)));
      })([f, b]);
      expectClose(gb.dataSync(), wantB, GRAD_TOL);
      expectClose(gf.dataSync(), wantF, GRAD_TOL);
      expect(gb.dataSync()[2]).toBe(0);

      // through the differentiable dense weights
      const [gfDense, gbDense] = tf.grads((fs: tf.Tensor, bs: tf.Tensor) => {
        const g = affinityGraph(fs as tf.Tensor2D, {
          ...(base as AffinityOptions),
          logBias: bs as tf.Tensor1D,
        });
        return tf.sum(tf.mul(r, tf.matMul(g.toDense(), x)));
      })([f, b]);
      expectClose(gbDense.dataSync(), wantB, GRAD_TOL);
      expectClose(gfDense.dataSync(), wantF, GRAD_TOL);
      tf.dispose([f, x, r, b, gf, gb, gfDense, gbDense]);
    });
  }

  for (const [name, options] of configs(mulberry32(34), n)) {
    it(`${name}: weightsBlock's gradient matches finite differences`, () => {
      const f = tf.tensor2d(fData, [n, k]);
      const r = uniform(mulberry32(35), 4 * n);
      const rt = tf.tensor2d(r, [4, n]);
      const gf = tf.grad((fs: tf.Tensor) =>
        tf.sum(
          tf.mul(
            rt,
            affinityGraph(fs as tf.Tensor2D, options).weightsBlock(3, 7),
          ),
        ),
      )(f);
      const c = refConfig(options);
      const want = finiteDiff(fData, (p) =>
        dotAll(r, refWeights(p, n, k, c).subarray(3 * n, 7 * n)),
      );
      expectClose(gf.dataSync(), want, GRAD_TOL);
      tf.dispose([f, rt, gf]);
    });
  }
});

/** Which reduction the dense aggregator reference applies. */
type RefAggregate = "sum" | "mean" | "max" | "min" | "softmax";

/**
 * Dense float64 reference of any aggregator over the messages
 * `m_ij = W_ij x_j + dstScale x_i` into i from every neighbour j (all j,
 * or j ≠ i with excludeSelf). The softmax aggregator weighs each channel
 * by `softmax_j(m_ij[t])` (inverse temperature 1).
 */
function refAggregate(
  f: ArrayLike<number>,
  x: ArrayLike<number>,
  n: number,
  k: number,
  d: number,
  c: RefConfig,
  aggregate: RefAggregate,
  dstScale = 0,
): Float64Array {
  const w = refWeights(f, n, k, c);
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) {
      const m: number[] = [];
      for (let j = 0; j < n; j++) {
        if (c.excludeSelf && j === i) continue;
        m.push(w[i * n + j] * x[j * d + t] + dstScale * x[i * d + t]);
      }
      let v = 0;
      if (aggregate === "sum" || aggregate === "mean") {
        for (const mj of m) v += mj;
        if (aggregate === "mean") v /= m.length;
      } else if (aggregate === "max") {
        v = Math.max(...m);
      } else if (aggregate === "min") {
        v = Math.min(...m);
      } else {
        const top = Math.max(...m);
        let z = 0;
        for (const mj of m) z += Math.exp(mj - top);
        for (const mj of m) v += (Math.exp(mj - top) / z) * mj;
      }
      out[i * d + t] = v;
    }
  }
  return out;
}

describe("affinityGraph with other messages and aggregators", () => {
  const n = 13;
  const k = 4;
  const d = 3;
  const rng = mulberry32(61);
  const fData = uniform(rng, n * k);
  const xData = uniform(rng, n * d);
  const rData = uniform(rng, n * d);
  const cases: Array<[string, AffinityOptions]> = [
    ["dot", { kind: "dot", temperature: 0.5 }],
    ["dot excludeSelf", { kind: "dot", excludeSelf: true }],
    [
      "softmax logBias excludeSelf",
      {
        kind: "softmax",
        temperature: 0.4,
        excludeSelf: true,
        logBias: uniform(mulberry32(62), n, 0.5),
      },
    ],
  ];

  for (const [name, options] of cases) {
    const c = refConfig(options);
    for (const aggregate of ["max", "min", "softmax"] as const) {
      it(`${name}, ${aggregate}: matches the dense reference`, () => {
        const f = tf.tensor2d(fData, [n, k]);
        const x = tf.tensor2d(xData, [n, d]);
        const g = affinityGraph(f, { ...options, blockSize: 5 });
        const y = propagate(g, x, { aggregate });
        expect(y.shape).toEqual([n, d]);
        const want = refAggregate(fData, xData, n, k, d, c, aggregate);
        expectClose(y.dataSync(), want, FWD_TOL);
        tf.dispose([f, x, y]);
      });
    }

    it(`${name}: a custom message reads dst and weight`, () => {
      const f = tf.tensor2d(fData, [n, k]);
      const x = tf.tensor2d(xData, [n, d]);
      const message = (e: EdgeBatch) =>
        tf.add(
          tf.mul(e.src, tf.reshape(e.weight as tf.Tensor1D, [-1, 1])),
          tf.mul(e.dst, 0.5),
        ) as tf.Tensor2D;
      const g = affinityGraph(f, { ...options, blockSize: 5 });
      const y = propagate(g, x, { message, aggregate: "mean" });
      const want = refAggregate(fData, xData, n, k, d, c, "mean", 0.5);
      expectClose(y.dataSync(), want, FWD_TOL);
      tf.dispose([f, x, y]);
    });

    it(`${name}: lists mix the fused and the block paths`, () => {
      const f = tf.tensor2d(fData, [n, k]);
      const x = tf.tensor2d(xData, [n, d]);
      const g = affinityGraph(f, { ...options, blockSize: 5 });
      const y = propagate(g, x, { aggregate: ["sum", "max", "mean"] });
      expect(y.shape).toEqual([n, 3 * d]);
      const parts = (["sum", "max", "mean"] as const).map((a) =>
        refAggregate(fData, xData, n, k, d, c, a),
      );
      const want = new Float64Array(n * 3 * d);
      for (let i = 0; i < n; i++) {
        for (let p = 0; p < 3; p++) {
          for (let t = 0; t < d; t++) {
            want[i * 3 * d + p * d + t] = parts[p][i * d + t];
          }
        }
      }
      expectClose(y.dataSync(), want, FWD_TOL);
      tf.dispose([f, x, y]);
    });

    it(`${name}: update is applied once to all rows`, () => {
      const f = tf.tensor2d(fData, [n, k]);
      const x = tf.tensor2d(xData, [n, d]);
      const g = affinityGraph(f, { ...options, blockSize: 5 });
      let calls = 0;
      const update = (agg: tf.Tensor2D, own: tf.Tensor2D) => {
        calls++;
        expect(own.shape).toEqual([n, d]);
        return tf.sub(agg, own) as tf.Tensor2D;
      };
      const y = propagate(g, x, { aggregate: "max", update });
      expect(calls).toBe(1);
      const want = refAggregate(fData, xData, n, k, d, c, "max");
      for (let i = 0; i < n * d; i++) want[i] -= xData[i];
      expectClose(y.dataSync(), want, FWD_TOL);
      tf.dispose([f, x, y]);
    });

    for (const aggregate of ["max", "softmax"] as const) {
      it(`${name}, ${aggregate}: gradients match finite differences`, () => {
        const f = tf.tensor2d(fData, [n, k]);
        const x = tf.tensor2d(xData, [n, d]);
        const r = tf.tensor2d(rData, [n, d]);
        const [gx, gf] = tf.grads((xs: tf.Tensor, fs: tf.Tensor) => {
          const g = affinityGraph(fs as tf.Tensor2D, {
            ...options,
            blockSize: 5,
          });
          return tf.sum(
            tf.mul(r, propagate(g, xs as tf.Tensor2D, { aggregate })),
          );
        })([x, f]);
        const wantX = finiteDiff(xData, (p) =>
          dotAll(rData, refAggregate(fData, p, n, k, d, c, aggregate)),
        );
        const wantF = finiteDiff(fData, (p) =>
          dotAll(rData, refAggregate(p, xData, n, k, d, c, aggregate)),
        );
        expectClose(gx.dataSync(), wantX, GRAD_TOL);
        expectClose(gf.dataSync(), wantF, GRAD_TOL);
        tf.dispose([f, x, r, gx, gf]);
      });
    }
  }

  it("propagate() hands the call over, and refuses weights", () => {
    const f = tf.tensor2d(fData, [n, k]);
    const x = tf.tensor2d(xData, [n, d]);
    const g = affinityGraph(f, { kind: "softmax" });
    const a = propagate(g, x, { aggregate: "mean" });
    const b = g.propagate(x, { aggregate: "mean" });
    expect(a.dataSync()).toEqual(b.dataSync());
    const w = tf.ones([n * n]) as tf.Tensor1D;
    expect(() => propagate(g, x, { weights: w })).toThrow(ConfigError);
    expect(() =>
      propagate(g, x, { aggregate: "median" as unknown as "sum" }),
    ).toThrow(ConfigError);
    tf.dispose([f, x, a, b, w]);
  });
});

describe("affinityGraph memory", () => {
  it("N = 20,000: no N × N tensor, forward or backward", async () => {
    const n = 20_000;
    const k = 32;
    const blockSize = 512;
    const rng = mulberry32(41);
    const f = tf.tensor2d(uniform(rng, n * k, 0.3), [n, k]);
    const r = tf.tensor2d(uniform(rng, n * k), [n, k]);
    const start = tf.memory().numBytes;
    let sampledPeak = 0;
    const blocksSeen = { forward: 0, backward: 0 };

    // tf.profile records the bytes held after every kernel
    const info = await tf.profile(() => {
      const g = affinityGraph(f, {
        kind: "softmax",
        temperature: 0.5,
        blockSize,
        onBlock: (e) => {
          blocksSeen[e.phase]++;
          sampledPeak = Math.max(sampledPeak, tf.memory().numBytes);
        },
      });
      const { value, grads } = tf.valueAndGrads((fs: tf.Tensor) =>
        tf.sum(tf.mul(r, g.propagate(fs as tf.Tensor2D))),
      )([f]);
      return [value, grads[0]];
    });
    const [value, grad] = info.result as tf.Tensor[];

    // a b × N block is 41 MB; the kernels keep at most four alive
    // (tf.memory counts a reshaped output twice, hence the margin of 6),
    // against 1.6 GB for one N × N matrix
    const blockBytes = blockSize * n * 4;
    const peak = info.peakBytes - start;
    expect(blocksSeen).toEqual({ forward: 40, backward: 40 });
    expect(peak).toBeLessThan(6 * blockBytes);
    expect(6 * blockBytes).toBeLessThan((n * n * 4) / 6);
    expect(sampledPeak - start).toBeLessThanOrEqual(peak);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(grad.shape).toEqual([n, k]);
    expect(Number.isFinite(maxAbs(grad.dataSync()))).toBe(true);
    tf.dispose([value, grad, f, r]);
  });
});

describe("affinityGraph errors and leaks", () => {
  it("raises typed errors at the boundary", () => {
    const f = tf.zeros([4, 2]) as tf.Tensor2D;
    const v = tf.zeros([4]) as tf.Tensor1D;
    expect(() => affinityGraph(v as unknown as tf.Tensor2D)).toThrow(
      ShapeError,
    );
    expect(() => affinityGraph(f, { temperature: 0 })).toThrow(ConfigError);
    expect(() => affinityGraph(f, { blockSize: 0 })).toThrow(ConfigError);
    expect(() => affinityGraph(f, { blockSize: 1.5 })).toThrow(ConfigError);
    expect(() => affinityGraph(f, { kind: "cos" as unknown as "dot" })).toThrow(
      ConfigError,
    );
    expect(() =>
      affinityGraph(f, { kind: "dot", logBias: new Float32Array(4) }),
    ).toThrow(ConfigError);
    expect(() =>
      affinityGraph(f, { kind: "softmax", logBias: new Float32Array(3) }),
    ).toThrow(ShapeError);
    expect(() =>
      affinityGraph(f, {
        kind: "softmax",
        logBias: Float32Array.of(0, Number.NaN, 0, 0),
      }),
    ).toThrow(ConfigError);
    const one = tf.zeros([1, 2]) as tf.Tensor2D;
    expect(() =>
      affinityGraph(one, { kind: "softmax", excludeSelf: true }),
    ).toThrow(ConfigError);
    const g = affinityGraph(f);
    const x = tf.zeros([5, 2]) as tf.Tensor2D;
    expect(() => g.propagate(x)).toThrow(ShapeError);
    expect(() => g.weightsBlock(2, 2)).toThrow(ConfigError);
    expect(() => g.weightsBlock(0, 5)).toThrow(ConfigError);
    const big = tf.zeros([4097, 1]) as tf.Tensor2D;
    expect(() => affinityGraph(big).toDense()).toThrow(ConfigError);
    tf.dispose([f, v, one, x, big]);
  });

  it("leaves no tensor behind (forward, gradients, weight blocks)", () => {
    const n = 20;
    const rng = mulberry32(51);
    const f = tf.tensor2d(uniform(rng, n * 3), [n, 3]);
    const x = tf.tensor2d(uniform(rng, n * 2), [n, 2]);
    const b = tf.tensor1d(uniform(rng, n));
    const before = tf.memory().numTensors;
    for (const options of [
      { kind: "dot", excludeSelf: true },
      { kind: "softmax", logBias: b, excludeSelf: true },
      { kind: "softmax", logBias: uniform(rng, n) },
    ] as AffinityOptions[]) {
      const y = affinityGraph(f, { ...options, blockSize: 6 }).propagate(x);
      const grads = tf.grads((xs: tf.Tensor, fs: tf.Tensor) =>
        tf.sum(
          affinityGraph(fs as tf.Tensor2D, {
            ...options,
            blockSize: 6,
          }).propagate(xs as tf.Tensor2D, { aggregate: "mean" }),
        ),
      )([x, f]);
      const gw = tf.grad((fs: tf.Tensor) =>
        tf.sum(affinityGraph(fs as tf.Tensor2D, options).weightsBlock(2, 9)),
      )(f);
      const w = affinityGraph(f, options).toDense();
      const gm = tf.grads((xs: tf.Tensor, fs: tf.Tensor) =>
        tf.sum(
          affinityGraph(fs as tf.Tensor2D, {
            ...options,
            blockSize: 6,
          }).propagate(xs as tf.Tensor2D, { aggregate: ["max", "softmax"] }),
        ),
      )([x, f]);
      tf.dispose([y, ...grads, gw, w, ...gm]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([f, x, b]);
  });
});
