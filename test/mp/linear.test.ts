// Tests of src/mp/linear.ts: the dense products (typed arrays and tensors)
// against float64 products written here, their gradients against finite
// differences and closed forms, the native variants and thread counts
// against the TypeScript reference bit for bit (or within rounding where
// FMA changes it), sparse against dense features, and the counter-based
// dropout against an independent BigInt version of its hash.

import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import {
  kernelInfo,
  type NativeKernels,
  nativeAddonPath,
  nativeKernels,
  resetKernelSelection,
  setKernelThreads,
} from "../../src/graph/native.js";
import {
  concatColumns,
  denseMatMul,
  dropout,
  dropoutInto,
  gemm,
  gemmInto,
  gemmNT,
  gemmReference,
  gemmTN,
  matMul,
  SparseFeatures,
  splitColumns,
} from "../../src/mp/linear.js";
import { mulberry32, type Rng } from "../helpers/random.js";

// ---------------------------------------------------------------------------
// references written here
// ---------------------------------------------------------------------------

/** Uniform float32 values in [-1, 1). */
function randomArray(rng: Rng, size: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = 2 * rng() - 1;
  return out;
}

/**
 * op(A) · op(B) in float64, and the matching sums of |a_p b_p| (the scale
 * of each element's rounding error).
 */
function product64(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  n: number,
  k: number,
  transposeA = false,
  transposeB = false,
): { value: Float64Array; scale: Float64Array } {
  const value = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let t = 0;
      for (let p = 0; p < k; p++) {
        const av = transposeA ? a[p * m + i] : a[i * k + p];
        const bv = transposeB ? b[j * k + p] : b[p * n + j];
        s += av * bv;
        t += Math.abs(av * bv);
      }
      value[i * n + j] = s;
      scale[i * n + j] = t;
    }
  }
  return { value, scale };
}

/** Every |got − want| ≤ tol · (scale + 1e-30), with the worst case named. */
function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  scale: ArrayLike<number>,
  tol: number,
): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - want[i]) / (scale[i] + 1e-30);
    if (!(err <= worst)) worst = err;
  }
  expect(worst).toBeLessThanOrEqual(tol);
}

/** Bit-for-bit equality of two float32 arrays (−0 and NaN included). */
function expectSameBits(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  let diff = -1;
  for (let i = 0; i < g.length && diff < 0; i++) if (g[i] !== w[i]) diff = i;
  expect(diff).toBe(-1);
}

/** lowbias32 in BigInt arithmetic, independent of linear.ts's Math.imul. */
function mix32Big(x: bigint): bigint {
  const M = 0xffffffffn;
  x &= M;
  x ^= x >> 16n;
  x = (x * 0x7feb352dn) & M;
  x ^= x >> 15n;
  x = (x * 0x846ca68bn) & M;
  x ^= x >> 16n;
  return x;
}

/** The documented dropout decision of entry i, from BigInt arithmetic. */
function keepBig(i: number, seed: number, rate: number): boolean {
  const s = BigInt(seed);
  const key = mix32Big(s ^ 0x85ebca6bn);
  const first = mix32Big((BigInt(i) * 0x9e3779b9n + s) & 0xffffffffn);
  const bits = mix32Big(first ^ key);
  return bits >= BigInt(Math.floor(rate * 4294967296));
}

/** Restore MPCL_KERNELS and the thread count after a block of tests. */
function withKernels(mode: "ts" | "auto", body: () => void): void {
  const saved = process.env.MPCL_KERNELS;
  if (mode === "ts") process.env.MPCL_KERNELS = "ts";
  else delete process.env.MPCL_KERNELS;
  resetKernelSelection();
  try {
    body();
  } finally {
    if (saved === undefined) delete process.env.MPCL_KERNELS;
    else process.env.MPCL_KERNELS = saved;
    resetKernelSelection();
  }
}

const addonBuilt = existsSync(nativeAddonPath());
const transposes = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

// sizes that hit full and partial tiles (6 × 8 and 6 × 16), blocks of
// 256 columns of A and of 504 rows, and the empty sum
const shapes = [
  { m: 1, n: 1, k: 1 },
  { m: 7, n: 5, k: 3 },
  { m: 13, n: 17, k: 300 },
  { m: 100, n: 33, k: 517 },
  { m: 6, n: 16, k: 256 },
  { m: 200, n: 40, k: 64 },
  { m: 511, n: 50, k: 270 },
  { m: 4, n: 3, k: 0 },
];

