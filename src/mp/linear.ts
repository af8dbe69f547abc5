/**
 * Dense and sparse feature products and input dropout, the first step of
 * almost every GNN layer (`X W` before propagation, as in Kipf & Welling
 * 2017 and Veličković et al. 2018), and the dense products of contrastive
 * objectives (similarity matrices `F Fᵀ`, their gradients `S F`).
 *
 * Node features come either as a dense float32 tensor or as
 * {@link SparseFeatures} (CSR rows, e.g. the binary bag-of-words of Cora and
 * CiteSeer, 1 % dense). `matMul(x, w)` is differentiable in `w` for both
 * and in `x` when it is dense; `denseMatMul(a, b, {transposeA,
 * transposeB})` is the general differentiable dense product.
 *
 * Dense products run on the native addon of `graph/native.ts` when it is
 * loaded (`gemm`: register-blocked, AVX2/FMA or baseline vectors, rows of
 * the result split over threads; the design of Goto & van de Geijn 2008)
 * as a TF.js kernel of its own that reads and writes the backend's memory
 * in place and whose gradient is computed only for the inputs that need
 * one (a constant `x` gets no `dX`). Without the addon (or with
 * `MPCL_KERNELS=ts`) they run TF.js's `matMul` with explicit transposes
 * (the transposeA/transposeB flags of the WASM backend run 10-50× slower).
 * The typed-array functions `gemm`, `gemmTN`, `gemmNT` and `gemmInto`
 * serve code that works outside tensors; `gemmReference` is the plain loop
 * that defines the baseline variant's bits.
 *
 * `dropout` draws one 32-bit seed from mpcl's random source and derives
 * the mask from a counter-based hash of (entry index, seed), natively or
 * in TypeScript with the same bits.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import { spmm } from "../graph/kernels.js";
import {
  kernelThreads,
  type NativeKernels,
  NativeStatus,
  nativeKernels,
} from "../graph/native.js";
import type { Random } from "../random.js";
import { transposeCSR } from "./segment.js";

/**
 * A constant sparse feature matrix `[rows, cols]` in CSR form. It is data,
 * not a parameter: no gradient flows into it.
 */
export class SparseFeatures {
  /** Row pointers, length rows + 1. */
  readonly rowPtr: Int32Array;
  /** Column of each stored entry, sorted within a row. */
  readonly colIdx: Int32Array;
  /** Value of each stored entry. */
  readonly values: Float32Array;
  readonly rows: number;
  readonly cols: number;
  #transposed: SparseFeatures | null = null;

  constructor(
    rowPtr: Int32Array,
    colIdx: Int32Array,
    values: Float32Array,
    rows: number,
    cols: number,
  ) {
    const fn = "SparseFeatures";
    if (rowPtr.length !== rows + 1 || rowPtr[0] !== 0) {
      throw new ShapeError(
        `${fn}: rowPtr must have rows + 1 = ${rows + 1} entries starting at 0, got ${rowPtr.length}`,
      );
    }
    const nnz = rowPtr[rows];
    if (colIdx.length !== nnz || values.length !== nnz) {
      throw new ShapeError(
        `${fn}: colIdx and values must hold rowPtr[rows] = ${nnz} entries, got ${colIdx.length} and ${values.length}`,
      );
    }
    for (let e = 0; e < nnz; e++) {
      if (!(colIdx[e] >= 0 && colIdx[e] < cols)) {
        throw new ShapeError(
          `${fn}: colIdx[${e}] must lie in [0, ${cols}), got ${colIdx[e]}`,
        );
      }
    }
    this.rowPtr = rowPtr;
    this.colIdx = colIdx;
    this.values = values;
    this.rows = rows;
    this.cols = cols;
  }

  /** The non-zero entries of a row-major dense matrix. */
  static fromDense(
    data: ArrayLike<number>,
    rows: number,
    cols: number,
  ): SparseFeatures {
    if (data.length !== rows * cols) {
      throw new ShapeError(
        `SparseFeatures.fromDense: expected ${rows} × ${cols} = ${rows * cols} values, got ${data.length}`,
      );
    }
    const rowPtr = new Int32Array(rows + 1);
    let nnz = 0;
    for (let i = 0; i < data.length; i++) if (data[i] !== 0) nnz++;
    const colIdx = new Int32Array(nnz);
    const values = new Float32Array(nnz);
    let e = 0;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = data[i * cols + j];
        if (v !== 0) {
          colIdx[e] = j;
          values[e] = v;
          e++;
        }
      }
      rowPtr[i + 1] = e;
    }
    return new SparseFeatures(rowPtr, colIdx, values, rows, cols);
  }

  /** Number of stored entries. */
  get nnz(): number {
    return this.colIdx.length;
  }

  /** The transpose `[cols, rows]`, computed once and cached. */
  transpose(): SparseFeatures {
    if (this.#transposed === null) {
      const t = transposeCSR(this.rowPtr, this.colIdx, this.cols);
      const values = new Float32Array(this.nnz);
      for (let k = 0; k < values.length; k++) {
        values[k] = this.values[t.edgeIds[k]];
      }
      this.#transposed = new SparseFeatures(
        t.colPtr,
        t.rowIdx,
        values,
        this.cols,
        this.rows,
      );
    }
    return this.#transposed;
  }

  /** A dense float32 tensor `[rows, cols]` (the caller owns it). */
  toDense(): tf.Tensor2D {
    const out = new Float32Array(this.rows * this.cols);
    for (let i = 0; i < this.rows; i++) {
      for (let e = this.rowPtr[i]; e < this.rowPtr[i + 1]; e++) {
        out[i * this.cols + this.colIdx[e]] += this.values[e];
      }
    }
    return tf.tensor2d(out, [this.rows, this.cols]);
  }
}

