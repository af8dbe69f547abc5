// Sparse kernels: the TypeScript references against independent float64
// dense computations, and the native addon against the references, bit
// for bit, with 1, 2 and 3 threads.

import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, GraphError, ShapeError } from "../../src/errors.js";
import {
  type CSR,
  csrRows,
  edgeDot,
  edgeDotReference,
  extremeBackward,
  extremeBackwardReference,
  kernelInfo,
  segmentExtreme,
  segmentExtremeReference,
  setKernelThreads,
  spmm,
  spmmReference,
  spmmRows,
  spmmRowsReference,
} from "../../src/graph/kernels.js";
import {
  type NativeKernels,
  NativeKernelsUnavailableError,
  nativeAddonPath,
  nativeKernels,
  resetKernelSelection,
} from "../../src/graph/native.js";

/** Seeded uniform generator in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  readonly csr: CSR;
  readonly numSrc: number;
}

/**
 * A random CSR with `rows` rows over `numSrc` columns: about a fifth of
 * the rows empty, repeated columns (duplicate edges), the diagonal
 * (self-loops) where it exists, and columns sorted within a row.
 */
function randomCSR(
  rand: () => number,
  rows: number,
  numSrc: number,
  meanDegree: number,
  weighted: boolean,
): Case {
  const rowPtr = new Int32Array(rows + 1);
  const cols: number[] = [];
  for (let i = 0; i < rows; i++) {
    const row: number[] = [];
    if (rand() >= 0.2) {
      const deg = 1 + Math.floor(rand() * 2 * meanDegree);
      for (let k = 0; k < deg; k++) row.push(Math.floor(rand() * numSrc));
      if (rand() < 0.3 && i < numSrc) row.push(i);
      if (rand() < 0.3) row.push(row[0]);
    }
    row.sort((p, q) => p - q);
    cols.push(...row);
    rowPtr[i + 1] = cols.length;
  }
  const colIdx = Int32Array.from(cols);
  let weights: Float32Array | null = null;
  if (weighted) {
    weights = new Float32Array(colIdx.length);
    for (let e = 0; e < weights.length; e++) weights[e] = rand() * 2 - 0.5;
  }
  return { csr: { rowPtr, colIdx, weights }, numSrc };
}

/**
 * A random dense matrix. With `ties`, values are small integers so that
 * equal messages (ties of max/min) are common; otherwise uniform in
 * [-1, 1) with some exact zeros and negative zeros.
 */
function randomDense(rand: () => number, n: number, ties = false) {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rand();
    if (ties) x[i] = Math.floor(u * 5) - 2;
    else if (u < 0.03) x[i] = 0;
    else if (u < 0.06) x[i] = -0;
    else x[i] = rand() * 2 - 1;
  }
  return x;
}

/** Weight of entry e as a float64 (1 when unweighted). */
function w64(csr: CSR, e: number): number {
  return csr.weights === null ? 1 : csr.weights[e];
}

/** Expect |got - want| <= 1e-5 * scale (scale: the sum of |terms|). */
function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  scale: ArrayLike<number>,
): void {
  expect(got.length).toBe(want.length);
  for (let p = 0; p < want.length; p++) {
    const tol = 1e-5 * Math.max(scale[p], 1e-30);
    if (!(Math.abs(got[p] - want[p]) <= tol)) {
      expect.fail(`element ${p}: got ${got[p]}, expected ${want[p]}`);
    }
  }
}

/** Expect the same bits (NaN payloads and signed zeros included). */
function expectSameBits(
  got: Float32Array | Int32Array,
  want: Float32Array | Int32Array,
  what: string,
): void {
  expect(got.length, what).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let p = 0; p < a.length; p++) {
    if (a[p] !== b[p]) {
      expect.fail(
        `${what}: element ${p} differs: 0x${a[p].toString(16)} against ` +
          `reference 0x${b[p].toString(16)}`,
      );
    }
  }
}

// first the references, against float64 dense computations

