/**
 * Dense symmetric eigensolver in float64, for small matrices: the
 * reference path of the spectral toolkit, the fallback of the sparse
 * solver when k is close to N, and the solver of its small projected
 * (Rayleigh–Ritz) problems.
 *
 * Two phases, O(n³) in all:
 * 1. Householder reduction to tridiagonal form, T = Qᵀ A Q, with Q
 *    accumulated explicitly;
 * 2. implicit symmetric QR iteration with Wilkinson shifts on T
 *    (bulge chasing with Givens rotations), rotations accumulated into Q.
 *
 * Reference: G. H. Golub and C. F. Van Loan, "Matrix Computations",
 * 4th ed., §8.3 (Algorithms 8.3.1 Householder tridiagonalisation, 8.3.2
 * implicit symmetric QR step with Wilkinson shift, 8.3.3 symmetric QR).
 * The same scheme underlies EISPACK's tred2/tql2.
 */

import { ConfigError, NumericalError, ShapeError } from "../errors.js";

/** Options of {@link symmetricEigen} and {@link symmetricEigenvalues}. */
export interface SymmetricEigenOptions {
  /**
   * Largest accepted asymmetry, relative to the largest entry:
   * `|a_ij − a_ji| ≤ symmetryTolerance · max|a|`. Default 1e-10. Within
   * the tolerance the matrix is replaced by `(A + Aᵀ) / 2`.
   */
  symmetryTolerance?: number;
  /**
   * Largest number of QR iterations, summed over all eigenvalues.
   * Default `30 · n` (typically about 2 per eigenvalue are needed).
   */
  maxIterations?: number;
}

/** Eigen-decomposition `A = V diag(values) Vᵀ` of a symmetric matrix. */
export interface SymmetricEigenResult {
  /** The n eigenvalues, ascending. */
  values: Float64Array;
  /**
   * n × n row-major, orthonormal: column j (entries `vectors[i * n + j]`)
   * is the unit eigenvector of `values[j]`. The sign of each column is
   * arbitrary, and so is the basis within a repeated eigenvalue.
   */
  vectors: Float64Array;
}

/**
 * Every eigenvalue and eigenvector of a dense real symmetric matrix:
 * `A v_j = λ_j v_j`, λ ascending, `Vᵀ V = I`. Float64 throughout, O(n³)
 * time and O(n²) memory (a few copies of A).
 *
 * Accuracy: backward stable, so each eigenvalue is exact to about
 * `n · eps · ‖A‖₂` in absolute terms; eigenvectors of well-separated
 * eigenvalues are accurate to `eps · ‖A‖ / gap`.
 *
 * @param a n × n row-major matrix (float64 or float32, not modified).
 * @param n the order of the matrix.
 * @param options see {@link SymmetricEigenOptions}.
 * @throws ShapeError when `a.length ≠ n²`.
 * @throws ConfigError when A is not symmetric within the tolerance.
 * @throws NumericalError on NaN/±Inf entries or when the QR iteration does
 *   not converge within `maxIterations`.
 */
export function symmetricEigen(
  a: Float64Array | Float32Array,
  n: number,
  options: SymmetricEigenOptions = {},
): SymmetricEigenResult {
  return decompose("symmetricEigen", a, n, options, true);
}

/**
 * The eigenvalues of a dense real symmetric matrix, ascending, without
 * eigenvectors (about 3× faster than {@link symmetricEigen}). Same inputs,
 * options, accuracy and errors as {@link symmetricEigen}.
 */
export function symmetricEigenvalues(
  a: Float64Array | Float32Array,
  n: number,
  options: SymmetricEigenOptions = {},
): Float64Array {
  return decompose("symmetricEigenvalues", a, n, options, false).values;
}