// ---------------------------------------------------------------------------
// typed-array products
// ---------------------------------------------------------------------------

describe("gemmReference", () => {
  it("matches a float64 product for every transpose (1e-6 of Σ|ab|)", () => {
    const rng = mulberry32(11);
    for (const { m, n, k } of shapes) {
      for (const [tA, tB] of transposes) {
        const a = randomArray(rng, m * k);
        const b = randomArray(rng, k * n);
        const c = new Float32Array(m * n);
        gemmReference(c, a, b, m, n, k, { transposeA: tA, transposeB: tB });
        const want = product64(a, b, m, n, k, tA, tB);
        expectClose(c, want.value, want.scale, 1e-6);
      }
    }
  });

  it("accumulates into c when asked", () => {
    const a = new Float32Array([1, 2, 3, 4]); // [2, 2]
    const b = new Float32Array([5, 6, 7, 8]); // [2, 2]
    const c = new Float32Array([1, 1, 1, 1]);
    gemmReference(c, a, b, 2, 2, 2, { accumulate: true });
    // [1 2; 3 4] [5 6; 7 8] = [19 22; 43 50], plus 1
    expect(Array.from(c)).toEqual([20, 23, 44, 51]);
  });

  it("rejects inconsistent sizes with ShapeError", () => {
    const a = new Float32Array(5);
    const b = new Float32Array(6);
    expect(() => gemmReference(new Float32Array(4), a, b, 2, 2, 3)).toThrow(
      ShapeError,
    );
    expect(() => gemmReference(new Float32Array(4), a, b, 2, 2, -3)).toThrow(
      ShapeError,
    );
    expect(() => gemmInto(new Float32Array(5), b, b, 2, 2, 3)).toThrow(
      ShapeError,
    );
  });
});

describe("gemm, gemmTN, gemmNT", () => {
  it("compute A B, Aᵀ G and G Bᵀ (1e-6 of Σ|ab|)", () => {
    const rng = mulberry32(12);
    const [m, k, n] = [70, 45, 19];
    const a = randomArray(rng, m * k);
    const b = randomArray(rng, k * n);
    const g = randomArray(rng, m * n);
    const ab = product64(a, b, m, n, k);
    expectClose(gemm(a, b, m, k, n), ab.value, ab.scale, 1e-6);
    const atg = product64(a, g, k, n, m, true, false);
    expectClose(gemmTN(a, g, m, k, n), atg.value, atg.scale, 1e-6);
    const gbt = product64(g, b, m, k, n, false, true);
    expectClose(gemmNT(g, b, m, n, k), gbt.value, gbt.scale, 1e-6);
  });

  it("is the reference itself under MPCL_KERNELS=ts", () => {
    withKernels("ts", () => {
      expect(kernelInfo().implementation).toBe("typescript");
      const rng = mulberry32(13);
      const a = randomArray(rng, 30 * 20);
      const b = randomArray(rng, 20 * 10);
      const want = gemmReference(new Float32Array(300), a, b, 30, 10, 20);
      expectSameBits(gemm(a, b, 30, 20, 10), want);
    });
  });
});