/** Node features: dense `[N, d]` or sparse. */
export type NodeFeatures = tf.Tensor2D | SparseFeatures;

/** `[rows, cols]` of dense or sparse features. */
export function featureShape(x: NodeFeatures): [number, number] {
  return x instanceof SparseFeatures
    ? [x.rows, x.cols]
    : [x.shape[0], x.shape[1]];
}

/** A dense tensor for `x` (a new tensor for sparse input, else `x`). */
export function denseFeatures(x: NodeFeatures): tf.Tensor2D {
  return x instanceof SparseFeatures ? x.toDense() : x;
}

// ---------------------------------------------------------------------------
// dense products on typed arrays
// ---------------------------------------------------------------------------

/** Options of {@link gemmInto} and {@link gemmReference}. */
export interface GemmOptions {
  /** `a` holds op(A) transposed, `[k, m]` (default false: `[m, k]`). */
  transposeA?: boolean;
  /** `b` holds op(B) transposed, `[n, k]` (default false: `[k, n]`). */
  transposeB?: boolean;
  /** Add the product to `c` instead of overwriting it (default false). */
  accumulate?: boolean;
}

/** Check the sizes of a typed-array product; `fn` names the caller. */
function checkGemm(
  fn: string,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
): void {
  for (const [name, v] of [
    ["m", m],
    ["n", n],
    ["k", k],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) {
      throw new ShapeError(
        `${fn}: ${name} must be a non-negative integer, got ${v}`,
      );
    }
  }
  for (const [name, arr, size] of [
    ["a", a, m * k],
    ["b", b, k * n],
    ["c", c, m * n],
  ] as const) {
    if (arr.length !== size) {
      throw new ShapeError(
        `${fn}: ${name} must hold ${size} values for m = ${m}, n = ${n}, ` +
          `k = ${k}, got ${arr.length}`,
      );
    }
  }
}

/**
 * The plain TypeScript product `C (+)= op(A) · op(B)` (see
 * {@link gemmInto} for the layouts): for every element, one chain
 * `c ← c + a_p · b_p` over p = 0 … k − 1 in order, starting from 0 (or
 * from `c` when accumulating), with the product and the sum each rounded
 * to float32. These are the bits of the native `baseline` variant; the
 * `avx2` variant fuses each multiply-add and differs by rounding only.
 * Writes into `c` and returns it.
 *
 * @throws ShapeError when a size is negative or an array's length is not
 *   the product of its dimensions.
 */
