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
  const q = wantVectors ? identity(n) : null;
  tridiagonalize(w, n, d, e, q);
  tridiagonalQR(fn, d, e, q, n, maxIterations);

  // sort ascending, undo the scaling
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((x, y) => d[x] - d[y]);
  const values = new Float64Array(n);
  for (let j = 0; j < n; j++) values[j] = d[order[j]] * scale;
  let vectors = new Float64Array(0);
  if (q !== null) {
    vectors = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) vectors[i * n + j] = q[i * n + order[j]];
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

/** The n × n identity, row-major. */
function identity(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

/**
 * Reduce the symmetric matrix `w` (overwritten) to tridiagonal form:
 * diagonal into `d`, sub-diagonal into `e` (`e[i] = T[i+1][i]`), and, when
 * `q` is given (starting as I), `q ← q · H_0 · H_1 ⋯` so that
 * `A = Q T Qᵀ`.
 *
 * Step k zeroes column k below the sub-diagonal with the reflector
 * `H = I − β v vᵀ` acting on indices k+1..n−1, and updates the trailing
 * block as `W ← H W H = W − v pᵀ − p vᵀ` with `p = β W v − (β² vᵀWv / 2) v`.
 */
function tridiagonalize(
  w: Float64Array,
  n: number,
  d: Float64Array,
  e: Float64Array,
  q: Float64Array | null,
): void {
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
      continue;
    }
    const norm = Math.sqrt(x0 * x0 + tail);
    const alpha = x0 > 0 ? -norm : norm;
    for (let i = lo; i < n; i++) v[i] = w[i * n + k];
    v[lo] -= alpha;
    const vv = v[lo] * v[lo] + tail;
    const beta = 2 / vv;
    e[k] = alpha;

    // p = β W v over the trailing block, then p −= (β vᵀp / 2) v
    let vp = 0;
    for (let i = lo; i < n; i++) {
      let s = 0;
      const row = i * n;
      for (let j = lo; j < n; j++) s += w[row + j] * v[j];
      p[i] = beta * s;
      vp += v[i] * p[i];
    }
    const half = (beta * vp) / 2;
    for (let i = lo; i < n; i++) p[i] -= half * v[i];

    // W ← W − v pᵀ − p vᵀ on the trailing block
    for (let i = lo; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      const pi = p[i];
      for (let j = lo; j < n; j++) w[row + j] -= vi * p[j] + pi * v[j];
    }

    // Q ← Q H: every row of Q loses β (Q_row · v) v
    if (q !== null) {
      for (let i = 0; i < n; i++) {
        const row = i * n;
        let s = 0;
        for (let j = lo; j < n; j++) s += q[row + j] * v[j];
        s *= beta;
        if (s === 0) continue;
        for (let j = lo; j < n; j++) q[row + j] -= s * v[j];
      }
    }
  }

  // what is left is the diagonal and the last sub-diagonal entry
  for (let i = 0; i < n; i++) d[i] = w[i * n + i];
  if (n >= 2) e[n - 2] = w[(n - 1) * n + (n - 2)];
}

/**
 * Diagonalise the symmetric tridiagonal matrix (d, e) in place by implicit
 * QR steps with Wilkinson shifts; `d` ends up holding the eigenvalues
 * (unsorted) and, when given, `q ← q · Gᵀ` for every rotation G, so that
 * its columns become the eigenvectors.
 */
function tridiagonalQR(
  fn: string,
  d: Float64Array,
  e: Float64Array,
  q: Float64Array | null,
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

      // V ← V Rᵀ: columns k and k+1
      if (q !== null) {
        for (let i = 0; i < n; i++) {
          const row = i * n;
          const a0 = q[row + k];
          const a1 = q[row + k + 1];
          q[row + k] = c * a0 + s * a1;
          q[row + k + 1] = c * a1 - s * a0;
        }
      }
    }
  }
}