describe.skipIf(!addonBuilt)("native gemm", () => {
  let native: NativeKernels;
  beforeAll(() => {
    delete process.env.MPCL_KERNELS;
    resetKernelSelection();
    native = nativeKernels() as NativeKernels;
  });
  afterAll(() => {
    native.setSimd(native.simdLevels[0]);
    setKernelThreads(null);
    resetKernelSelection();
  });

  it("baseline = reference bit for bit; avx2 within 1e-6 of Σ|ab|", () => {
    const rng = mulberry32(21);
    for (const level of native.simdLevels) {
      expect(native.setSimd(level)).toBe(true);
      for (const { m, n, k } of shapes) {
        for (const [tA, tB] of transposes) {
          for (const accumulate of [false, true]) {
            const a = randomArray(rng, m * k);
            const b = randomArray(rng, k * n);
            const c0 = randomArray(rng, m * n);
            const opts = { transposeA: tA, transposeB: tB, accumulate };
            const want = gemmReference(c0.slice(), a, b, m, n, k, opts);
            const got = gemmInto(c0.slice(), a, b, m, n, k, opts);
            if (level === "baseline") {
              expectSameBits(got, want);
            } else {
              const ref = product64(a, b, m, n, k, tA, tB);
              const base = accumulate ? c0 : new Float32Array(m * n);
              const value = ref.value.map((v, i) => v + base[i]);
              const scale = ref.scale.map((v, i) => v + Math.abs(base[i]));
              expectClose(got, value, scale, 1e-6);
            }
          }
        }
      }
    }
  });

  it("gives the same bits with 1, 2 and 3 threads, in every variant", () => {
    // large enough to be split (4M multiply-adds per thread)
    const rng = mulberry32(22);
    const [m, n, k] = [611, 70, 300];
    const a = randomArray(rng, m * k);
    const b = randomArray(rng, k * n);
    for (const level of native.simdLevels) {
      native.setSimd(level);
      for (const [tA, tB] of transposes) {
        const opts = { transposeA: tA, transposeB: tB };
        setKernelThreads(1);
        const one = gemmInto(new Float32Array(m * n), a, b, m, n, k, opts);
        for (const threads of [2, 3]) {
          setKernelThreads(threads);
          expectSameBits(
            gemmInto(new Float32Array(m * n), a, b, m, n, k, opts),
            one,
          );
        }
      }
    }
  });

  it("reports a too-short array as a status, not a crash", () => {
    const status = native.gemm(
      new Float32Array(5),
      new Float32Array(6),
      new Float32Array(4),
      2,
      2,
      3,
      0,
      0,
      0,
      1,
    );
    expect(status).not.toBe(0);
  });
});

// ---------------------------------------------------------------------------
// differentiable products
// ---------------------------------------------------------------------------

/** Run the tensor tests with and without the native addon. */
const modes = addonBuilt ? (["auto", "ts"] as const) : (["ts"] as const);