export function gemmReference(
  c: Float32Array,
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  options: GemmOptions = {},
): Float32Array {
  checkGemm("gemmReference", a, b, c, m, n, k);
  const { transposeA = false, transposeB = false } = options;
  const fround = Math.fround;

  // op(A)(i, p) = a[i * ars + p * acs], op(B)(p, j) = b[p * brs + j * bcs]
  const ars = transposeA ? 1 : k;
  const acs = transposeA ? m : 1;
  const brs = transposeB ? 1 : n;
  const bcs = transposeB ? k : 1;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = options.accumulate ? c[i * n + j] : 0;
      for (let p = 0; p < k; p++) {
        s = fround(s + fround(a[i * ars + p * acs] * b[p * brs + j * bcs]));
      }
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Turn a native status into the error it stands for. */
function checkStatus(fn: string, status: number): void {
  if (status === NativeStatus.ok) return;
  if (status === NativeStatus.noMemory) {
    throw new RangeError(`${fn}: the native kernel ran out of memory`);
  }
  throw new ShapeError(`${fn}: the native kernel rejected the sizes`);
}

/**
 * The dense product `C (+)= op(A) · op(B)` on row-major float32 arrays:
 * op(A) is `[m, k]` (`a` holds `[m, k]`, or `[k, m]` with `transposeA`),
 * op(B) is `[k, n]` (`b` holds `[k, n]`, or `[n, k]` with `transposeB`),
 * `c` is `[m, n]`. Runs the native addon when it is loaded (threads own
 * disjoint rows of C, so the bits do not depend on the thread count),
 * else {@link gemmReference} (about 1 GFLOP/s: for tests and small
 * products). Writes into `c` and returns it.
 *
 * @throws ShapeError when a size is negative or an array's length is not
 *   the product of its dimensions.
 */
export function gemmInto(
  c: Float32Array,
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  options: GemmOptions = {},
): Float32Array {
  const native = nativeKernels();
  if (native === null) return gemmReference(c, a, b, m, n, k, options);
  checkGemm("gemmInto", a, b, c, m, n, k);
  const status = native.gemm(
    a,
    b,
    c,
    m,
    n,
    k,
    options.transposeA ? 1 : 0,
    options.transposeB ? 1 : 0,
    options.accumulate ? 1 : 0,
    kernelThreads(),
  );
  checkStatus("gemmInto", status);
  return c;
}

/** `C = A · B` for A `[m, k]`, B `[k, n]`: a new `[m, n]` array. */
export function gemm(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
): Float32Array {
  return gemmInto(new Float32Array(m * n), a, b, m, n, k);
}

/**
 * `Aᵀ G` for A `[m, k]`, G `[m, n]`: a new `[k, n]` array (the weight
 * gradient `dW = Xᵀ dY` of `Y = X W`). Rows of the result are split over
 * threads, so every sum over the m rows keeps one order.
 */
export function gemmTN(
  a: Float32Array,
  g: Float32Array,
  m: number,
  k: number,
  n: number,
): Float32Array {
  return gemmInto(new Float32Array(k * n), a, g, k, n, m, {
    transposeA: true,
  });
}

/**
 * `G Bᵀ` for G `[m, n]`, B `[k, n]`: a new `[m, k]` array (the input
 * gradient `dX = dY Wᵀ` of `Y = X W`, with W `[k, n]`).
 */
export function gemmNT(
  g: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
): Float32Array {
  return gemmInto(new Float32Array(m * k), g, b, m, k, n, {
    transposeB: true,
  });
}

// ---------------------------------------------------------------------------
// counter-based dropout masks on typed arrays
// ---------------------------------------------------------------------------

/** A 32-bit integer hash with full avalanche ("lowbias32", C. Wellons). */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The key derived from a dropout seed (the addon's `Mix32(seed ^ c)`). */
function dropoutKey(seed: number): number {
  return mix32((seed ^ 0x85ebca6b) >>> 0);
}

/** Random bits of entry i: `mix32(mix32(i · φ + seed) ^ key)`. */
function dropoutBits(i: number, seed: number, key: number): number {
  return mix32((mix32((Math.imul(i, 0x9e3779b9) + seed) >>> 0) ^ key) >>> 0);
}

/** The uint32 threshold below which an entry is dropped. */
function dropoutThreshold(rate: number): number {
  return Math.min(Math.floor(rate * 4294967296), 4294967295);
}

/** Check a dropout rate; `fn` names the caller. */
function checkRate(fn: string, rate: number): void {
  if (!(rate >= 0 && rate < 1)) {
    throw new ConfigError(`${fn}: rate must lie in [0, 1), got ${rate}`);
  }
}

/**
 * Inverted dropout on a typed array: `out[i] = x[i] / (1 − rate)` when the
 * 32-bit hash of `(i, seed)` is at least `rate · 2³²`, else 0 (`x` null:
 * the mask itself, `1 / (1 − rate)` or 0). The hash is a counter-based
 * generator (two rounds of the lowbias32 integer hash over the index and
 * the seed), so any entry's decision is computed on its own: the native
 * addon and this TypeScript loop give the same bits, with any number of
 * threads. `x` may be `out`. Writes into `out` and returns it.
 *
 * LIMITATION: indices wrap at 2³², so arrays of more than 4 billion
 * entries repeat their mask.
 *
 * @throws ConfigError unless 0 ≤ rate < 1 and `seed` is a uint32.
 * @throws ShapeError when `x` is shorter than `out`.
 */
export function dropoutInto(
  out: Float32Array,
  x: Float32Array | null,
  seed: number,
  rate: number,
): Float32Array {
  const fn = "dropoutInto";
  checkRate(fn, rate);
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 4294967295)) {
    throw new ConfigError(`${fn}: seed must be a uint32, got ${seed}`);
  }
  if (x !== null && x.length < out.length) {
    throw new ShapeError(
      `${fn}: x must hold at least out's ${out.length} values, got ${x.length}`,
    );
  }
  const threshold = dropoutThreshold(rate);
  const scale = Math.fround(1 / (1 - rate));
  const native = nativeKernels();
  if (native !== null) {
    checkStatus(
      fn,
      native.dropout(x, out, seed, threshold, scale, kernelThreads()),
    );
    return out;
  }
  const key = dropoutKey(seed);
  const fround = Math.fround;
  for (let i = 0; i < out.length; i++) {
    const keep = dropoutBits(i, seed, key) >= threshold;
    out[i] = keep ? (x === null ? scale : fround(x[i] * scale)) : 0;
  }
  return out;
}