/** Shared driver: checks, scaling, the two phases, sorting. */
function decompose(
  fn: string,
  a: Float64Array | Float32Array,
  n: number,
  options: SymmetricEigenOptions,
  wantVectors: boolean,
): SymmetricEigenResult {
  if (!Number.isInteger(n) || n < 0) {
    throw new ShapeError(`${fn}: n must be a non-negative integer, got ${n}`);
  }
  if (a.length !== n * n) {
    throw new ShapeError(
      `${fn}: expected an ${n} × ${n} matrix (${n * n} entries), got ` +
        `${a.length} entries`,
    );
  }
  const symmetryTolerance = options.symmetryTolerance ?? 1e-10;
  if (!(symmetryTolerance >= 0)) {
    throw new ConfigError(
      `${fn}: symmetryTolerance must be >= 0, got ${symmetryTolerance}`,
    );
  }
  const maxIterations = options.maxIterations ?? 30 * Math.max(n, 1);
  if (!Number.isInteger(maxIterations) || maxIterations < 0) {
    throw new ConfigError(
      `${fn}: maxIterations must be a non-negative integer, got ` +
        `${maxIterations}`,
    );
  }

  // check the entries and find the scale
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!Number.isFinite(v)) {
      const r = Math.floor(i / n);
      throw new NumericalError(
        `${fn}: expected finite entries, got ${v} at (${r}, ${i - r * n})`,
      );
    }
    const m = Math.abs(v);
    if (m > maxAbs) maxAbs = m;
  }

  // check symmetry and copy the symmetric part, scaled to max|a| = 1 so
  // that squares in the Householder norms can neither overflow nor
  // underflow
  const scale = maxAbs > 0 ? maxAbs : 1;
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const aij = a[i * n + j];
      const aji = a[j * n + i];
      if (Math.abs(aij - aji) > symmetryTolerance * maxAbs) {
        throw new ConfigError(
          `${fn}: expected a symmetric matrix (|a_ij − a_ji| <= ` +
            `${symmetryTolerance} · max|a| = ${symmetryTolerance * maxAbs}` +
            `), got a[${i}][${j}] = ${aij} and a[${j}][${i}] = ${aji}`,
        );
      }
      const s = (aij + aji) / 2 / scale;
      w[i * n + j] = s;
      w[j * n + i] = s;
    }
  }

  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(n - 1, 0));
  const betas = tridiagonalize(w, n, d, e);

  // NOTE: the QR phase keeps Qᵀ (row j = eigenvector j), so that each
  // rotation updates two contiguous rows
  const qt = wantVectors ? transposed(accumulateQ(w, betas, n), n) : null;
  tridiagonalQR(fn, d, e, qt, n, maxIterations);

  // sort ascending, undo the scaling
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((x, y) => d[x] - d[y]);
  const values = new Float64Array(n);
  for (let j = 0; j < n; j++) values[j] = d[order[j]] * scale;
  let vectors = new Float64Array(0);
  if (qt !== null) {
    vectors = new Float64Array(n * n);
    for (let j = 0; j < n; j++) {
      const row = order[j] * n;
      for (let i = 0; i < n; i++) vectors[i * n + j] = qt[row + i];
    }
  }
  return { values, vectors };
}

/**
 * Sub-diagonal entries below this are zero for deflation. The matrix is
 * scaled to max|a| = 1, so this only matters where neighbouring diagonal
 * entries are themselves tiny.
 */
const TINY = 1e-300;

/** The transpose of a row-major n × n matrix. */
function transposed(m: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) t[j * n + i] = m[i * n + j];
  }
  return t;
}

/**
 * Reduce the symmetric matrix `w` (overwritten) to tridiagonal form
 * T = Qᵀ A Q: diagonal into `d`, sub-diagonal into `e` (`e[i] = T[i+1][i]`).
 * Returns β of every reflector; the reflector vectors are left in `w`
 * (those of step k in column k, rows k+1..n−1) for {@link accumulateQ}.
 *
 * Step k zeroes column k below the sub-diagonal with the reflector
 * `H = I − β v vᵀ` acting on indices k+1..n−1, and updates the trailing
 * block as `W ← H W H = W − v pᵀ − p vᵀ` with `p = β W v − (β² vᵀWv / 2) v`.
 * NOTE: only the lower triangle of the trailing block is read and
 * written (the upper one goes stale), which halves the memory traffic.
 */
function tridiagonalize(
  w: Float64Array,
  n: number,
  d: Float64Array,
  e: Float64Array,
): Float64Array {
  const betas = new Float64Array(Math.max(n, 0));
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k + 2 < n; k++) {
    const lo = k + 1;

    // the reflector that maps x = w[lo..n−1][k] onto α·e_1
    let tail = 0;
    for (let i = lo + 1; i < n; i++) tail += w[i * n + k] * w[i * n + k];
    const x0 = w[lo * n + k];
    if (tail === 0) {
      // NOTE: column already reduced; H = I, nothing to do
      e[k] = x0;
      w[lo * n + k] = 0;
      continue;
    }
    const norm = Math.sqrt(x0 * x0 + tail);
    const alpha = x0 > 0 ? -norm : norm;
    for (let i = lo; i < n; i++) v[i] = w[i * n + k];
    v[lo] -= alpha;
    const beta = 2 / (v[lo] * v[lo] + tail);
    e[k] = alpha;
    betas[k] = beta;
    w[lo * n + k] = v[lo];

    // p = W v from the lower triangle: entry (i, j), j < i, serves both
    // p_i (as W_ij v_j) and p_j (as W_ji v_i)
    p.fill(0, lo, n);
    for (let i = lo; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      let s = 0;
      for (let j = lo; j < i; j++) {
        const wij = w[row + j];
        s += wij * v[j];
        p[j] += wij * vi;
      }
      p[i] += s + w[row + i] * vi;
    }

    // p ← β p − (β vᵀ(β p) / 2) v
    let vp = 0;
    for (let i = lo; i < n; i++) {
      p[i] *= beta;
      vp += v[i] * p[i];
    }
    const half = (beta * vp) / 2;
    for (let i = lo; i < n; i++) p[i] -= half * v[i];

    // W ← W − v pᵀ − p vᵀ on the lower triangle of the trailing block
    for (let i = lo; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      const pi = p[i];
      for (let j = lo; j <= i; j++) w[row + j] -= vi * p[j] + pi * v[j];
    }
  }

  // what is left is the diagonal and the last sub-diagonal entry
  for (let i = 0; i < n; i++) d[i] = w[i * n + i];
  if (n >= 2) e[n - 2] = w[(n - 1) * n + (n - 2)];
  return betas;
}