describe.each(modes)("denseMatMul (MPCL_KERNELS=%s)", (mode) => {
  const tensor = (v: Float32Array, shape: [number, number]) =>
    tf.tensor2d(v, shape);

  it("matches a float64 product for every transpose", () => {
    withKernels(mode, () => {
      const rng = mulberry32(31);
      const [m, n, k] = [37, 29, 53];
      for (const [tA, tB] of transposes) {
        const a = randomArray(rng, m * k);
        const b = randomArray(rng, k * n);
        const at = tensor(a, tA ? [k, m] : [m, k]);
        const bt = tensor(b, tB ? [n, k] : [k, n]);
        const c = denseMatMul(at, bt, { transposeA: tA, transposeB: tB });
        expect(c.shape).toEqual([m, n]);
        const want = product64(a, b, m, n, k, tA, tB);
        expectClose(c.dataSync(), want.value, want.scale, 1e-5);
        tf.dispose([at, bt, c]);
      }
    });
  });

  it("has the gradients dA = R op(B)ᵀ… and agrees with finite differences", () => {
    withKernels(mode, () => {
      const rng = mulberry32(32);
      const [m, n, k] = [9, 7, 11];
      for (const [tA, tB] of transposes) {
        const a = randomArray(rng, m * k);
        const b = randomArray(rng, k * n);
        const r = randomArray(rng, m * n);
        const aShape: [number, number] = tA ? [k, m] : [m, k];
        const bShape: [number, number] = tB ? [n, k] : [k, n];
        const at = tensor(a, aShape);
        const bt = tensor(b, bShape);
        const rt = tensor(r, [m, n]);
        const opts = { transposeA: tA, transposeB: tB };

        // loss = Σ R ⊙ C, so dC = R
        const loss = (x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(
            tf.mul(rt, denseMatMul(x as tf.Tensor2D, y as tf.Tensor2D, opts)),
          );
        const [ga, gb] = tf.grads(loss)([at, bt]);

        // closed form in float64: dA[i,p] = Σ_j R[i,j] op(B)[p,j] (then
        // transposed back to a's storage), likewise for B
        const da = new Float64Array(m * k);
        const db = new Float64Array(k * n);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            for (let p = 0; p < k; p++) {
              const av = tA ? a[p * m + i] : a[i * k + p];
              const bv = tB ? b[j * k + p] : b[p * n + j];
              da[tA ? p * m + i : i * k + p] += r[i * n + j] * bv;
              db[tB ? j * k + p : p * n + j] += r[i * n + j] * av;
            }
          }
        }
        const ones = (len: number) => new Float64Array(len).fill(n + k);
        expectClose(ga.dataSync(), da, ones(m * k), 1e-6);
        expectClose(gb.dataSync(), db, ones(k * n), 1e-6);

        // central differences on a few entries of a (the loss is linear
        // in a, so only rounding separates them: step 0.5)
        const h = 0.5;
        for (const idx of [0, 5, m * k - 1]) {
          const plus = a.slice();
          const minus = a.slice();
          plus[idx] += h;
          minus[idx] -= h;
          const lp = tf.tidy(() => loss(tensor(plus, aShape), bt).dataSync());
          const lm = tf.tidy(() => loss(tensor(minus, aShape), bt).dataSync());
          const fd = (lp[0] - lm[0]) / (2 * h);
          expect(Math.abs(fd - ga.dataSync()[idx])).toBeLessThan(1e-4);
        }
        tf.dispose([at, bt, rt, ga, gb]);
      }
    });
  });

  it("rejects mismatched shapes with ShapeError", () => {
    withKernels(mode, () => {
      const a = tf.zeros([3, 4]) as tf.Tensor2D;
      const b = tf.zeros([5, 2]) as tf.Tensor2D;
      expect(() => denseMatMul(a, b)).toThrow(ShapeError);
      expect(() => denseMatMul(a, b, { transposeA: true })).toThrow(ShapeError);
      expect(() =>
        denseMatMul(a, tf.zeros([4]) as unknown as tf.Tensor2D),
      ).toThrow(ShapeError);
      expect(() => matMul(a, b)).toThrow(ShapeError);
      tf.dispose([a, b]);
    });
  });

  it("leaks no tensor through forward and backward", () => {
    withKernels(mode, () => {
      const rng = mulberry32(33);
      const x = tensor(randomArray(rng, 40 * 30), [40, 30]);
      const w = tf.variable(tensor(randomArray(rng, 30 * 8), [30, 8]));
      const before = tf.memory().numTensors;
      for (let rep = 0; rep < 3; rep++) {
        const { value, grads } = tf.variableGrads(() =>
          tf.sum(tf.square(matMul(x, w as unknown as tf.Tensor2D))),
        );
        tf.dispose([value, ...Object.values(grads)]);
        tf.dispose(denseMatMul(x, x, { transposeA: true }));
      }
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, w]);
    });
  });

  it("keeps its inputs for the backward pass after a tidy frees them", () => {
    withKernels(mode, () => {
      const rng = mulberry32(34);
      const x = tensor(randomArray(rng, 20 * 6), [20, 6]);
      const w = tf.variable(tensor(randomArray(rng, 6 * 4), [6, 4]));
      const w2 = tf.variable(tensor(randomArray(rng, 4 * 3), [4, 3]));
      const { value, grads } = tf.variableGrads(() => {
        // h is an intermediate of the tidy, freed when it returns
        const y = tf.tidy(() => {
          const h = tf.relu(matMul(x, w as unknown as tf.Tensor2D));
          return matMul(h, w2 as unknown as tf.Tensor2D);
        });
        return tf.sum(y);
      });
      expect(Object.keys(grads).sort()).toEqual([w.name, w2.name].sort());
      expect(Number.isFinite(grads[w.name].sum().dataSync()[0])).toBe(true);
      tf.dispose([value, ...Object.values(grads), x, w, w2]);
    });
  });
});

describe.skipIf(!addonBuilt)("denseMatMul with the addon", () => {
  it("computes no input gradient for a constant input", () => {
    withKernels("auto", () => {
      const native = nativeKernels() as NativeKernels;
      const original = native.gemm;
      let calls = 0;
      (native as { gemm: NativeKernels["gemm"] }).gemm = (...args) => {
        calls++;
        return original(...args);
      };
      try {
        const rng = mulberry32(35);
        const x = tensor2d(randomArray(rng, 50 * 20), [50, 20]);
        const w = tf.variable(tensor2d(randomArray(rng, 20 * 5), [20, 5]));
        const loss = () =>
          tf.sum(matMul(x, w as unknown as tf.Tensor2D)) as tf.Scalar;

        // forward and dW only: two products
        calls = 0;
        const r1 = tf.variableGrads(loss);
        expect(calls).toBe(2);

        // with x a variable too, dX is the third
        const xv = tf.variable(x);
        calls = 0;
        const r2 = tf.variableGrads(() =>
          tf.sum(
            matMul(xv as unknown as tf.Tensor2D, w as unknown as tf.Tensor2D),
          ),
        );
        expect(calls).toBe(3);
        tf.dispose([r1.value, r2.value, x, w, xv]);
        tf.dispose([...Object.values(r1.grads), ...Object.values(r2.grads)]);
      } finally {
        (native as { gemm: NativeKernels["gemm"] }).gemm = original;
      }
    });
  });
});

