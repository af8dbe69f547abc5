/**
 * Sparse kernels on typed arrays: the products and reductions behind
 * `propagate`. Everything here works on raw CSR arrays (rows are
 * destinations) and row-major float32 dense matrices, so the same kernels
 * serve sparse graphs, their transposes and blocks of affinity graphs.
 *
 * Float32 arithmetic is rounded exactly as C's `float` does it (every
 * product and sum through `Math.fround`), so these reference loops and any
 * faster implementation (native addon, worker threads) that keeps the same
 * order of operations give bit-identical results.
 *
 * Each kernel exists twice: `xxxReference`, the TypeScript loop that
 * defines the result, and `xxx`, which runs the native addon of
 * `native.ts` when it is loaded (several threads, same bits) and the
 * reference otherwise. `MPCL_KERNELS=ts` forces the reference.
 */

import { GraphError, ShapeError } from "../errors.js";
import { kernelThreads, NativeStatus, nativeKernels } from "./native.js";

export type { KernelInfo } from "./native.js";
// `mpcl info` reads which kernels run from here.
export { kernelInfo, kernelThreads, setKernelThreads } from "./native.js";

/** A CSR matrix by rows; `weights` null means every entry is 1. */
export interface CSR {
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly weights: Float32Array | null;
}

/** Number of rows of a CSR matrix. */
export function csrRows(csr: CSR): number {
  return csr.rowPtr.length - 1;
}

/** TypeScript reference of {@link spmm} (one thread, defines the bits). */
export function spmmReference(
  csr: CSR,
  x: Float32Array,
  d: number,
  out?: Float32Array,
): Float32Array {
  const rows = csrRows(csr);
  const o = out ?? new Float32Array(rows * d);
  spmmRowsReference(csr, x, d, o, 0, rows);
  return o;
}

/**
 * TypeScript reference of {@link spmmRows}: for each row, zero the output
 * row, then add the messages of its entries in CSR order.
 */
export function spmmRowsReference(
  csr: CSR,
  x: Float32Array,
  d: number,
  out: Float32Array,
  rowStart: number,
  rowEnd: number,
): void {
  const { rowPtr, colIdx, weights } = csr;
  const fround = Math.fround;
  for (let i = rowStart; i < rowEnd; i++) {
    const base = i * d;
    for (let k = 0; k < d; k++) out[base + k] = 0;
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      const sb = colIdx[e] * d;
      if (weights === null) {
        for (let k = 0; k < d; k++) out[base + k] += x[sb + k];
      } else {
        const w = weights[e];
        for (let k = 0; k < d; k++) out[base + k] += fround(w * x[sb + k]);
      }
    }
  }
}

/** Result of {@link segmentExtreme}. */
export interface ExtremeResult {
  /** rows × d: the max (or min) of the weighted messages, 0 for no entry. */
  readonly out: Float32Array;
  /** rows × d: the entry (edge) index attaining it, -1 for no entry. */
  readonly arg: Int32Array;
}

/**
 * TypeScript reference of {@link segmentExtreme}: the first entry seeds
 * each row, a later one replaces it only when strictly larger (smaller).
 */
export function segmentExtremeReference(
  csr: CSR,
  x: Float32Array,
  d: number,
  mode: "max" | "min",
): ExtremeResult {
  const { rowPtr, colIdx, weights } = csr;
  const rows = csrRows(csr);
  const out = new Float32Array(rows * d);
  const arg = new Int32Array(rows * d).fill(-1);
  const sign = mode === "max" ? 1 : -1;
  const fround = Math.fround;
  for (let i = 0; i < rows; i++) {
    const base = i * d;
    const a = rowPtr[i];
    const b = rowPtr[i + 1];
    if (a === b) continue;

    // the first entry seeds the row, later ones replace it when larger
    const w0 = weights === null ? 1 : weights[a];
    const s0 = colIdx[a] * d;
    for (let k = 0; k < d; k++) {
      out[base + k] = fround(w0 * x[s0 + k]);
      arg[base + k] = a;
    }
    for (let e = a + 1; e < b; e++) {
      const w = weights === null ? 1 : weights[e];
      const sb = colIdx[e] * d;
      for (let k = 0; k < d; k++) {
        const v = fround(w * x[sb + k]);
        if (sign * v > sign * out[base + k]) {
          out[base + k] = v;
          arg[base + k] = e;
        }
      }
    }
  }
  return { out, arg };
}