/**
 * Q = H_0 H_1 ⋯ H_{n−3} (row-major) from the reflectors that
 * {@link tridiagonalize} left in `w`, applied backwards to the identity:
 * when H_k is applied, the product so far differs from I only in rows and
 * columns above k, so each step costs O((n − k)²).
 */
function accumulateQ(
  w: Float64Array,
  betas: Float64Array,
  n: number,
): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const s = new Float64Array(n);
  for (let k = n - 3; k >= 0; k--) {
    const beta = betas[k];
    if (beta === 0) continue;
    const lo = k + 1;

    // s = vᵀ Q over rows and columns lo..n−1, then Q −= β v s
    s.fill(0, lo, n);
    for (let i = lo; i < n; i++) {
      const vi = w[i * n + k];
      if (vi === 0) continue;
      const row = i * n;
      for (let c = lo; c < n; c++) s[c] += vi * q[row + c];
    }
    for (let i = lo; i < n; i++) {
      const f = beta * w[i * n + k];
      if (f === 0) continue;
      const row = i * n;
      for (let c = lo; c < n; c++) q[row + c] -= f * s[c];
    }
  }
  return q;
}

/**
 * Diagonalise the symmetric tridiagonal matrix (d, e) in place by implicit
 * QR steps with Wilkinson shifts; `d` ends up holding the eigenvalues
 * (unsorted) and, when given, `qt` (Qᵀ, row-major) is updated as
 * `Qᵀ ← G Qᵀ` for every rotation G, so that its rows become the
 * eigenvectors.
 */
function tridiagonalQR(
  fn: string,
  d: Float64Array,
  e: Float64Array,
  qt: Float64Array | null,
  n: number,
  maxIterations: number,
): void {
  const eps = Number.EPSILON;
  let iterations = 0;
  let hi = n - 1;
  while (hi > 0) {
    // deflate: a negligible sub-diagonal entry splits the matrix
    for (let i = 0; i < hi; i++) {
      const ei = Math.abs(e[i]);
      if (ei <= eps * (Math.abs(d[i]) + Math.abs(d[i + 1])) || ei < TINY) {
        e[i] = 0;
      }
    }
    while (hi > 0 && e[hi - 1] === 0) hi--;
    if (hi === 0) break;

    // the unreduced block lo..hi ending at hi
    let lo = hi - 1;
    while (lo > 0 && e[lo - 1] !== 0) lo--;

    if (iterations >= maxIterations) {
      throw new NumericalError(
        `${fn}: expected the QR iteration to converge within ` +
          `${maxIterations} iterations, got an off-diagonal entry ` +
          `${e[hi - 1]} left at row ${hi}`,
      );
    }
    iterations++;

    // Wilkinson shift: the eigenvalue of the trailing 2 × 2 block that is
    // closer to d[hi]
    const delta = (d[hi - 1] - d[hi]) / 2;
    const b = e[hi - 1];
    const root = Math.hypot(delta, b);
    const mu = d[hi] - (b * b) / (delta + (delta >= 0 ? root : -root));

    // chase the bulge from lo down to hi
    let x = d[lo] - mu;
    let z = e[lo];
    for (let k = lo; k < hi; k++) {
      // rotation R = [[c, s], [−s, c]] with R [x; z] = [r; 0]
      const r = Math.hypot(x, z);
      const c = r === 0 ? 1 : x / r;
      const s = r === 0 ? 0 : z / r;
      if (k > lo) e[k - 1] = r;

      // T ← R T Rᵀ on rows and columns k, k+1
      const dk = d[k];
      const dk1 = d[k + 1];
      const ek = e[k];
      const cs = c * s;
      d[k] = c * c * dk + 2 * cs * ek + s * s * dk1;
      d[k + 1] = s * s * dk - 2 * cs * ek + c * c * dk1;
      e[k] = cs * (dk1 - dk) + (c * c - s * s) * ek;

      // the rotation pushes a bulge to (k+2, k)
      if (k + 1 < hi) {
        const f = e[k + 1];
        z = s * f;
        e[k + 1] = c * f;
        x = e[k];
      }

      // V ← V Rᵀ on columns k and k+1 of V, i.e. rows k, k+1 of Vᵀ
      if (qt !== null) {
        const r0 = k * n;
        const r1 = r0 + n;
        for (let i = 0; i < n; i++) {
          const a0 = qt[r0 + i];
          const a1 = qt[r1 + i];
          qt[r0 + i] = c * a0 + s * a1;
          qt[r1 + i] = c * a1 - s * a0;
        }
      }
    }
  }
}
