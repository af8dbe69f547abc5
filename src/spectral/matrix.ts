/**
 * Dense matrix helpers shared by the spectral metrics: the feature-matrix
 * input type, the Gram matrix, Householder QR and the singular values of
 * a small square matrix. Float64 throughout.
 *
 * Singular values of a square R come from the symmetric eigenproblem of
 * the Jordan–Wielandt matrix [[0, R], [Rᵀ, 0]], whose eigenvalues are ±σ:
 * a backward-stable route (absolute error about eps · σ_max), unlike the
 * eigenvalues of RᵀR, which lose every σ below √eps · σ_max. Householder
 * QR follows Golub & Van Loan, "Matrix Computations", 4th ed., §5.2.
 */

import { tf } from "../backend.js";
import { NumericalError, ShapeError } from "../errors.js";
import { symmetricEigenvalues } from "./dense.js";

/** A row-major dense matrix with its shape. */
export interface DenseMatrix {
  /** `rows · cols` entries, row-major: entry (i, j) is `data[i * cols + j]`. */
  readonly data: Float32Array | Float64Array;
  /** Number of rows (samples or nodes, N). */
  readonly rows: number;
  /** Number of columns (feature dimensions, k). */
  readonly cols: number;
}

/**
 * A feature matrix, N × k: row-major typed data with its shape, or a 2-D
 * tensor (read once with `dataSync`; int32 and bool tensors are
 * converted; the tensor is not disposed).
 */
export type FeatureMatrix = DenseMatrix | tf.Tensor2D;

/**
 * The typed-array view of a feature matrix, checked: shape consistent with
 * the data (else `ShapeError`), every entry finite (else
 * `NumericalError`). Messages name `fn` and the argument `name`.
 */
export function readMatrix(
  fn: string,
  name: string,
  x: FeatureMatrix,
): DenseMatrix {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) {
      throw new ShapeError(
        `${fn}: ${name} must be a 2-D tensor, got rank ${x.rank}`,
      );
    }
    const [rows, cols] = x.shape;
    const raw = x.dataSync();
    const data =
      raw instanceof Float32Array ? raw : Float64Array.from(raw as Int32Array);
    return checkFinite(fn, name, { data, rows, cols });
  }
  const { data, rows, cols } = x;
  if (
    !Number.isInteger(rows) ||
    !Number.isInteger(cols) ||
    rows < 0 ||
    cols < 0
  ) {
    throw new ShapeError(
      `${fn}: ${name} must have non-negative integer rows and cols, got ` +
        `${rows} × ${cols}`,
    );
  }
  if (data.length !== rows * cols) {
    throw new ShapeError(
      `${fn}: ${name} is ${rows} × ${cols}, so it needs ${rows * cols} ` +
        `entries, got ${data.length}`,
    );
  }
  return checkFinite(fn, name, x);
}

/** Reject NaN and ±Inf entries with a `NumericalError`. */
function checkFinite(fn: string, name: string, x: DenseMatrix): DenseMatrix {
  const { data, cols } = x;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const r = Math.floor(i / Math.max(cols, 1));
      throw new NumericalError(
        `${fn}: ${name} must have finite entries, got ${data[i]} at ` +
          `(${r}, ${i - r * cols})`,
      );
    }
  }
  return x;
}

/**
 * The k × k Gram matrix `G = Xᵀ X` (row-major, float64, symmetric) of an
 * N × k matrix; O(N k²) time, O(k²) memory.
 */
export function gramMatrix(x: DenseMatrix): Float64Array {
  const { data, rows, cols: k } = x;
  const g = new Float64Array(k * k);
  const row = new Float64Array(k);
  for (let i = 0; i < rows; i++) {
    for (let a = 0; a < k; a++) row[a] = data[i * k + a];
    for (let a = 0; a < k; a++) {
      const xa = row[a];
      if (xa === 0) continue;
      const base = a * k;
      for (let b = a; b < k; b++) g[base + b] += xa * row[b];
    }
  }
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < a; b++) g[a * k + b] = g[b * k + a];
  }
  return g;
}

/**
 * The columns of a row-major N × k matrix as one float64 array, column
 * after column (column j is `out[j * N .. (j + 1) * N − 1]`).
 */
export function toColumns(x: DenseMatrix): Float64Array {
  const { data, rows, cols } = x;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j];
  }
  return out;
}

/**
 * Householder QR of an m × p matrix (m ≥ p) stored by columns: on return
 * `a` holds R in its upper triangle (entry (i, j) at `a[j * m + i]`, i ≤ j)
 * and the reflectors below it. `tau[j]` and the vector
 * `v_j = [1, a[j*m + j+1 .. j*m + m−1]]` define `H_j = I − tau_j v_j v_jᵀ`,
 * with `A = H_0 ⋯ H_{p−1} R`.
 */