function tensor2d(v: Float32Array, shape: [number, number]): tf.Tensor2D {
  return tf.tensor2d(v, shape);
}

describe("matMul over sparse features", () => {
  it("equals the dense product, value and weight gradient", () => {
    const rng = mulberry32(41);
    const [n, k, m] = [60, 40, 7];
    const dense = new Float32Array(n * k);
    for (let i = 0; i < dense.length; i++) {
      if (rng() < 0.1) dense[i] = rng() < 0.5 ? 1 : 2 * rng() - 1;
    }
    const sparse = SparseFeatures.fromDense(dense, n, k);
    const x = tensor2d(dense, [n, k]);
    const w = tf.variable(tensor2d(randomArray(rng, k * m), [k, m]));
    const r = tensor2d(randomArray(rng, n * m), [n, m]);
    const run = (input: SparseFeatures | tf.Tensor2D) =>
      tf.variableGrads(() =>
        tf.sum(tf.mul(r, matMul(input, w as unknown as tf.Tensor2D))),
      );
    const s = run(sparse);
    const d = run(x);
    const want = product64(dense, w.dataSync(), n, m, k);
    const y = tf.tidy(() => matMul(sparse, w as unknown as tf.Tensor2D));
    expectClose(y.dataSync(), want.value, want.scale, 1e-6);
    const gs = s.grads[w.name].dataSync();
    const gd = d.grads[w.name].dataSync();
    const gw = product64(dense, r.dataSync(), k, m, n, true, false);
    expectClose(gs, gw.value, gw.scale, 1e-6);
    expectClose(gd, gw.value, gw.scale, 1e-5);
    tf.dispose([x, w, r, y, s.value, d.value]);
    tf.dispose([...Object.values(s.grads), ...Object.values(d.grads)]);
  });
});

// ---------------------------------------------------------------------------
// dropout
// ---------------------------------------------------------------------------

describe("dropoutInto", () => {
  it("follows the documented hash (checked in BigInt arithmetic)", () => {
    for (const mode of modes) {
      withKernels(mode, () => {
        for (const [seed, rate] of [
          [0, 0.5],
          [12345, 0.3],
          [4294967295, 0.9],
        ]) {
          const mask = dropoutInto(new Float32Array(2000), null, seed, rate);
          const scale = Math.fround(1 / (1 - rate));
          for (let i = 0; i < mask.length; i++) {
            expect(mask[i]).toBe(keepBig(i, seed, rate) ? scale : 0);
          }
        }
      });
    }
  });

  it("keeps 1 − rate of the entries (within 5 standard deviations)", () => {
    const size = 200_000;
    for (const rate of [0.1, 0.5, 0.6, 0.95]) {
      const mask = dropoutInto(new Float32Array(size), null, 777, rate);
      let kept = 0;
      for (const v of mask) if (v !== 0) kept++;
      const sd = Math.sqrt(size * rate * (1 - rate));
      expect(Math.abs(kept - size * (1 - rate))).toBeLessThan(5 * sd);
    }
  });

  it("has no visible correlation between neighbours or seeds", () => {
    // P(both kept) for neighbouring entries and for the same entry under
    // seeds 1 and 2 is (1 − rate)² = 0.25 within 5 standard deviations
    const size = 100_000;
    const m1 = dropoutInto(new Float32Array(size), null, 1, 0.5);
    const m2 = dropoutInto(new Float32Array(size), null, 2, 0.5);
    let pairs = 0;
    let seeds = 0;
    for (let i = 0; i < size; i++) {
      if (m1[i] !== 0 && m1[(i + 1) % size] !== 0) pairs++;
      if (m1[i] !== 0 && m2[i] !== 0) seeds++;
    }
    const sd = Math.sqrt(size * 0.25 * 0.75);
    expect(Math.abs(pairs - size / 4)).toBeLessThan(5 * sd);
    expect(Math.abs(seeds - size / 4)).toBeLessThan(5 * sd);
  });

  it("scales the kept values of x (x may be out) and checks its inputs", () => {
    const rng = mulberry32(51);
    const x = randomArray(rng, 1000);
    const mask = dropoutInto(new Float32Array(1000), null, 9, 0.25);
    const out = dropoutInto(x.slice(), null, 9, 0.25);
    expectSameBits(out, mask);
    const inPlace = x.slice();
    dropoutInto(inPlace, inPlace, 9, 0.25);
    for (let i = 0; i < x.length; i++) {
      expect(inPlace[i]).toBe(mask[i] === 0 ? 0 : Math.fround(x[i] * mask[i]));
    }
    expect(() => dropoutInto(new Float32Array(3), null, 1, 1)).toThrow(
      ConfigError,
    );
    expect(() => dropoutInto(new Float32Array(3), null, -1, 0.5)).toThrow(
      ConfigError,
    );
    expect(() =>
      dropoutInto(new Float32Array(3), new Float32Array(2), 1, 0.5),
    ).toThrow(ShapeError);
  });

  it.skipIf(!addonBuilt)("native = TypeScript with 1, 2 and 3 threads", () => {
    const size = 3_000_001;
    const rng = mulberry32(52);
    const x = randomArray(rng, size);
    let want: Float32Array = new Float32Array(0);
    withKernels("ts", () => {
      want = dropoutInto(new Float32Array(size), x, 4242, 0.6);
    });
    withKernels("auto", () => {
      const native = nativeKernels() as NativeKernels;
      for (const level of native.simdLevels) {
        native.setSimd(level);
        for (const threads of [1, 2, 3]) {
          setKernelThreads(threads);
          expectSameBits(
            dropoutInto(new Float32Array(size), x, 4242, 0.6),
            want,
          );
        }
      }
      native.setSimd(native.simdLevels[0]);
      setKernelThreads(null);
    });
  });
});