// ---------------------------------------------------------------------------
// TF.js kernels over the native products and the dropout hash
// ---------------------------------------------------------------------------

const MATMUL_KERNEL = "MpclDenseMatMul";
const DROPOUT_KERNEL = "MpclDropout";
const SPLIT_KERNEL = "MpclSplitColumns";
const CONCAT_KERNEL = "MpclConcatColumns";

/** The parts of the WASM backend used to work on its memory in place. */
interface HeapBackend {
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

/** The part of the CPU backend that holds a tensor's values. */
interface ValuesBackend {
  data: { get(dataId: object): { values?: unknown } | undefined };
}

/**
 * The float32 values of a tensor, in place where the backend allows it
 * (WASM heap view, CPU array), else a copy. A WASM view lives until the
 * next allocation in the backend: take it after allocating the output.
 */
function hostValues(backend: tf.KernelBackend, info: tf.TensorInfo) {
  const heap = backend as unknown as Partial<HeapBackend>;
  if (typeof heap.typedArrayFromHeap === "function") {
    return heap.typedArrayFromHeap(info);
  }
  const cpu = backend as unknown as Partial<ValuesBackend>;
  const values = cpu.data?.get?.(info.dataId)?.values;
  if (values instanceof Float32Array) return values;
  return backend.readSync(info.dataId) as Float32Array;
}

/**
 * A new float32 tensor of `shape` whose values `fill` writes (in the WASM
 * heap directly where it can); disposed again when `fill` throws.
 */
function makeOutput(
  backend: tf.KernelBackend,
  shape: number[],
  fill: (out: Float32Array) => void,
): tf.TensorInfo {
  const size = shape.reduce((s, d) => s * d, 1);
  const heap = backend as unknown as Partial<HeapBackend>;
  if (
    size > 0 &&
    typeof heap.makeOutput === "function" &&
    typeof heap.typedArrayFromHeap === "function"
  ) {
    const info = heap.makeOutput(shape, "float32");
    try {
      fill(heap.typedArrayFromHeap(info));
    } catch (err) {
      backend.disposeData(info.dataId);
      throw err;
    }
    return info;
  }
  const values = new Float32Array(size);
  fill(values);
  return {
    dataId: backend.write(values, shape, "float32"),
    shape,
    dtype: "float32",
  };
}

/** The shapes of `op(A) · op(B)`: [m, n, k]. */
function productDims(
  a: readonly number[],
  b: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): [number, number, number] {
  const m = transposeA ? a[1] : a[0];
  const k = transposeA ? a[0] : a[1];
  const n = transposeB ? b[0] : b[1];
  return [m, n, k];
}

/** The native product kernel (registered only where the addon loads). */
function matMulKernel(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const a = args.inputs.a as tf.TensorInfo;
  const b = args.inputs.b as tf.TensorInfo;
  const transposeA = args.attrs?.transposeA === true;
  const transposeB = args.attrs?.transposeB === true;
  const [m, n, k] = productDims(a.shape, b.shape, transposeA, transposeB);
  const native = nativeKernels() as NativeKernels;
  return makeOutput(args.backend, [m, n], (out) => {
    const status = native.gemm(
      hostValues(args.backend, a),
      hostValues(args.backend, b),
      out,
      m,
      n,
      k,
      transposeA ? 1 : 0,
      transposeB ? 1 : 0,
      0,
      kernelThreads(),
    );
    checkStatus("denseMatMul", status);
  });
}

/** The dropout kernel: the hash mask applied to `x` (native or TS). */
function dropoutKernel(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const seed = args.attrs?.seed as number;
  const rate = args.attrs?.rate as number;
  return makeOutput(args.backend, [...x.shape], (out) => {
    dropoutInto(out, hostValues(args.backend, x), seed, rate);
  });
}

/**
 * New float32 tensors of `shapes` whose values `fill` writes (in the WASM
 * heap directly where it can: every output is allocated before any view
 * is taken); disposed again when `fill` throws.
 */
function makeOutputs(
  backend: tf.KernelBackend,
  shapes: number[][],
  fill: (outs: Float32Array[]) => void,
): tf.TensorInfo[] {
  const heap = backend as unknown as Partial<HeapBackend>;
  const sizes = shapes.map((shape) => shape.reduce((s, d) => s * d, 1));
  if (
    typeof heap.makeOutput === "function" &&
    typeof heap.typedArrayFromHeap === "function" &&
    sizes.every((size) => size > 0)
  ) {
    const infos = shapes.map((shape) =>
      (heap as HeapBackend).makeOutput(shape, "float32"),
    );
    try {
      fill(infos.map((info) => (heap as HeapBackend).typedArrayFromHeap(info)));
    } catch (err) {
      for (const info of infos) backend.disposeData(info.dataId);
      throw err;
    }
    return infos;
  }
  const values = sizes.map((size) => new Float32Array(size));
  fill(values);
  return shapes.map((shape, i) => ({
    dataId: backend.write(values[i], shape, "float32"),
    shape,
    dtype: "float32",
  }));
}

/** Split `[rows, Σ widths]` into column blocks of the given widths. */
function splitKernel(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  const widths = args.attrs?.widths as number[];
  const [rows, total] = x.shape;
  const shapes = widths.map((w) => [rows, w]);
  return makeOutputs(args.backend, shapes, (outs) => {
    const src = hostValues(args.backend, x);
    let start = 0;
    for (let part = 0; part < outs.length; part++) {
      const out = outs[part];
      const w = widths[part];
      for (let i = 0; i < rows; i++) {
        const from = i * total + start;
        const to = i * w;
        for (let j = 0; j < w; j++) out[to + j] = src[from + j];
      }
      start += w;
    }
  });
}

/** Concatenate `[rows, w_i]` tensors `x0, x1, …` along the columns. */
function concatKernel(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
}): tf.TensorInfo {
  const parts = Object.keys(args.inputs).length;
  const xs: tf.TensorInfo[] = [];
  for (let p = 0; p < parts; p++) {
    xs.push(args.inputs[`x${p}`] as tf.TensorInfo);
  }
  const rows = xs[0].shape[0];
  const total = xs.reduce((s, x) => s + x.shape[1], 0);
  return makeOutputs(args.backend, [[rows, total]], ([out]) => {
    let start = 0;
    for (const x of xs) {
      const src = hostValues(args.backend, x);
      const w = x.shape[1];
      for (let i = 0; i < rows; i++) {
        const from = i * w;
        const to = i * total + start;
        for (let j = 0; j < w; j++) out[to + j] = src[from + j];
      }
      start += w;
    }
  })[0];
}

