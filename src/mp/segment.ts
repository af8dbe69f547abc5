/**
 * Differentiable segment primitives: gathers and reductions over the edges
 * of a CSR structure, written on typed arrays with `tf.customGrad`.
 *
 * Edges arrive in CSR order (sorted by destination), so the edges of one
 * segment (one destination node) are a contiguous run of rows. Every
 * forward and backward loop visits entries in a fixed order, so results are
 * bit-for-bit deterministic on every backend.
 *
 * NOTE: no primitive here uses `tf.gather` or its gradient: that gradient
 * runs `unsortedSegmentSum`, which the WASM backend lacks and the CPU
 * backend runs one segment at a time. Gathers scatter-add their gradient
 * on typed arrays instead.
 *
 * LIMITATION: the gradients are computed on typed arrays, outside the
 * tape, so second derivatives (a gradient of a gradient) through these
 * primitives are not available: they come out as zero or raise.
 */

import { tf } from "../backend.js";
import { ShapeError } from "../errors.js";
import {
  type CSR,
  extremeBackward,
  segmentExtreme,
  spmm,
} from "../graph/kernels.js";

/**
 * Segments of the edge rows: segment i (a destination node) owns the rows
 * `rowPtr[i] .. rowPtr[i + 1] - 1` of an `[E, d]` edge tensor.
 */
export interface Segments {
  /** Row pointer, length `numSegments + 1`, from 0 to E. */
  readonly rowPtr: Int32Array;
  /** Segment of every edge row, length E (non-decreasing). */
  readonly segmentIds: Int32Array;
  /** Number of segments (destination nodes). */
  readonly numSegments: number;
  /** Number of edges in every segment, length `numSegments`. */
  readonly counts: Int32Array;
}

/** Source-ordered view of a CSR (the transposed matrix). */
export interface TransposedCSR {
  /** `colPtr[j] .. colPtr[j + 1] - 1` index the entries of column j. */
  readonly colPtr: Int32Array;
  /** Row (destination) of each entry, in column order. */
  readonly rowIdx: Int32Array;
  /** Position of each entry in the original CSR order. */
  readonly edgeIds: Int32Array;
}

// ---------------------------------------------------------------------------
// typed-array helpers
// ---------------------------------------------------------------------------

/**
 * The segment of every entry of a row pointer: `out[e] = i` for
 * `rowPtr[i] <= e < rowPtr[i + 1]`. Length `rowPtr[last]`.
 */
export function expandRowPtr(rowPtr: Int32Array): Int32Array {
  const n = rowPtr.length - 1;
  const out = new Int32Array(n < 0 ? 0 : rowPtr[n]);
  for (let i = 0; i < n; i++) out.fill(i, rowPtr[i], rowPtr[i + 1]);
  return out;
}

/**
 * Number of entries of every row of a row pointer (`numRows` long).
 */
export function rowCounts(rowPtr: Int32Array): Int32Array {
  const n = Math.max(rowPtr.length - 1, 0);
  const counts = new Int32Array(n);
  for (let i = 0; i < n; i++) counts[i] = rowPtr[i + 1] - rowPtr[i];
  return counts;
}

/**
 * Build {@link Segments} from a row pointer. `segmentIds` may be passed
 * when the caller already holds them (e.g. `Graph.dst`); they are trusted.
 */
export function segmentsFromRowPtr(
  rowPtr: Int32Array,
  segmentIds?: Int32Array,
): Segments {
  const numSegments = rowPtr.length - 1;
  if (numSegments < 0) {
    throw new ShapeError(
      "segmentsFromRowPtr: rowPtr must have length numSegments + 1 >= 1, " +
        "got length 0",
    );
  }
  const numEdges = rowPtr[numSegments];
  const ids = segmentIds ?? expandRowPtr(rowPtr);
  if (ids.length !== numEdges) {
    throw new ShapeError(
      `segmentsFromRowPtr: expected ${numEdges} segment ids, got ` +
        `${ids.length}`,
    );
  }
  return {
    rowPtr,
    segmentIds: ids,
    numSegments,
    counts: rowCounts(rowPtr),
  };
}

/**
 * Transpose a CSR structure by a stable counting sort: the entries of
 * column j, in increasing CSR position. `numCols` is the number of
 * columns (sources); every `colIdx` must lie in `[0, numCols)`.
 */