describe.each(modes)("dropout (MPCL_KERNELS=%s)", (mode) => {
  it("draws one uniform and is reproducible from it", () => {
    withKernels(mode, () => {
      const x = tf.ones([300, 50]) as tf.Tensor2D;
      const random = mulberry32(61);
      const y1 = dropout(x, 0.5, random) as tf.Tensor2D;
      const next = random();

      // a second stream from the same seed: same mask, same position
      const again = mulberry32(61);
      const y2 = dropout(x, 0.5, again) as tf.Tensor2D;
      expect(again()).toBe(next);
      expectSameBits(
        y1.dataSync() as Float32Array,
        y2.dataSync() as Float32Array,
      );

      // the mask is the documented one for the drawn seed
      const seed = Math.floor(mulberry32(61)() * 4294967296) >>> 0;
      const mask = dropoutInto(new Float32Array(300 * 50), null, seed, 0.5);
      expectSameBits(y1.dataSync() as Float32Array, mask);
      tf.dispose([x, y1, y2]);
    });
  });

  it("is differentiable: dX = mask ⊙ dY; no leaks", () => {
    withKernels(mode, () => {
      const rng = mulberry32(62);
      const x = tf.variable(tensor2d(randomArray(rng, 40 * 9), [40, 9]));
      const r = tensor2d(randomArray(rng, 40 * 9), [40, 9]);
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(
        () =>
          tf.sum(
            tf.mul(
              r,
              dropout(
                x as unknown as tf.Tensor2D,
                0.3,
                mulberry32(5),
              ) as tf.Tensor2D,
            ),
          ) as tf.Scalar,
      );
      const seed = Math.floor(mulberry32(5)() * 4294967296) >>> 0;
      const mask = dropoutInto(new Float32Array(360), null, seed, 0.3);
      const rv = r.dataSync();
      // a dropped entry's gradient is +0, whatever the sign of dY
      const want = mask.map((v, i) => (v === 0 ? 0 : Math.fround(rv[i] * v)));
      expectSameBits(grads[x.name].dataSync() as Float32Array, want);
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, r]);
    });
  });

  it("drops stored entries of sparse features only, with the same hash", () => {
    withKernels(mode, () => {
      const dense = new Float32Array(30 * 20);
      const rng = mulberry32(63);
      for (let i = 0; i < dense.length; i++) if (rng() < 0.2) dense[i] = 3;
      const x = SparseFeatures.fromDense(dense, 30, 20);
      const y = dropout(x, 0.5, mulberry32(7)) as SparseFeatures;
      const seed = Math.floor(mulberry32(7)() * 4294967296) >>> 0;
      const mask = dropoutInto(new Float32Array(x.nnz), null, seed, 0.5);
      const kept: number[] = [];
      for (let e = 0; e < x.nnz; e++) if (mask[e] !== 0) kept.push(e);
      expect(y.nnz).toBe(kept.length);
      expect(Array.from(y.colIdx)).toEqual(kept.map((e) => x.colIdx[e]));
      expect(Array.from(y.values)).toEqual(kept.map(() => 6));
      expect(() => dropout(x, -0.1, mulberry32(1))).toThrow(ConfigError);
      expect(dropout(x, 0, mulberry32(1))).toBe(x);
    });
  });
});