describe("TypeScript reference kernels", () => {
  const shapes = [
    { rows: 40, numSrc: 40, d: 5, deg: 3 },
    { rows: 23, numSrc: 57, d: 1, deg: 4 },
    { rows: 64, numSrc: 17, d: 12, deg: 6 },
  ];
  const cases = shapes.flatMap((s, n) =>
    [false, true].map((weighted) => ({ ...s, weighted, seed: 100 + n })),
  );

  it.each(cases)(
    "spmm: rows $rows, d $d, weighted $weighted",
    ({ rows, numSrc, d, deg, weighted, seed }) => {
      const rand = rng(seed);
      const { csr } = randomCSR(rand, rows, numSrc, deg, weighted);
      const x = randomDense(rand, numSrc * d);

      // dense float64: out = M X with M[i][j] the summed weights
      const m = new Float64Array(rows * numSrc);
      const mAbs = new Float64Array(rows * numSrc);
      for (let i = 0; i < rows; i++) {
        for (let e = csr.rowPtr[i]; e < csr.rowPtr[i + 1]; e++) {
          m[i * numSrc + csr.colIdx[e]] += w64(csr, e);
          mAbs[i * numSrc + csr.colIdx[e]] += Math.abs(w64(csr, e));
        }
      }
      const want = new Float64Array(rows * d);
      const scale = new Float64Array(rows * d);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < numSrc; j++) {
          for (let k = 0; k < d; k++) {
            want[i * d + k] += m[i * numSrc + j] * x[j * d + k];
            scale[i * d + k] += mAbs[i * numSrc + j] * Math.abs(x[j * d + k]);
          }
        }
      }
      expectClose(spmmReference(csr, x, d), want, scale);

      // a row range leaves the other rows of `out` alone
      const out = new Float32Array(rows * d).fill(7);
      spmmRowsReference(csr, x, d, out, 3, rows - 2);
      for (let p = 0; p < rows * d; p++) {
        const i = Math.floor(p / d);
        if (i < 3 || i >= rows - 2) expect(out[p]).toBe(7);
        else if (!(Math.abs(out[p] - want[p]) <= 1e-5 * scale[p] + 1e-30)) {
          expect.fail(`spmmRows element ${p}: ${out[p]} vs ${want[p]}`);
        }
      }
    },
  );

  it.each(cases)(
    "segmentExtreme: rows $rows, d $d, weighted $weighted",
    ({ rows, numSrc, d, deg, weighted, seed }) => {
      const rand = rng(seed + 1);
      const { csr } = randomCSR(rand, rows, numSrc, deg, weighted);
      const x = randomDense(rand, numSrc * d, !weighted);
      for (const mode of ["max", "min"] as const) {
        const { out, arg } = segmentExtremeReference(csr, x, d, mode);

        // by brute force: the extreme of the messages, the first entry
        // attaining it, 0 and -1 for an empty row
        for (let i = 0; i < rows; i++) {
          for (let k = 0; k < d; k++) {
            let best = Number.NaN;
            let at = -1;
            for (let e = csr.rowPtr[i]; e < csr.rowPtr[i + 1]; e++) {
              // the messages are float32 values: compare them as such
              const v = Math.fround(w64(csr, e) * x[csr.colIdx[e] * d + k]);
              const better = mode === "max" ? v > best : v < best;
              if (at < 0 || better) {
                best = v;
                at = e;
              }
            }
            const p = i * d + k;
            expect(arg[p]).toBe(at);
            if (at < 0) expect(out[p]).toBe(0);
            else
              expect(Math.abs(out[p] - best)).toBeLessThanOrEqual(
                1e-5 * Math.abs(best),
              );
          }
        }
      }
    },
  );

  it("segmentExtreme: ties go to the first entry in CSR order", () => {
    // the three entries of row 0 carry the same message (4, -1)
    const csr: CSR = {
      rowPtr: Int32Array.from([0, 3]),
      colIdx: Int32Array.from([0, 1, 2]),
      weights: null,
    };
    const x = Float32Array.from([4, -1, 4, -1, 4, -1]);
    const max = segmentExtremeReference(csr, x, 2, "max");
    expect(Array.from(max.arg)).toEqual([0, 0]);
    const min = segmentExtremeReference(csr, x, 2, "min");
    expect(Array.from(min.arg)).toEqual([0, 0]);
    expect(Array.from(min.out)).toEqual([4, -1]);
  });

  it.each(cases)(
    "edgeDot: rows $rows, d $d, weighted $weighted",
    ({ rows, numSrc, d, deg, weighted, seed }) => {
      const rand = rng(seed + 2);
      const { csr } = randomCSR(rand, rows, numSrc, deg, weighted);
      const a = randomDense(rand, rows * d);
      const b = randomDense(rand, numSrc * d);
      const dots = edgeDotReference(csr, a, b, d);
      const want = new Float64Array(csr.colIdx.length);
      const scale = new Float64Array(csr.colIdx.length);
      for (let i = 0; i < rows; i++) {
        for (let e = csr.rowPtr[i]; e < csr.rowPtr[i + 1]; e++) {
          for (let k = 0; k < d; k++) {
            const t = a[i * d + k] * b[csr.colIdx[e] * d + k];
            want[e] += t;
            scale[e] += Math.abs(t);
          }
        }
      }
      expectClose(dots, want, scale);
    },
  );

  it.each(cases)(
    "extremeBackward is the gradient of segmentExtreme: rows $rows, " +
      "d $d, weighted $weighted",
    ({ rows, numSrc, d, deg, weighted, seed }) => {
      const rand = rng(seed + 3);
      const { csr } = randomCSR(rand, rows, numSrc, deg, weighted);
      const x = randomDense(rand, numSrc * d);
      const dy = randomDense(rand, rows * d);
      const { arg } = segmentExtremeReference(csr, x, d, "max");
      const { dx, dw } = extremeBackwardReference(csr, arg, x, dy, d, numSrc);

      // L = Σ dy ⊙ max: dL/dx[j, k] = Σ_i [winner of (i, k) reads j] w dy,
      // dL/dw_e = Σ_k [e wins (i, k)] x[col_e, k] dy[i, k]
      const wantDx = new Float64Array(numSrc * d);
      const scaleDx = new Float64Array(numSrc * d);
      const wantDw = new Float64Array(csr.colIdx.length);
      const scaleDw = new Float64Array(csr.colIdx.length);
      for (let i = 0; i < rows; i++) {
        for (let e = csr.rowPtr[i]; e < csr.rowPtr[i + 1]; e++) {
          const j = csr.colIdx[e];
          for (let k = 0; k < d; k++) {
            if (arg[i * d + k] !== e) continue;
            const g = dy[i * d + k];
            wantDx[j * d + k] += w64(csr, e) * g;
            scaleDx[j * d + k] += Math.abs(w64(csr, e) * g);
            wantDw[e] += x[j * d + k] * g;
            scaleDw[e] += Math.abs(x[j * d + k] * g);
          }
        }
      }
      expectClose(dx, wantDx, scaleDx);
      if (weighted) expectClose(dw as Float32Array, wantDw, scaleDw);
      else expect(dw).toBeNull();
    },
  );

  it("handles zero rows, zero features and an empty graph", () => {
    const none: CSR = {
      rowPtr: new Int32Array(1),
      colIdx: new Int32Array(0),
      weights: null,
    };
    expect(spmmReference(none, new Float32Array(6), 3).length).toBe(0);
    const empty: CSR = {
      rowPtr: new Int32Array(4),
      colIdx: new Int32Array(0),
      weights: new Float32Array(0),
    };
    expect(Array.from(spmmReference(empty, new Float32Array(6), 2))).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
    const { arg } = segmentExtremeReference(
      empty,
      new Float32Array(6),
      2,
      "max",
    );
    expect(Array.from(arg)).toEqual([-1, -1, -1, -1, -1, -1]);
    expect(csrRows(empty)).toBe(3);
  });
});