export function transposeCSR(
  rowPtr: Int32Array,
  colIdx: Int32Array,
  numCols: number,
): TransposedCSR {
  const numRows = rowPtr.length - 1;
  const m = colIdx.length;
  const colPtr = new Int32Array(numCols + 1);
  for (let e = 0; e < m; e++) colPtr[colIdx[e] + 1]++;
  for (let j = 0; j < numCols; j++) colPtr[j + 1] += colPtr[j];
  const next = colPtr.slice(0, numCols);
  const rowIdx = new Int32Array(m);
  const edgeIds = new Int32Array(m);
  for (let i = 0; i < numRows; i++) {
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      const k = next[colIdx[e]]++;
      rowIdx[k] = i;
      edgeIds[k] = e;
    }
  }
  return { colPtr, rowIdx, edgeIds };
}

/**
 * Copy rows of a row-major matrix: `out[e, :] = x[index[e], :]`. `x` has
 * `d` columns; the result has `index.length` rows.
 */
export function gatherRowsTyped(
  x: Float32Array,
  index: Int32Array,
  d: number,
): Float32Array {
  const m = index.length;
  const out = new Float32Array(m * d);
  for (let e = 0; e < m; e++) {
    const s = index[e] * d;
    const o = e * d;
    for (let k = 0; k < d; k++) out[o + k] = x[s + k];
  }
  return out;
}

/**
 * Scatter-add rows: `out[index[e], :] += g[e, :]`, visiting e in
 * increasing order (so the float32 sums are deterministic). The result has
 * `numRows` rows of `d` columns; rows no index points at are 0.
 */
export function scatterAddRows(
  g: Float32Array,
  index: Int32Array,
  numRows: number,
  d: number,
): Float32Array {
  const out = new Float32Array(numRows * d);
  const m = index.length;
  for (let e = 0; e < m; e++) {
    const t = index[e] * d;
    const o = e * d;
    for (let k = 0; k < d; k++) out[t + k] += g[o + k];
  }
  return out;
}

/**
 * Divide every row of a row-major matrix by its count, in place:
 * `x[i, :] /= counts[i]` (float32 division); rows with count 0 are left
 * as they are. Returns `x`.
 */
export function divideRowsByCount(
  x: Float32Array,
  counts: Int32Array,
  d: number,
): Float32Array {
  const fround = Math.fround;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c <= 1) continue;
    const base = i * d;
    for (let k = 0; k < d; k++) x[base + k] = fround(x[base + k] / c);
  }
  return x;
}

/**
 * Gather the rows of `g` (one per segment) back to the edges, divided by
 * the segment's count: `out[e, :] = g[seg_e, :] / counts[seg_e]`. The
 * backward pass of a segment mean.
 */
export function gatherRowsByCount(
  g: Float32Array,
  segments: Segments,
  d: number,
): Float32Array {
  const { rowPtr, numSegments } = segments;
  const out = new Float32Array(rowPtr[numSegments] * d);
  const fround = Math.fround;
  for (let i = 0; i < numSegments; i++) {
    const a = rowPtr[i];
    const b = rowPtr[i + 1];
    const c = b - a;
    const gb = i * d;
    for (let e = a; e < b; e++) {
      const o = e * d;
      for (let k = 0; k < d; k++) out[o + k] = fround(g[gb + k] / c);
    }
  }
  return out;
}

/** Identity CSRs of segments (entry e reads row e), built once. */
const identityCache = new WeakMap<Segments, CSR>();

/**
 * The CSR whose row i holds the entries `rowPtr[i] .. rowPtr[i + 1] - 1`
 * reading rows of the same index: the kernels of `graph/kernels.ts` then
 * reduce an `[E, d]` edge matrix per segment.
 */
function identityCSR(segments: Segments): CSR {
  let csr = identityCache.get(segments);
  if (csr === undefined) {
    const m = segments.segmentIds.length;
    const colIdx = new Int32Array(m);
    for (let e = 0; e < m; e++) colIdx[e] = e;
    csr = { rowPtr: segments.rowPtr, colIdx, weights: null };
    identityCache.set(segments, csr);
  }
  return csr;
}

// ---------------------------------------------------------------------------
// argument checks
// ---------------------------------------------------------------------------

/** Check that `t` is a float32 matrix; returns its column count. */
function checkMatrix(fn: string, name: string, t: tf.Tensor): number {
  if (t.rank !== 2) {
    throw new ShapeError(
      `${fn}: ${name} must be a rank-2 tensor, got shape [${t.shape}]`,
    );
  }
  if (t.dtype !== "float32") {
    throw new ShapeError(
      `${fn}: ${name} must be a float32 tensor, got ${t.dtype}`,
    );
  }
  return t.shape[1] as number;
}

/** Check that an edge tensor has one row per edge of the segments. */
function checkEdgeRows(fn: string, t: tf.Tensor, segments: Segments): number {
  const d = checkMatrix(fn, "data", t);
  const m = segments.rowPtr[segments.numSegments];
  if (t.shape[0] !== m) {
    throw new ShapeError(
      `${fn}: data must have one row per edge (${m}), got shape ` +
        `[${t.shape}]`,
    );
  }
  return d;
}