/**
 * Gradient of `C = op(A) op(B)` with respect to A and B, as thunks: TF.js
 * calls only those of inputs that lead to what is differentiated, so a
 * constant input costs nothing. Each is again one product (no transposed
 * copy): for (N, N) `dA = dC Bᵀ`, `dB = Aᵀ dC`; (T, N) `dA = B dCᵀ`,
 * `dB = A dC`; (N, T) `dA = dC B`, `dB = dCᵀ A`; (T, T) `dA = Bᵀ dCᵀ`,
 * `dB = dCᵀ Aᵀ`.
 */
function productGradients(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  dc: tf.Tensor2D,
  transposeA: boolean,
  transposeB: boolean,
  product: ProductFn,
): { a: () => tf.Tensor2D; b: () => tf.Tensor2D } {
  if (!transposeA && !transposeB) {
    return {
      a: () => product(dc, b, false, true),
      b: () => product(a, dc, true, false),
    };
  }
  if (transposeA && !transposeB) {
    return {
      a: () => product(b, dc, false, true),
      b: () => product(a, dc, false, false),
    };
  }
  if (!transposeA && transposeB) {
    return {
      a: () => product(dc, b, false, false),
      b: () => product(dc, a, true, false),
    };
  }
  return {
    a: () => product(b, dc, true, true),
    b: () => product(dc, a, true, true),
  };
}

type ProductFn = (
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  transposeA: boolean,
  transposeB: boolean,
) => tf.Tensor2D;

let gradientsRegistered = false;
const kernelBackends = new Set<string>();