export function householderQR(
  a: Float64Array,
  m: number,
  p: number,
): Float64Array {
  const tau = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const cj = j * m;

    // scaled norm of the column below and on the diagonal
    let scale = 0;
    for (let i = j; i < m; i++) scale = Math.max(scale, Math.abs(a[cj + i]));
    if (scale === 0) continue;
    let sq = 0;
    for (let i = j; i < m; i++) sq += (a[cj + i] / scale) ** 2;
    const x0 = a[cj + j];
    const norm = scale * Math.sqrt(sq);
    const alpha = x0 > 0 ? -norm : norm;

    // v = x − α e_1, normalised so that v[0] = 1
    const v0 = x0 - alpha;
    if (v0 === 0) {
      a[cj + j] = alpha;
      continue;
    }
    for (let i = j + 1; i < m; i++) a[cj + i] /= v0;
    tau[j] = -v0 / alpha;
    a[cj + j] = alpha;

    // apply H_j to the remaining columns
    for (let c = j + 1; c < p; c++) {
      const cc = c * m;
      let s = a[cc + j];
      for (let i = j + 1; i < m; i++) s += a[cj + i] * a[cc + i];
      s *= tau[j];
      a[cc + j] -= s;
      for (let i = j + 1; i < m; i++) a[cc + i] -= s * a[cj + i];
    }
  }
  return tau;
}

/**
 * The first p columns of Q from {@link householderQR}'s output, by
 * columns (m × p): `Q = H_0 ⋯ H_{p−1} [I_p; 0]`, orthonormal to working
 * precision.
 */
export function householderQ(
  a: Float64Array,
  tau: Float64Array,
  m: number,
  p: number,
): Float64Array {
  const q = new Float64Array(m * p);
  for (let j = 0; j < p; j++) q[j * m + j] = 1;
  for (let j = p - 1; j >= 0; j--) {
    const cj = j * m;
    const t = tau[j];
    if (t === 0) continue;
    for (let c = j; c < p; c++) {
      const cc = c * m;
      let s = q[cc + j];
      for (let i = j + 1; i < m; i++) s += a[cj + i] * q[cc + i];
      s *= t;
      q[cc + j] -= s;
      for (let i = j + 1; i < m; i++) q[cc + i] -= s * a[cj + i];
    }
  }
  return q;
}

/**
 * Singular values, descending, of the upper triangle R (p × p) of
 * {@link householderQR}'s output, through the eigenvalues ±σ of
 * [[0, R], [Rᵀ, 0]]: absolute error about `p · eps · σ_max`.
 *
 * LIMITATION: the 2p × 2p dense eigenproblem costs about 8× a p × p one,
 * so p beyond a few hundred takes seconds to minutes (p = 500: 1,000²
 * eigenvalues, several seconds); there is no one-sided Jacobi or
 * bidiagonalisation SVD that would avoid the doubling.
 */
export function triangularSingularValues(
  a: Float64Array,
  m: number,
  p: number,
): Float64Array {
  const n = 2 * p;
  const big = new Float64Array(n * n);
  for (let j = 0; j < p; j++) {
    for (let i = 0; i <= j; i++) {
      const r = a[j * m + i];
      big[i * n + p + j] = r;
      big[(p + j) * n + i] = r;
    }
  }
  const values = symmetricEigenvalues(big, n);
  const sigma = new Float64Array(p);
  for (let j = 0; j < p; j++) sigma[j] = Math.max(values[n - 1 - j], 0);
  return sigma;
}

/**
 * Singular values, descending, of an m × p matrix stored by columns,
 * m ≥ p: Householder QR, then {@link triangularSingularValues}. The input
 * is overwritten.
 */
export function columnSingularValues(
  a: Float64Array,
  m: number,
  p: number,
): Float64Array {
  householderQR(a, m, p);
  return triangularSingularValues(a, m, p);
}

/**
 * Rows of an N × k matrix scaled to unit Euclidean norm, as float64
 * (row-major N × k): `x_i / max(‖x_i‖, 1e-12)`, the convention of
 * PyTorch's `F.normalize`, so an all-zero row stays zero.
 */
export function normalizeRows(x: DenseMatrix): Float64Array {
  const { data, rows, cols } = x;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    let sq = 0;
    for (let j = 0; j < cols; j++) sq += data[base + j] * data[base + j];
    const inv = 1 / Math.max(Math.sqrt(sq), 1e-12);
    for (let j = 0; j < cols; j++) out[base + j] = data[base + j] * inv;
  }
  return out;
}
