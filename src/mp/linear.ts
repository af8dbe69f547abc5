/**
 * Dense and sparse feature products and input dropout, the first step of
 * almost every GNN layer (`X W` before propagation, as in Kipf & Welling
 * 2017 and Veličković et al. 2018).
 *
 * Node features come either as a dense float32 tensor or as
 * {@link SparseFeatures} (CSR rows, e.g. the binary bag-of-words of Cora and
 * CiteSeer, 1 % dense). `matMul(x, w)` is differentiable in `w` for both
 * and in `x` when it is dense; its backward pass uses explicit transposes
 * (the transposeA/transposeB flags of TF.js's WASM matMul run 10-50×
 * slower). `dropout` draws its mask from mpcl's seeded random source, on
 * the stored entries only for sparse features.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import { spmm } from "../graph/kernels.js";
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

/**
 * The product `x · w` for x `[N, k]` (dense or sparse) and w `[k, m]`,
 * differentiable in w and, when dense, in x:
 * `dW = xᵀ dY`, `dX = dY wᵀ`.
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
  const m = w.shape[1];
  if (x instanceof SparseFeatures) {
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
  const op = tf.customGrad((xt, wt) => {
    const xx = xt as tf.Tensor2D;
    const ww = wt as tf.Tensor2D;
    return {
      value: tf.matMul(xx, ww),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy as tf.Tensor2D;
        return [tf.matMul(g, tf.transpose(ww)), tf.matMul(tf.transpose(xx), g)];
      },
    };
  });
  return op(x, w) as tf.Tensor2D;
}

/**
 * Inverted dropout: each entry is zeroed with probability `rate` and the
 * others scaled by `1 / (1 - rate)`, with the mask drawn from `random`
 * (one uniform per entry, row-major; for sparse features one per stored
 * entry, so dropped entries stay absent). `rate` 0 returns `x` itself.
 *
 * @throws ConfigError unless 0 ≤ rate < 1.
 */
export function dropout(
  x: NodeFeatures,
  rate: number,
  random: Random,
): NodeFeatures {
  if (!(rate >= 0 && rate < 1)) {
    throw new ConfigError(`dropout: rate must lie in [0, 1), got ${rate}`);
  }
  if (rate === 0) return x;
  const scale = 1 / (1 - rate);
  if (x instanceof SparseFeatures) {
    const rowPtr = new Int32Array(x.rows + 1);
    const keep = new Uint8Array(x.nnz);
    let kept = 0;
    for (let e = 0; e < x.nnz; e++) {
      if (random() >= rate) {
        keep[e] = 1;
        kept++;
      }
    }
    const colIdx = new Int32Array(kept);
    const values = new Float32Array(kept);
    let o = 0;
    for (let i = 0; i < x.rows; i++) {
      for (let e = x.rowPtr[i]; e < x.rowPtr[i + 1]; e++) {
        if (keep[e]) {
          colIdx[o] = x.colIdx[e];
          values[o] = x.values[e] * scale;
          o++;
        }
      }
      rowPtr[i + 1] = o;
    }
    return new SparseFeatures(rowPtr, colIdx, values, x.rows, x.cols);
  }
  const size = x.size;
  const mask = new Float32Array(size);
  for (let i = 0; i < size; i++) mask[i] = random() >= rate ? scale : 0;
  return tf.tidy(() => tf.mul(x, tf.tensor2d(mask, x.shape)) as tf.Tensor2D);
}