/** Register mpcl's kernels for the active backend (once per backend). */
function ensureKernels(): void {
  if (!gradientsRegistered) {
    tf.registerGradient({
      kernelName: MATMUL_KERNEL,
      inputsToSave: ["a", "b"],
      gradFunc: (dy, saved, attrs) => {
        const [a, b] = saved as tf.Tensor2D[];
        return productGradients(
          a,
          b,
          dy as tf.Tensor2D,
          attrs?.transposeA === true,
          attrs?.transposeB === true,
          nativeProduct,
        );
      },
    });
    tf.registerGradient({
      kernelName: DROPOUT_KERNEL,
      gradFunc: (dy, _saved, attrs) => ({
        x: () =>
          runDropout(
            dy as tf.Tensor,
            attrs?.seed as number,
            attrs?.rate as number,
          ),
      }),
    });
    tf.registerGradient({
      kernelName: SPLIT_KERNEL,
      gradFunc: (dys) => ({
        x: () => runConcat(Array.isArray(dys) ? dys : [dys]),
      }),
    });
    tf.registerGradient({
      kernelName: CONCAT_KERNEL,
      inputsToSave: [],
      gradFunc: (dy, _saved, attrs) => {
        // input i's gradient is its column block of dY
        const widths = attrs?.widths as number[];
        const grads: Record<string, () => tf.Tensor> = {};
        let start = 0;
        widths.forEach((w, i) => {
          const from = start;
          grads[`x${i}`] = () => columnBlock(dy as tf.Tensor2D, from, w);
          start += w;
        });
        return grads;
      },
    });
    gradientsRegistered = true;
  }
  const backendName = tf.getBackend();
  if (!kernelBackends.has(backendName)) {
    if (tf.getKernel(DROPOUT_KERNEL, backendName) === undefined) {
      tf.registerKernel({
        kernelName: DROPOUT_KERNEL,
        backendName,
        kernelFunc: dropoutKernel as tf.KernelFunc,
      });
    }
    if (tf.getKernel(MATMUL_KERNEL, backendName) === undefined) {
      tf.registerKernel({
        kernelName: MATMUL_KERNEL,
        backendName,
        kernelFunc: matMulKernel as tf.KernelFunc,
      });
    }
    if (tf.getKernel(SPLIT_KERNEL, backendName) === undefined) {
      tf.registerKernel({
        kernelName: SPLIT_KERNEL,
        backendName,
        kernelFunc: splitKernel as unknown as tf.KernelFunc,
      });
    }
    if (tf.getKernel(CONCAT_KERNEL, backendName) === undefined) {
      tf.registerKernel({
        kernelName: CONCAT_KERNEL,
        backendName,
        kernelFunc: concatKernel as unknown as tf.KernelFunc,
      });
    }
    kernelBackends.add(backendName);
  }
}

/** `op(A) · op(B)` through the native kernel (differentiable). */
function nativeProduct(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  transposeA: boolean,
  transposeB: boolean,
): tf.Tensor2D {
  ensureKernels();
  return tf
    .engine()
    .runKernel(MATMUL_KERNEL, { a, b } as unknown as tf.NamedTensorMap, {
      transposeA,
      transposeB,
    }) as tf.Tensor2D;
}

/** `op(A) · op(B)` with TF.js's matMul and explicit transposes. */
function tfjsProduct(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  transposeA: boolean,
  transposeB: boolean,
): tf.Tensor2D {
  return tf.tidy(() =>
    tf.matMul(
      transposeA ? tf.transpose(a) : a,
      transposeB ? tf.transpose(b) : b,
    ),
  );
}

/** {@link tfjsProduct} with the explicit-transpose gradients. */
function fallbackProduct(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  transposeA: boolean,
  transposeB: boolean,
): tf.Tensor2D {
  const op = tf.customGrad((...args) => {
    const [at, bt, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([at, bt]);
    return {
      value: tfjsProduct(at, bt, transposeA, transposeB),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [as, bs] = saved as tf.Tensor2D[];
        const g = productGradients(
          as,
          bs,
          dy as tf.Tensor2D,
          transposeA,
          transposeB,
          tfjsProduct,
        );
        return [g.a(), g.b()];
      },
    };
  });
  return op(a, b) as tf.Tensor2D;
}

/** Apply the dropout kernel (differentiable: its gradient is itself). */
function runDropout(x: tf.Tensor, seed: number, rate: number): tf.Tensor {
  ensureKernels();
  return tf
    .engine()
    .runKernel(DROPOUT_KERNEL, { x } as unknown as tf.NamedTensorMap, {
      seed,
      rate,
    }) as tf.Tensor;
}

/** Run the split kernel: the column blocks of `x` (differentiable). */
function runSplit(x: tf.Tensor2D, widths: number[]): tf.Tensor2D[] {
  ensureKernels();
  const out = tf
    .engine()
    .runKernel(SPLIT_KERNEL, { x } as unknown as tf.NamedTensorMap, { widths });
  return (Array.isArray(out) ? out : [out]) as tf.Tensor2D[];
}

/** Run the concat kernel over `[rows, w_i]` blocks (differentiable). */
function runConcat(xs: tf.Tensor[]): tf.Tensor2D {
  ensureKernels();
  const inputs: Record<string, tf.Tensor> = {};
  xs.forEach((x, i) => {
    inputs[`x${i}`] = x;
  });
  return tf.engine().runKernel(CONCAT_KERNEL, inputs as tf.NamedTensorMap, {
    widths: xs.map((x) => x.shape[1] as number),
  }) as tf.Tensor2D;
}