// then the native addon against the references, bit for bit

const addonBuilt = existsSync(nativeAddonPath());
if (!addonBuilt) {
  // NOTE: visible on purpose: the bit-identity suite below is skipped
  process.stderr.write(
    `kernels.test: native addon not built (${nativeAddonPath()}); the ` +
      "native bit-identity tests are skipped. Build it with " +
      "npm run build:native\n",
  );
}

describe("kernel selection", () => {
  it("falls back to TypeScript without the addon, unless insisted on", () => {
    const saved = { ...process.env };
    process.env.MPCL_NATIVE_ADDON = "/nonexistent/mpcl_kernels.node";
    delete process.env.MPCL_KERNELS;
    try {
      resetKernelSelection();
      const info = kernelInfo();
      expect(info.implementation).toBe("typescript");
      expect(info.reason).toContain("/nonexistent/mpcl_kernels.node");

      // the TypeScript path gives the same bits
      const rand = rng(5);
      const { csr } = randomCSR(rand, 300, 300, 6, true);
      const x = randomDense(rand, 300 * 8);
      expectSameBits(spmm(csr, x, 8), spmmReference(csr, x, 8), "spmm");

      process.env.MPCL_KERNELS = "native";
      resetKernelSelection();
      expect(() => spmm(csr, x, 8)).toThrow(NativeKernelsUnavailableError);
    } finally {
      for (const name of ["MPCL_NATIVE_ADDON", "MPCL_KERNELS"]) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
      resetKernelSelection();
    }
  });
});