// ---------------------------------------------------------------------------
// column blocks
// ---------------------------------------------------------------------------

describe("splitColumns and concatColumns", () => {
  it("split into the column blocks and back, exactly", () => {
    const rng = mulberry32(71);
    const [rows, widths] = [13, [3, 1, 4]];
    const data = randomArray(rng, rows * 8);
    const x = tensor2d(data, [rows, 8]);
    const parts = splitColumns(x, widths);
    let start = 0;
    parts.forEach((part, p) => {
      expect(part.shape).toEqual([rows, widths[p]]);
      const v = part.dataSync();
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < widths[p]; j++) {
          expect(v[i * widths[p] + j]).toBe(data[i * 8 + start + j]);
        }
      }
      start += widths[p];
    });
    const back = concatColumns(parts);
    expectSameBits(back.dataSync() as Float32Array, data);
    const equal = splitColumns(x, 4);
    expect(equal.map((t) => t.shape[1])).toEqual([2, 2, 2, 2]);
    tf.dispose([x, back, ...parts, ...equal]);
  });

  it("are differentiable: blocks of dY back, unused blocks zero", () => {
    const rng = mulberry32(72);
    const x = tf.variable(tensor2d(randomArray(rng, 6 * 6), [6, 6]));
    const r = tensor2d(randomArray(rng, 6 * 2), [6, 2]);
    const a = tf.variable(tensor2d(randomArray(rng, 6 * 1), [6, 1]));
    const r2 = tensor2d(randomArray(rng, 6 * 7), [6, 7]);
    const before = tf.memory().numTensors;

    // only the middle block [6, 2] of three reaches the loss
    const { value, grads } = tf.variableGrads(
      () =>
        tf.sum(
          tf.mul(r, splitColumns(x as unknown as tf.Tensor2D, 3)[1]),
        ) as tf.Scalar,
    );
    const g = grads[x.name].dataSync();
    const rv = r.dataSync();
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        const want = j >= 2 && j < 4 ? rv[i * 2 + j - 2] : 0;
        expect(g[i * 6 + j]).toBe(want);
      }
    }
    tf.dispose([value, ...Object.values(grads)]);

    // concat: each input gets its block of dY
    const res = tf.variableGrads(
      () =>
        tf.sum(
          tf.mul(
            r2,
            concatColumns([
              x as unknown as tf.Tensor2D,
              a as unknown as tf.Tensor2D,
            ]),
          ),
        ) as tf.Scalar,
    );
    const ga = res.grads[a.name].dataSync();
    const gx = res.grads[x.name].dataSync();
    const r2v = r2.dataSync();
    for (let i = 0; i < 6; i++) {
      expect(ga[i]).toBe(r2v[i * 7 + 6]);
      for (let j = 0; j < 6; j++) expect(gx[i * 6 + j]).toBe(r2v[i * 7 + j]);
    }
    tf.dispose([res.value, ...Object.values(res.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, r, a, r2]);
  });

  it("reject bad widths and shapes with ShapeError", () => {
    const x = tf.zeros([3, 6]) as tf.Tensor2D;
    expect(() => splitColumns(x, 4)).toThrow(ShapeError);
    expect(() => splitColumns(x, [2, 2])).toThrow(ShapeError);
    expect(() => splitColumns(x, [0, 6])).toThrow(ShapeError);
    expect(() => concatColumns([])).toThrow(ShapeError);
    const y = tf.zeros([4, 2]) as tf.Tensor2D;
    expect(() => concatColumns([x, y])).toThrow(ShapeError);
    tf.dispose([x, y]);
  });
});