/** The float32 data of a tensor (a copy or the backend's own array). */
function floats(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

// ---------------------------------------------------------------------------
// differentiable primitives
// ---------------------------------------------------------------------------

/**
 * Gather rows: `out[e, :] = x[index[e], :]`, shape `[index.length, d]` for
 * `x` of shape `[n, d]`. The gradient scatter-adds `dy[e, :]` into row
 * `index[e]` in increasing e (deterministic), on typed arrays.
 *
 * Raises `ShapeError` when `x` is not a float32 matrix or an index lies
 * outside `[0, n)`.
 */
export function gatherRows(x: tf.Tensor2D, index: Int32Array): tf.Tensor2D {
  const fn = "gatherRows";
  const d = checkMatrix(fn, "x", x);
  const n = x.shape[0];
  for (let e = 0; e < index.length; e++) {
    const j = index[e];
    if (!(j >= 0 && j < n)) {
      throw new ShapeError(
        `${fn}: index[${e}] must lie in [0, ${n}), got ${j}`,
      );
    }
  }
  const m = index.length;
  const op = tf.customGrad((xt) => {
    const out = gatherRowsTyped(floats(xt as tf.Tensor), index, d);
    return {
      value: tf.tensor2d(out, [m, d]),
      gradFunc: (dy: tf.Tensor) => {
        const dx = scatterAddRows(floats(dy), index, n, d);
        return [tf.tensor2d(dx, [n, d])];
      },
    };
  });
  return op(x) as tf.Tensor2D;
}

/**
 * Broadcast one row per segment back to its edges:
 * `out[e, :] = values[seg_e, :]`, shape `[E, d]` for `values` of shape
 * `[numSegments, d]`. Same as `gatherRows(values, segments.segmentIds)`.
 */
export function segmentBroadcast(
  values: tf.Tensor2D,
  segments: Segments,
): tf.Tensor2D {
  const d = checkMatrix("segmentBroadcast", "values", values);
  if (values.shape[0] !== segments.numSegments) {
    throw new ShapeError(
      `segmentBroadcast: values must have one row per segment ` +
        `(${segments.numSegments}), got shape [${values.shape[0]}, ${d}]`,
    );
  }
  return gatherRows(values, segments.segmentIds);
}

/**
 * Segment sum: `out[i, :] = Σ_{e in segment i} data[e, :]`, summed in
 * edge order in float32. `data` is `[E, d]`, the result
 * `[numSegments, d]`; segments without edges give 0. Gradient:
 * `ddata[e, :] = dy[seg_e, :]`.
 */
export function segmentSum(data: tf.Tensor2D, segments: Segments): tf.Tensor2D {
  const d = checkEdgeRows("segmentSum", data, segments);
  const s = segments.numSegments;
  const m = segments.segmentIds.length;
  const op = tf.customGrad((dt) => {
    const out = spmm(identityCSR(segments), floats(dt as tf.Tensor), d);
    return {
      value: tf.tensor2d(out, [s, d]),
      gradFunc: (dy: tf.Tensor) => {
        const g = gatherRowsTyped(floats(dy), segments.segmentIds, d);
        return [tf.tensor2d(g, [m, d])];
      },
    };
  });
  return op(data) as tf.Tensor2D;
}

/**
 * Segment mean: `out[i, :] = (1 / c_i) Σ_{e in segment i} data[e, :]`
 * with `c_i` the number of edges of segment i; segments without edges
 * give 0. Shapes as {@link segmentSum}. Gradient:
 * `ddata[e, :] = dy[seg_e, :] / c_{seg_e}`.
 */
export function segmentMean(
  data: tf.Tensor2D,
  segments: Segments,
): tf.Tensor2D {
  const d = checkEdgeRows("segmentMean", data, segments);
  const s = segments.numSegments;
  const m = segments.segmentIds.length;
  const op = tf.customGrad((dt) => {
    const out = spmm(identityCSR(segments), floats(dt as tf.Tensor), d);
    divideRowsByCount(out, segments.counts, d);
    return {
      value: tf.tensor2d(out, [s, d]),
      gradFunc: (dy: tf.Tensor) => {
        const g = gatherRowsByCount(floats(dy), segments, d);
        return [tf.tensor2d(g, [m, d])];
      },
    };
  });
  return op(data) as tf.Tensor2D;
}

/** Shared body of {@link segmentMax} and {@link segmentMin}. */
function segmentExtremeOp(
  fn: string,
  data: tf.Tensor2D,
  segments: Segments,
  mode: "max" | "min",
): tf.Tensor2D {
  const d = checkEdgeRows(fn, data, segments);
  const s = segments.numSegments;
  const m = segments.segmentIds.length;
  const op = tf.customGrad((dt) => {
    const csr = identityCSR(segments);
    const values = floats(dt as tf.Tensor);
    const { out, arg } = segmentExtreme(csr, values, d, mode);
    return {
      value: tf.tensor2d(out, [s, d]),
      gradFunc: (dy: tf.Tensor) => {
        const { dx } = extremeBackward(csr, arg, values, floats(dy), d, m);
        return [tf.tensor2d(dx, [m, d])];
      },
    };
  });
  return op(data) as tf.Tensor2D;
}

/**
 * Segment maximum, element-wise: `out[i, k] = max_{e in segment i}
 * data[e, k]`; segments without edges give 0. Shapes as
 * {@link segmentSum}. The gradient goes entirely to the arg-max entry; on
 * ties the first edge in CSR order wins (deterministic).
 */
export function segmentMax(data: tf.Tensor2D, segments: Segments): tf.Tensor2D {
  return segmentExtremeOp("segmentMax", data, segments, "max");
}

/**
 * Segment minimum, element-wise; the mirror of {@link segmentMax}
 * (segments without edges give 0, the gradient goes to the first arg-min).
 */
export function segmentMin(data: tf.Tensor2D, segments: Segments): tf.Tensor2D {
  return segmentExtremeOp("segmentMin", data, segments, "min");
}

/**
 * Segment softmax, per channel: for edge e of segment i,
 * `out[e, k] = exp(s[e, k]) / Σ_{e' in segment i} exp(s[e', k])`, shape
 * `[E, h]` like `scores`. Computed in float64 after subtracting the
 * segment maximum, stored as float32. Channels whose scores are all -∞
 * give 0. Gradient:
 * `ds[e, k] = out[e, k] (dy[e, k] − Σ_{e'} out[e', k] dy[e', k])`.
 *
 * This is the normalisation of graph attention (GAT) and of the softmax
 * aggregator.
 */
export function segmentSoftmax(
  scores: tf.Tensor2D,
  segments: Segments,
): tf.Tensor2D {
  const h = checkEdgeRows("segmentSoftmax", scores, segments);
  const m = segments.segmentIds.length;
  const op = tf.customGrad((st) => {
    const alpha = softmaxForward(floats(st as tf.Tensor), segments, h);
    return {
      value: tf.tensor2d(alpha, [m, h]),
      gradFunc: (dy: tf.Tensor) => {
        const ds = softmaxBackward(alpha, floats(dy), segments, h);
        return [tf.tensor2d(ds, [m, h])];
      },
    };
  });
  return op(scores) as tf.Tensor2D;
}

/**
 * Forward pass of {@link segmentSoftmax} on typed arrays, one segment
 * and one channel at a time with the maximum and the normaliser in
 * locals (no per-segment array fills: segments are short).
 */
function softmaxForward(
  s: Float32Array,
  segments: Segments,
  h: number,
): Float32Array {
  const { rowPtr, numSegments } = segments;
  const out = new Float32Array(s.length);
  for (let i = 0; i < numSegments; i++) {
    const a = rowPtr[i];
    const b = rowPtr[i + 1];
    if (a === b) continue;
    for (let k = 0; k < h; k++) {
      // first the maximum, then the normaliser, then the ratio
      let top = Number.NEGATIVE_INFINITY;
      for (let e = a; e < b; e++) {
        const v = s[e * h + k];
        if (v > top) top = v;
      }
      if (!(top > Number.NEGATIVE_INFINITY)) top = 0;
      let total = 0;
      for (let e = a; e < b; e++) total += Math.exp(s[e * h + k] - top);
      for (let e = a; e < b; e++) {
        const p = e * h + k;
        out[p] = total > 0 ? Math.exp(s[p] - top) / total : 0;
      }
    }
  }
  return out;
}

/** Backward pass of {@link segmentSoftmax} on typed arrays. */
function softmaxBackward(
  alpha: Float32Array,
  g: Float32Array,
  segments: Segments,
  h: number,
): Float32Array {
  const { rowPtr, numSegments } = segments;
  const out = new Float32Array(alpha.length);
  for (let i = 0; i < numSegments; i++) {
    const a = rowPtr[i];
    const b = rowPtr[i + 1];
    for (let k = 0; k < h; k++) {
      let dot = 0;
      for (let e = a; e < b; e++) dot += alpha[e * h + k] * g[e * h + k];
      for (let e = a; e < b; e++) {
        const p = e * h + k;
        out[p] = alpha[p] * (g[p] - dot);
      }
    }
  }
  return out;
}