/** TypeScript reference of {@link edgeDot}. */
export function edgeDotReference(
  csr: CSR,
  a: Float32Array,
  b: Float32Array,
  d: number,
): Float32Array {
  const { rowPtr, colIdx } = csr;
  const rows = csrRows(csr);
  const dots = new Float32Array(colIdx.length);
  const fround = Math.fround;
  for (let i = 0; i < rows; i++) {
    const ab = i * d;
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      const bb = colIdx[e] * d;
      let s = 0;
      for (let k = 0; k < d; k++) s = fround(s + fround(a[ab + k] * b[bb + k]));
      dots[e] = s;
    }
  }
  return dots;
}

/**
 * TypeScript reference of {@link extremeBackward}: visits `arg` in
 * row-major order (row i, then feature k) and adds each term in turn.
 */
export function extremeBackwardReference(
  csr: CSR,
  arg: Int32Array,
  x: Float32Array,
  dy: Float32Array,
  d: number,
  numSrc: number,
): { dx: Float32Array; dw: Float32Array | null } {
  const { colIdx, weights } = csr;
  const dx = new Float32Array(numSrc * d);
  const dw = weights === null ? null : new Float32Array(colIdx.length);
  const fround = Math.fround;
  for (let p = 0; p < arg.length; p++) {
    const e = arg[p];
    if (e < 0) continue;
    const k = p % d;
    const g = dy[p];
    const sb = colIdx[e] * d + k;
    if (weights === null) {
      dx[sb] += g;
    } else {
      dx[sb] += fround(weights[e] * g);
      (dw as Float32Array)[e] += fround(x[sb] * g);
    }
  }
  return { dx, dw };
}

// ---------------------------------------------------------------------
// The kernels: native when the addon is loaded, else the references.
// ---------------------------------------------------------------------

/** Turn a status code of the addon into a typed error. */
function checkStatus(fn: string, status: number, detail: string): void {
  if (status === NativeStatus.ok) return;
  if (status === NativeStatus.badShape) {
    throw new ShapeError(`${fn}: arrays too short for ${detail}`);
  }
  const what =
    status === NativeStatus.badColumn
      ? "a column index is outside the rows of the dense input"
      : status === NativeStatus.badRowPtr
        ? "rowPtr decreases or leaves [0, colIdx.length]"
        : status === NativeStatus.badArg
          ? "an arg entry is neither -1 nor an entry of its row"
          : `unknown status ${status}`;
  throw new GraphError(`${fn}: invalid CSR input: ${what} (${detail})`);
}

/** Describe the sizes of a call, for error messages. */
function sizes(csr: CSR, d: number, x: Float32Array | null): string {
  const dense = x === null ? "" : `, x.length = ${x.length}`;
  return (
    `rows = ${csrRows(csr)}, entries = ${csr.colIdx.length}, ` +
    `d = ${d}${dense}`
  );
}

/**
 * Sparse × dense product `out = A · X`: `out[i, :] = Σ_e w_e X[col_e, :]`
 * over the entries e of row i, in CSR order. `x` is row-major with `d`
 * columns (one row per column index of A); `out` (rows × d) is allocated
 * when not given and is overwritten. `out` must not share memory with `x`.
 */
export function spmm(
  csr: CSR,
  x: Float32Array,
  d: number,
  out?: Float32Array,
): Float32Array {
  const rows = csrRows(csr);
  const o = out ?? new Float32Array(rows * d);
  spmmRows(csr, x, d, o, 0, rows);
  return o;
}

/**
 * The rows `[rowStart, rowEnd)` of {@link spmm}, written into `out` (which
 * holds all rows). Exposed so that callers can split the rows (the native
 * kernel already splits them over threads). With the addon, invalid CSR
 * input raises `GraphError` and short arrays `ShapeError`.
 */