/** Columns `[start, start + width)` of `x`, one pass over it. */
function columnBlock(
  x: tf.Tensor2D,
  start: number,
  width: number,
): tf.Tensor2D {
  const total = x.shape[1];
  const widths = [start, width, total - start - width].filter((w) => w > 0);
  const parts = runSplit(x, widths);
  const keep = parts[start > 0 ? 1 : 0];
  for (const p of parts) if (p !== keep) p.dispose();
  return keep;
}

// ---------------------------------------------------------------------------
// differentiable products and dropout
// ---------------------------------------------------------------------------

/** Options of {@link denseMatMul}. */
export interface DenseMatMulOptions {
  /** Multiply by `aᵀ` instead of `a` (default false). */
  transposeA?: boolean;
  /** Multiply by `bᵀ` instead of `b` (default false). */
  transposeB?: boolean;
}

/**
 * The differentiable dense product `C = op(A) · op(B)` of float32
 * matrices, op(A) `[m, k]` and op(B) `[k, n]`, C `[m, n]` (op is the
 * transpose where the option says so). Gradients are again products, with
 * no transposed copy: for the plain case `dA = dC Bᵀ`, `dB = Aᵀ dC`.
 *
 * With the native addon it runs the addon's `gemm` in place on the
 * backend's memory (about 5× TF.js WASM's matMul on one core, and it uses
 * `kernelThreads()` threads), and a gradient is computed only for an input
 * that needs one. Without it, TF.js's `matMul` with explicit transposes
 * runs, and both gradients are always computed.
 *
 * @throws ShapeError when a or b is not 2-D or the inner sizes differ.
 */
export function denseMatMul(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  options: DenseMatMulOptions = {},
): tf.Tensor2D {
  const { transposeA = false, transposeB = false } = options;
  if (a.rank !== 2 || b.rank !== 2) {
    throw new ShapeError(
      `denseMatMul: a and b must be 2-D, got [${a.shape}] and [${b.shape}]`,
    );
  }
  const [, , k] = productDims(a.shape, b.shape, transposeA, transposeB);
  const kb = transposeB ? b.shape[1] : b.shape[0];
  if (k !== kb) {
    throw new ShapeError(
      `denseMatMul: op(a) [${transposeA ? "k, m" : "m, k"}] has k = ${k} ` +
        `columns but op(b) has ${kb} rows (a [${a.shape}], b [${b.shape}], ` +
        `transposeA ${transposeA}, transposeB ${transposeB})`,
    );
  }
  const product = nativeKernels() === null ? fallbackProduct : nativeProduct;
  if (a.dtype !== "float32" || b.dtype !== "float32") {
    return tf.tidy(() =>
      product(
        tf.cast(a, "float32"),
        tf.cast(b, "float32"),
        transposeA,
        transposeB,
      ),
    );
  }
  return product(a, b, transposeA, transposeB);
}

/**
 * The product `x · w` for x `[N, k]` (dense or sparse) and w `[k, m]`,
 * differentiable in w and, when dense, in x:
 * `dW = xᵀ dY`, `dX = dY wᵀ`. Dense x goes through {@link denseMatMul}
 * (with the native addon, `dX` is skipped when x is a constant); sparse x
 * through the CSR kernel `spmm`, with `dW = xᵀ dY` by the cached
 * transpose.
 *
 * @throws ShapeError when the inner dimensions differ.
 */
export function matMul(x: NodeFeatures, w: tf.Tensor2D): tf.Tensor2D {
  const [n, k] = featureShape(x);
  if (w.rank !== 2 || w.shape[0] !== k) {
    throw new ShapeError(
      `matMul: w must have shape [${k}, m] to multiply x [${n}, ${k}], got [${w.shape}]`,
    );
  }
  if (!(x instanceof SparseFeatures)) return denseMatMul(x, w);
  const m = w.shape[1];
  const op = tf.customGrad((wt) => {
    const out = spmm(
      { rowPtr: x.rowPtr, colIdx: x.colIdx, weights: x.values },
      (wt as tf.Tensor).dataSync() as Float32Array,
      m,
    );
    return {
      value: tf.tensor2d(out, [n, m]),
      gradFunc: (dy: tf.Tensor) => {
        const t = x.transpose();
        const dw = spmm(
          { rowPtr: t.rowPtr, colIdx: t.colIdx, weights: t.values },
          dy.dataSync() as Float32Array,
          m,
        );
        return [tf.tensor2d(dw, [k, m])];
      },
    };
  });
  return op(w) as tf.Tensor2D;
}