describe("native addon availability", () => {
  it("is built wherever CI runs the tests", () => {
    // a CI run without the addon would skip the comparisons below
    if (process.env.CI) expect(addonBuilt).toBe(true);
  });
});

describe.skipIf(!addonBuilt)("native kernels are bit-identical", () => {
  const saved = {
    kernels: process.env.MPCL_KERNELS,
    threads: process.env.MPCL_THREADS,
  };
  beforeAll(() => {
    delete process.env.MPCL_KERNELS;
    delete process.env.MPCL_THREADS;
    resetKernelSelection();
    expect(kernelInfo().implementation).toBe("native");
  });
  afterAll(() => {
    if (saved.kernels === undefined) delete process.env.MPCL_KERNELS;
    else process.env.MPCL_KERNELS = saved.kernels;
    if (saved.threads === undefined) delete process.env.MPCL_THREADS;
    else process.env.MPCL_THREADS = saved.threads;
    resetKernelSelection();
  });

  // small shapes hit every tile width (32, 16, 8, 4, 1 columns); the
  // large ones carry enough work to be split over threads (about 500,000
  // multiply-adds per thread)
  const shapes = [
    { rows: 50, numSrc: 50, d: 1, deg: 4 },
    { rows: 37, numSrc: 80, d: 3, deg: 5 },
    { rows: 60, numSrc: 20, d: 13, deg: 3 },
    { rows: 45, numSrc: 45, d: 77, deg: 4 },
    { rows: 3000, numSrc: 2500, d: 64, deg: 8 },
    { rows: 4000, numSrc: 4000, d: 40, deg: 6 },
    // enough rows for the edge-weight gradient to be split too
    { rows: 20000, numSrc: 15000, d: 64, deg: 4 },
  ];
  const cases = shapes.flatMap((s, n) =>
    [false, true].map((weighted) => ({ ...s, weighted, seed: 500 + n })),
  );

  /** Every SIMD variant with 1 thread, the best one with 2 and 3. */
  function variants(native: NativeKernels): [string, number][] {
    const best = native.simdLevels[0];
    return [
      ...native.simdLevels.map((level): [string, number] => [level, 1]),
      [best, 2],
      [best, 3],
    ];
  }

  it.each(cases)(
    "every kernel, every SIMD variant, 1-3 threads: rows $rows, d $d, " +
      "weighted $weighted",
    ({ rows, numSrc, d, deg, weighted, seed }) => {
      const rand = rng(seed);
      const { csr } = randomCSR(rand, rows, numSrc, deg, weighted);
      const x = randomDense(rand, numSrc * d, seed % 2 === 0);
      const a = randomDense(rand, rows * d);
      const dy = randomDense(rand, rows * d);

      const ref = {
        spmm: spmmReference(csr, x, d),
        max: segmentExtremeReference(csr, x, d, "max"),
        min: segmentExtremeReference(csr, x, d, "min"),
        dots: edgeDotReference(csr, a, x, d),
      };
      const back = extremeBackwardReference(csr, ref.max.arg, x, dy, d, numSrc);
      const native = nativeKernels()!;
      for (const [simd, threads] of variants(native)) {
        expect(native.setSimd(simd)).toBe(true);
        setKernelThreads(threads);
        const t = ` (${simd}, ${threads} threads)`;
        expectSameBits(spmm(csr, x, d), ref.spmm, `spmm${t}`);
        const max = segmentExtreme(csr, x, d, "max");
        expectSameBits(max.out, ref.max.out, `max${t}`);
        expectSameBits(max.arg, ref.max.arg, `max arg${t}`);
        const min = segmentExtreme(csr, x, d, "min");
        expectSameBits(min.out, ref.min.out, `min${t}`);
        expectSameBits(min.arg, ref.min.arg, `min arg${t}`);
        expectSameBits(edgeDot(csr, a, x, d), ref.dots, `edgeDot${t}`);
        const got = extremeBackward(csr, max.arg, x, dy, d, numSrc);
        expectSameBits(got.dx, back.dx, `extremeBackward dx${t}`);
        if (weighted) {
          expectSameBits(
            got.dw as Float32Array,
            back.dw as Float32Array,
            `extremeBackward dw${t}`,
          );
        } else {
          expect(got.dw).toBeNull();
        }
      }
      setKernelThreads(null);
      native.setSimd(native.simdLevels[0]);
    },
  );

  it("spmmRows writes only its rows, as the reference", () => {
    const rand = rng(77);
    const { csr } = randomCSR(rand, 900, 700, 10, true);
    const d = 24;
    const x = randomDense(rand, 700 * d);
    const want = new Float32Array(900 * d).fill(-3);
    spmmRowsReference(csr, x, d, want, 120, 777);
    for (const threads of [1, 2]) {
      setKernelThreads(threads);
      const got = new Float32Array(900 * d).fill(-3);
      spmmRows(csr, x, d, got, 120, 777);
      expectSameBits(got, want, `spmmRows (${threads} threads)`);
    }
    setKernelThreads(null);
  });

  it("non-finite inputs give the same bits", () => {
    const rand = rng(91);
    const { csr } = randomCSR(rand, 200, 150, 5, true);
    const d = 9;
    const x = randomDense(rand, 150 * d);
    const special = [Number.NaN, Number.POSITIVE_INFINITY, -Infinity];
    for (let p = 0; p < x.length; p += 7) x[p] = special[p % 3];
    const native = nativeKernels()!;
    for (const simd of native.simdLevels) {
      native.setSimd(simd);
      const sum = spmm(csr, x, d);
      expectSameBits(sum, spmmReference(csr, x, d), `spmm (${simd})`);
      for (const mode of ["max", "min"] as const) {
        const got = segmentExtreme(csr, x, d, mode);
        const want = segmentExtremeReference(csr, x, d, mode);
        expectSameBits(got.out, want.out, `${mode} (${simd})`);
        expectSameBits(got.arg, want.arg, `${mode} arg (${simd})`);
      }
    }
    native.setSimd(native.simdLevels[0]);
  });

  it("offers the baseline variant and refuses unknown ones", () => {
    const native = nativeKernels()!;
    expect(native.simdLevels).toContain("baseline");
    expect(native.simd()).toBe(native.simdLevels[0]);
    expect(native.setSimd("avx9000")).toBe(false);
    expect(native.simd()).toBe(native.simdLevels[0]);
  });

  it("rejects invalid CSR input with typed errors", () => {
    const x = new Float32Array(4 * 2);
    const badCol: CSR = {
      rowPtr: Int32Array.from([0, 2, 3]),
      colIdx: Int32Array.from([0, 9, 1]),
      weights: null,
    };
    expect(() => spmm(badCol, x, 2)).toThrow(GraphError);
    expect(() => segmentExtreme(badCol, x, 2, "max")).toThrow(GraphError);
    expect(() => edgeDot(badCol, x, x, 2)).toThrow(GraphError);
    const badPtr: CSR = {
      rowPtr: Int32Array.from([0, 5, 3]),
      colIdx: Int32Array.from([0, 1, 1]),
      weights: null,
    };
    expect(() => spmm(badPtr, x, 2)).toThrow(GraphError);
    const good: CSR = {
      rowPtr: Int32Array.from([0, 2, 3]),
      colIdx: Int32Array.from([0, 3, 1]),
      weights: null,
    };
    expect(() => spmm(good, x, 2, new Float32Array(3))).toThrow(ShapeError);
    const arg = Int32Array.from([0, 2, 2, 2]);
    expect(() => extremeBackward(good, arg, x, x, 2, 4)).toThrow(GraphError);
  });

  it("reads MPCL_KERNELS and MPCL_THREADS", () => {
    process.env.MPCL_KERNELS = "ts";
    resetKernelSelection();
    expect(nativeKernels()).toBeNull();
    expect(kernelInfo()).toMatchObject({
      implementation: "typescript",
      threads: 1,
    });

    process.env.MPCL_KERNELS = "native";
    process.env.MPCL_THREADS = "3";
    resetKernelSelection();
    expect(kernelInfo()).toMatchObject({
      implementation: "native",
      threads: 3,
    });

    process.env.MPCL_THREADS = "zero";
    expect(() => kernelInfo()).toThrow(ConfigError);
    delete process.env.MPCL_THREADS;
    expect(() => setKernelThreads(0)).toThrow(ConfigError);

    process.env.MPCL_KERNELS = "fortran";
    resetKernelSelection();
    expect(() => nativeKernels()).toThrow(ConfigError);
    delete process.env.MPCL_KERNELS;
    resetKernelSelection();
  });
});