export function spmmRows(
  csr: CSR,
  x: Float32Array,
  d: number,
  out: Float32Array,
  rowStart: number,
  rowEnd: number,
): void {
  const native = nativeKernels();
  if (native === null) {
    spmmRowsReference(csr, x, d, out, rowStart, rowEnd);
    return;
  }
  const status = native.spmm(
    csr.rowPtr,
    csr.colIdx,
    csr.weights,
    x,
    d,
    out,
    rowStart,
    rowEnd,
    kernelThreads(),
  );
  checkStatus("spmmRows", status, `${sizes(csr, d, x)}, rows ${rowStart}..`);
}

/**
 * Element-wise max (or min) over the entries of each row of the weighted
 * messages `w_e X[col_e, :]`. The first entry in CSR order wins ties, so
 * the arg-max is deterministic. Rows without entries give 0 (and arg -1),
 * as in PyTorch Geometric. NaN never wins a comparison.
 */
export function segmentExtreme(
  csr: CSR,
  x: Float32Array,
  d: number,
  mode: "max" | "min",
): ExtremeResult {
  const native = nativeKernels();
  if (native === null) return segmentExtremeReference(csr, x, d, mode);
  const rows = csrRows(csr);
  const out = new Float32Array(rows * d);
  // NOTE: the addon writes every element, -1 included for empty rows
  const arg = new Int32Array(rows * d);
  const status = native.segmentExtreme(
    csr.rowPtr,
    csr.colIdx,
    csr.weights,
    x,
    d,
    mode === "min" ? 1 : 0,
    out,
    arg,
    kernelThreads(),
  );
  checkStatus("segmentExtreme", status, sizes(csr, d, x));
  return { out, arg };
}

/**
 * Per-entry dot products `dots[e] = A[i, :] · B[col_e, :]` for each entry e
 * of row i: the gradient of a product with respect to its edge weights.
 * Accumulates in float32 in feature order. `a` is rows × d, `b` has one
 * row of d per column index.
 */
export function edgeDot(
  csr: CSR,
  a: Float32Array,
  b: Float32Array,
  d: number,
): Float32Array {
  const native = nativeKernels();
  if (native === null) return edgeDotReference(csr, a, b, d);
  const dots = new Float32Array(csr.colIdx.length);
  const status = native.edgeDot(
    csr.rowPtr,
    csr.colIdx,
    a,
    b,
    d,
    dots,
    kernelThreads(),
  );
  checkStatus("edgeDot", status, `${sizes(csr, d, b)}, a.length = ${a.length}`);
  return dots;
}

/**
 * Backward pass of {@link segmentExtreme}: routes each `dy[i, k]` to the
 * entry that won, giving the gradients with respect to the source features
 * (`numSrc × d`) and, when `weights` is given, to the edge weights.
 * `dx[col_e, k] += w_e dy[i, k]` and `dw[e] += X[col_e, k] dy[i, k]`,
 * visited in row order, so the sums are deterministic. `arg` (rows × d)
 * is the one {@link segmentExtreme} returned; `x` is read only for `dw`.
 */
export function extremeBackward(
  csr: CSR,
  arg: Int32Array,
  x: Float32Array,
  dy: Float32Array,
  d: number,
  numSrc: number,
): { dx: Float32Array; dw: Float32Array | null } {
  const native = nativeKernels();
  if (native === null) {
    return extremeBackwardReference(csr, arg, x, dy, d, numSrc);
  }
  const dx = new Float32Array(numSrc * d);
  const dw = csr.weights === null ? null : new Float32Array(csr.colIdx.length);
  const status = native.extremeBackward(
    csr.rowPtr,
    csr.colIdx,
    csr.weights,
    arg,
    x,
    dy,
    d,
    dx,
    dw,
    kernelThreads(),
  );
  checkStatus(
    "extremeBackward",
    status,
    `${sizes(csr, d, x)}, numSrc = ${numSrc}, arg.length = ${arg.length}`,
  );
  return { dx, dw };
}