/**
 * Inverted dropout: each entry is zeroed with probability `rate` and the
 * others scaled by `1 / (1 - rate)`. One uniform is drawn from `random`
 * and turned into a 32-bit seed; the mask comes from a counter-based hash
 * of (entry index, seed) (see {@link dropoutInto}), row-major for dense
 * features and one entry per stored value for sparse ones (dropped entries
 * become absent). The same seed gives the same mask, natively or in
 * TypeScript; the stream differs from drawing one `random()` per entry.
 * Dense dropout is differentiable (its gradient is the same mask applied
 * to `dY`). A dropped entry is 0 even where x is NaN or infinite. `rate`
 * 0 returns `x` itself and draws nothing.
 *
 * @throws ConfigError unless 0 ≤ rate < 1.
 */
export function dropout(
  x: NodeFeatures,
  rate: number,
  random: Random,
): NodeFeatures {
  checkRate("dropout", rate);
  if (rate === 0) return x;
  const seed = Math.floor(random() * 4294967296) >>> 0;
  if (!(x instanceof SparseFeatures)) {
    const input = x.dtype === "float32" ? x : tf.cast(x, "float32");
    const out = runDropout(input, seed, rate) as tf.Tensor2D;
    if (input !== x) input.dispose();
    return out;
  }

  // sparse: keep the stored entries whose mask value is not 0
  const mask = dropoutInto(new Float32Array(x.nnz), null, seed, rate);
  let kept = 0;
  for (let e = 0; e < x.nnz; e++) if (mask[e] !== 0) kept++;
  const rowPtr = new Int32Array(x.rows + 1);
  const colIdx = new Int32Array(kept);
  const values = new Float32Array(kept);
  let o = 0;
  for (let i = 0; i < x.rows; i++) {
    for (let e = x.rowPtr[i]; e < x.rowPtr[i + 1]; e++) {
      if (mask[e] !== 0) {
        colIdx[o] = x.colIdx[e];
        values[o] = Math.fround(x.values[e] * mask[e]);
        o++;
      }
    }
    rowPtr[i + 1] = o;
  }
  return new SparseFeatures(rowPtr, colIdx, values, x.rows, x.cols);
}

/**
 * Split `x` `[rows, Σ w_i]` into column blocks `[rows, w_i]`, e.g. the
 * heads of a multi-head product `x W` (`[N, heads · units]`). `parts` is
 * a number of equal blocks or the list of widths. One pass over x on
 * typed arrays (TF.js's `slice`/`split` on the WASM backend copy strided
 * blocks slowly); differentiable, the gradient being
 * {@link concatColumns} of the blocks' gradients.
 *
 * @throws ShapeError when x is not 2-D or the widths do not add up to its
 *   columns (or do not divide them equally).
 */
export function splitColumns(
  x: tf.Tensor2D,
  parts: number | readonly number[],
): tf.Tensor2D[] {
  const fn = "splitColumns";
  if (x.rank !== 2) {
    throw new ShapeError(`${fn}: x must be 2-D, got [${x.shape}]`);
  }
  const total = x.shape[1];
  let widths: number[];
  if (typeof parts === "number") {
    if (!(Number.isInteger(parts) && parts >= 1 && total % parts === 0)) {
      throw new ShapeError(
        `${fn}: ${parts} equal parts must divide the ${total} columns`,
      );
    }
    widths = new Array(parts).fill(total / parts);
  } else {
    widths = [...parts];
    const sum = widths.reduce((s, w) => s + w, 0);
    if (!widths.every((w) => Number.isInteger(w) && w >= 1) || sum !== total) {
      throw new ShapeError(
        `${fn}: widths must be positive integers adding up to ${total} columns, got [${widths}]`,
      );
    }
  }
  const input = x.dtype === "float32" ? x : tf.cast(x, "float32");
  const out = runSplit(input, widths);
  if (input !== x) input.dispose();
  return out;
}

/**
 * Concatenate `[rows, w_i]` tensors along the columns into
 * `[rows, Σ w_i]` (the inverse of {@link splitColumns}), in one pass on
 * typed arrays; differentiable, each input's gradient being its column
 * block of `dY`.
 *
 * @throws ShapeError when the list is empty or the tensors are not 2-D
 *   with the same number of rows.
 */
export function concatColumns(xs: readonly tf.Tensor2D[]): tf.Tensor2D {
  const fn = "concatColumns";
  if (xs.length === 0) {
    throw new ShapeError(`${fn}: expected at least one tensor, got none`);
  }
  const rows = xs[0].shape[0];
  for (const x of xs) {
    if (x.rank !== 2 || x.shape[0] !== rows || x.shape[1] < 1) {
      throw new ShapeError(
        `${fn}: every tensor must be [${rows}, w] with w ≥ 1, got [${x.shape}]`,
      );
    }
  }
  return tf.tidy(() =>
    runConcat(
      xs.map((x) => (x.dtype === "float32" ? x : tf.cast(x, "float32"))),
    ),
  );
}
