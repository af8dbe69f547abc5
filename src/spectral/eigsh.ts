/**
 * `eigsh`: a few extreme eigenpairs of a large sparse symmetric matrix,
 * by block thick-restart Lanczos with full reorthogonalization, locking
 * of converged pairs and a probe for missed multiplicities; small
 * problems go to the dense solver.
 *
 * References:
 * - K. Wu and H. Simon, "Thick-restart Lanczos method for large symmetric
 *   eigenvalue problems", SIAM J. Matrix Anal. Appl. 22(2), 2000: the
 *   restart that keeps Ritz vectors, so the projected matrix becomes an
 *   arrowhead (diagonal of kept Ritz values plus the coupling to the
 *   next Lanczos vector) and the basis stays a Krylov basis.
 * - G. W. Stewart, "A Krylov–Schur algorithm for large eigenproblems",
 *   SIAM J. Matrix Anal. Appl. 23(3), 2001, and Y. Zhou and Y. Saad,
 *   "Block Krylov–Schur method for large symmetric eigenvalue problems",
 *   Numer. Algorithms 47, 2008: the block form of the same restart.
 * - J. W. Daniel, W. B. Gragg, L. Kaufman and G. W. Stewart,
 *   "Reorthogonalization and stable algorithms for updating the
 *   Gram–Schmidt QR factorization", Math. Comp. 30, 1976: the test that
 *   decides when a second Gram–Schmidt pass is needed (η = 1/√2).
 *
 * The method, in one paragraph. A basis V of orthonormal vectors grows
 * by blocks of p: the next block is `A W` (W the last block) minus its
 * components along every basis vector and every locked eigenvector, made
 * orthonormal. The projected matrix `H = Vᵀ A V` is block tridiagonal
 * (an arrowhead after a restart). When V holds `ncv` vectors minus the
 * locked ones, the Ritz pairs of H give eigenvalue estimates whose
 * residual norms are known without any product with A; converged wanted
 * pairs are locked (moved out of V, and every later vector is made
 * orthogonal to them), the best other Ritz vectors are kept, and the
 * basis grows again from the same next block.
 *
 * NOTE on repeated eigenvalues: a Krylov space grown from a block of p
 * vectors holds at most p independent eigenvectors of one eigenvalue, so
 * a block method alone finds at most p copies. When the converged
 * eigenvalues contain a cluster of p or more equal values (a graph with
 * c ≥ p components has eigenvalue 1 of Ā c times), the solver probes:
 * it starts a fresh random block orthogonal to everything locked and
 * converges the best p remaining eigenpairs; those that beat the k-th
 * value are kept and the probe repeats until none does. A basis vector
 * that vanishes in Gram–Schmidt (an invariant subspace was found) is
 * replaced by a fresh random vector as well.
 *
 * Every O(N) step (the product with a graph operator, the Gram–Schmidt
 * sweeps, the restart's change of basis) is a row kernel of
 * operators.ts; with `threads: 2` the rows are split between this thread
 * and one worker thread over shared memory, and `eigsh` stays
 * synchronous (the threads meet with `Atomics.wait`).
 *
 * LIMITATION: the probe trusts convergence: it stops when the best
 * remaining pairs it converged do not beat the k-th value, as ARPACK
 * trusts its Ritz values. A missed copy of an eigenvalue deep inside a
 * cluster of nearly equal ones could in principle go unseen.
 * LIMITATION: at most two threads; the worker keeps its own copy of the
 * operator's CSR arrays (index and weights), so a graph with 10^7 edges
 * costs about 40 MB more (80 MB more when weighted).
 */

import { availableParallelism } from "node:os";
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import { ConfigError, NumericalError, ShapeError } from "../errors.js";
import { mulberry32 } from "../random.js";
import { symmetricEigen } from "./dense.js";
import {
  isSimilarToSymmetric,
  KERNEL,
  type KernelState,
  type LinearOperator,
  operatorToDense,
  runKernel,
  SparseOperator,
  workerSource,
} from "./operators.js";

/**
 * Which end of the spectrum to compute: `LA` largest algebraic, `SA`
 * smallest algebraic, `LM` largest magnitude (as in scipy/ARPACK).
 */
export type Which = "LA" | "SA" | "LM";

/** Solver that produced a result. */
export type EigshMethod = "lanczos" | "dense";

/** Progress of the iterative solver, handed to `onProgress`. */
export interface EigshProgress {
  /** Restart cycles (Rayleigh–Ritz steps) done so far. */
  iteration: number;
  /** Eigenpairs locked so far (may exceed k while probing). */
  locked: number;
  /** Number of eigenpairs asked for. */
  wanted: number;
  /** Products with a single vector so far. */
  matvecs: number;
  /** `main` while converging the first k, `probe` while probing. */
  phase: "main" | "probe";
}

/** Options of {@link eigsh}. */
export interface EigshOptions {
  /** Which eigenvalues (default `"LA"`). */
  which?: Which;
  /**
   * Convergence tolerance (default 1e-8). A pair (θ, v) is converged
   * when `‖A v − θ v‖ ≤ tol · max(|θ|, 1e-3 · ‖A‖)`: relative to the
   * eigenvalue as in ARPACK, with a floor so that a zero eigenvalue (the
   * Laplacians) converges too. ‖A‖ is estimated by the largest |Ritz
   * value| and ‖A w‖ seen. Values much below 1e-12 may be unattainable in
   * float64 and end in `EigshConvergenceError`.
   */
  tol?: number;
  /**
   * Largest number of restart cycles (Rayleigh–Ritz steps), probes
   * included (default 1000). Reaching it raises `EigshConvergenceError`.
   */
  maxIterations?: number;
  /** Seed of the random start vectors (default 0). */
  seed?: number;
  /**
   * A random generator returning numbers in [0, 1); overrides `seed`.
   */
  random?: () => number;
  /**
   * Number of basis vectors, locked eigenvectors included (the memory is
   * about `(ncv + p) · N` float64 plus the k eigenvectors). Default
   * `2k + 32`, at most N/2 (but at least `k + 2p`); must lie in
   * `[k + 2p, N − p]`.
   * More vectors mean fewer restarts and products, and more
   * orthogonalization per product; a block of 2 needs more room than
   * ARPACK's single vector (whose default is `max(2k + 1, 20)`).
   * LIMITATION: a basis that fills nearly all of the space (ncv close to
   * N) can make the residual estimates of tiny eigenvalues optimistic at
   * tolerances near 1e-10; the final check with true residuals then
   * raises `EigshConvergenceError` instead of returning the pairs.
   */
  ncv?: number;
  /**
   * Block size p (default 2): vectors multiplied by A at once. A block
   * of p finds up to p copies of a repeated eigenvalue directly (more by
   * probing); 1 is the classic single-vector Lanczos, and then every run
   * ends with a probe that converges the (k+1)-th eigenvalue.
   */
  blockSize?: number;
  /**
   * `"auto"` (default): the dense solver when N ≤ 200 or k > N/3, else
   * Lanczos. `"dense"` or `"lanczos"` force one.
   */
  method?: "auto" | EigshMethod;
  /**
   * Threads of the iterative solver: 1, or 2 (the calling thread and one
   * worker thread sharing the vectors through shared memory; every O(N)
   * step is split by rows). Default 2 when N ≥ 50,000 and the machine
   * has two cores, else 1. Results are deterministic for a given thread
   * count; 1 and 2 threads differ by rounding only.
   */
  threads?: number;
  /** Called after every restart cycle of the iterative solver. */
  onProgress?: (progress: EigshProgress) => void;
}

/** Eigenpairs returned by {@link eigsh}. */
export interface EigshResult {
  /**
   * The k eigenvalues, best first: descending for `LA`, ascending for
   * `SA`, by descending magnitude for `LM`.
   */
  values: Float64Array;
  /**
   * N × k row-major: column j (entries `vectors[i * k + j]`) is the unit
   * eigenvector of `values[j]`. Orthonormal for a symmetric operator;
   * for a {@link SimilarToSymmetric} operator (the random-walk
   * Laplacian) the columns are `S u` rescaled to unit length, which are
   * not orthogonal. Signs, and the basis within a repeated eigenvalue,
   * are arbitrary.
   */
  vectors: Float64Array;
  /**
   * `‖A v_j − λ_j v_j‖₂` for each pair, computed with A itself at the
   * end (not estimated).
   */
  residuals: Float64Array;
  /** Restart cycles (0 for the dense solver). */
  iterations: number;
  /** Products with a single vector (a block of b counts b). */
  matvecs: number;
  /** Whether every pair met the tolerance. */
  converged: boolean;
  /** The solver used. */
  method: EigshMethod;
}

/**
 * The iterative solver did not converge within `maxIterations`, or the
 * final residuals missed the tolerance. `estimate` holds the best pairs
 * found (locked ones and the best Ritz pairs), with their true
 * residuals and `converged: false`.
 */
export class EigshConvergenceError extends NumericalError {
  /** The best estimate of the k eigenpairs. */
  readonly estimate: EigshResult;

  constructor(message: string, estimate: EigshResult) {
    super(message);
    this.estimate = estimate;
  }
}

/** Problems up to this order always go to the dense solver. */
const DENSE_MAX_N = 200;

/** Converged when the residual is below `tol · max(|θ|, FLOOR · ‖A‖)`. */
const RELATIVE_FLOOR = 1e-3;

/** DGKS: repeat Gram–Schmidt when a pass keeps less than this fraction. */
const DGKS_ETA = Math.SQRT1_2;

/**
 * A new basis vector whose norm after orthogonalization is below this
 * fraction of `‖A w‖` lies in the span already: it is replaced.
 */
const BREAKDOWN = 1e-12;

/**
 * At a restart, besides the wanted Ritz vectors, this fraction of the
 * remaining room is kept for the next best ones (Wu & Simon's thick
 * restart; more kept vectors mean fewer new ones per cycle).
 */
const KEEP_EXTRA = 0.25;

/** From this order on, a second thread helps by default. */
const THREADS_MIN_N = 50_000;

/**
 * The final true residuals may exceed the tolerance by this factor
 * (rounding in forming the Ritz vectors) before the run counts as failed.
 */
const FINAL_SLACK = 10;

/**
 * The k extreme eigenpairs of a symmetric operator A: `A v = λ v`.
 *
 * `op` is a {@link LinearOperator} (the graph operators of
 * `operators.ts`, a `DenseOperator`, or any object with `size` and
 * `matvec`, optionally `matmul`), assumed symmetric: a custom operator
 * is checked once with two random vectors. A {@link SimilarToSymmetric}
 * operator (`rwLaplacianOperator`) is solved through its symmetric part,
 * and its eigenvectors are mapped back.
 *
 * Small problems (N ≤ 200 or k > N/3) use the dense solver
 * (`symmetricEigen`, O(N³)); the others block thick-restart Lanczos (see
 * the file banner), with about `(ncv + p + k) · N` float64 of memory.
 *
 * @param op the operator, of order N.
 * @param k number of eigenpairs, 1 ≤ k ≤ N.
 * @param options see {@link EigshOptions}.
 * @returns values (best first), unit eigenvectors (N × k), residual
 *   norms, counts, `converged: true`.
 * @throws ConfigError for an invalid k or option, or a custom operator
 *   that is not symmetric.
 * @throws ShapeError when an operator returns vectors of the wrong size.
 * @throws EigshConvergenceError (a `NumericalError`) when the iteration
 *   does not converge; its `estimate` holds the best pairs found.
 */
export function eigsh(
  op: LinearOperator,
  k: number,
  options: EigshOptions = {},
): EigshResult {
  const fn = "eigsh";
  const n = op.size;
  if (!Number.isInteger(n) || n < 1) {
    throw new ShapeError(`${fn}: expected an operator of size >= 1, got ${n}`);
  }
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new ConfigError(
      `${fn}: k must be an integer in [1, N = ${n}], got ${k}`,
    );
  }
  const which = options.which ?? "LA";
  if (which !== "LA" && which !== "SA" && which !== "LM") {
    throw new ConfigError(
      `${fn}: which must be "LA", "SA" or "LM", got ${String(which)}`,
    );
  }
  const tol = options.tol ?? 1e-8;
  if (!(typeof tol === "number" && tol > 0 && tol < 1)) {
    throw new ConfigError(`${fn}: tol must be in (0, 1), got ${tol}`);
  }
  const maxIterations = options.maxIterations ?? 1000;
  if (!Number.isInteger(maxIterations) || maxIterations < 1) {
    throw new ConfigError(
      `${fn}: maxIterations must be a positive integer, got ` +
        `${maxIterations}`,
    );
  }
  const method = options.method ?? "auto";
  if (method !== "auto" && method !== "dense" && method !== "lanczos") {
    throw new ConfigError(
      `${fn}: method must be "auto", "dense" or "lanczos", got ` +
        `${String(method)}`,
    );
  }
  const random =
    options.random ??
    mulberry32((Math.floor(options.seed ?? 0) >>> 0) ^ 0x9e3779b9);

  // a similar-to-symmetric operator is solved through its symmetric part
  if (isSimilarToSymmetric(op)) {
    const inner = eigsh(op.symmetricPart, k, options);
    return mapSimilar(op, inner);
  }

  // a custom operator must be symmetric
  const trusted = op instanceof SparseOperator && op.kind !== "custom";
  if (!trusted) checkSymmetric(fn, op, random);

  const useDense =
    method === "dense" ||
    (method === "auto" && (n <= DENSE_MAX_N || 3 * k > n));
  if (useDense) return denseEigsh(op, k, which);
  const p = options.blockSize ?? 2;
  if (!Number.isInteger(p) || p < 1 || 2 * p > n) {
    throw new ConfigError(
      `${fn}: blockSize must be an integer in [1, N/2 = ` +
        `${Math.floor(n / 2)}], got ${p}`,
    );
  }
  const ncvDefault = Math.min(
    n - p,
    Math.max(k + 2 * p, Math.min(Math.floor(n / 2), 2 * k + 32)),
  );
  const ncv = options.ncv ?? ncvDefault;
  if (!Number.isInteger(ncv) || ncv < k + 2 * p || ncv > n - p) {
    throw new ConfigError(
      `${fn}: ncv must be an integer in [k + 2p, N − p] = ` +
        `[${k + 2 * p}, ${n - p}] for k = ${k}, blockSize = ${p}, got ` +
        `${ncv} (use method "dense" for such a small problem)`,
    );
  }
  const threads =
    options.threads ??
    (n >= THREADS_MIN_N ? Math.min(2, availableParallelism()) : 1);
  if (!Number.isInteger(threads) || threads < 1 || threads > 2) {
    throw new ConfigError(`${fn}: threads must be 1 or 2, got ${threads}`);
  }
  const solver = new BlockLanczos(op, k, which, tol, p, ncv, random, threads);
  return solver.run(maxIterations, options.onProgress);
}

/** Sort key: larger is better for the chosen end of the spectrum. */
function keyOf(which: Which, theta: number): number {
  if (which === "LA") return theta;
  if (which === "SA") return -theta;
  return Math.abs(theta);
}

/**
 * Raise `ConfigError` unless `xᵀ(A y) = yᵀ(A x)` for two random vectors,
 * to `1e-10` relative to `‖x‖ ‖A y‖ + ‖y‖ ‖A x‖`.
 */
function checkSymmetric(
  fn: string,
  op: LinearOperator,
  random: () => number,
): void {
  const n = op.size;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = 2 * random() - 1;
    y[i] = 2 * random() - 1;
  }
  const ax = new Float64Array(n);
  const ay = new Float64Array(n);
  applyColumns(op, x, 1, ax);
  applyColumns(op, y, 1, ay);
  const lhs = dot(x, 0, ay, 0, n);
  const rhs = dot(y, 0, ax, 0, n);
  const scale =
    Math.sqrt(dot(x, 0, x, 0, n) * dot(ay, 0, ay, 0, n)) +
    Math.sqrt(dot(y, 0, y, 0, n) * dot(ax, 0, ax, 0, n));
  if (!Number.isFinite(lhs) || !Number.isFinite(rhs)) {
    throw new NumericalError(`${fn}: the operator returned NaN or Inf`);
  }
  if (Math.abs(lhs - rhs) > 1e-10 * scale) {
    throw new ConfigError(
      `${fn}: expected a symmetric operator, but xᵀAy = ${lhs} and ` +
        `yᵀAx = ${rhs} for random x, y`,
    );
  }
}

/**
 * `Y ← A X` for b column-major vectors (column c at `c · N`), through
 * `matmul` when the operator has it (with a row-major copy), else one
 * `matvec` per column.
 */
function applyColumns(
  op: LinearOperator,
  x: Float64Array,
  b: number,
  y: Float64Array,
): void {
  const n = op.size;
  if (b === 1 || op.matmul === undefined) {
    for (let c = 0; c < b; c++) {
      op.matvec(x.subarray(c * n, (c + 1) * n), y.subarray(c * n, (c + 1) * n));
    }
    return;
  }
  const rx = new Float64Array(n * b);
  const ry = new Float64Array(n * b);
  for (let c = 0; c < b; c++) {
    for (let i = 0; i < n; i++) rx[i * b + c] = x[c * n + i];
  }
  op.matmul(rx, b, ry);
  for (let c = 0; c < b; c++) {
    for (let i = 0; i < n; i++) y[c * n + i] = ry[i * b + c];
  }
}

/** `Σ_i a[ao + i] · b[bo + i]` over n entries. */
function dot(
  a: Float64Array,
  ao: number,
  b: Float64Array,
  bo: number,
  n: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    s0 += a[ao + i] * b[bo + i];
    s1 += a[ao + i + 1] * b[bo + i + 1];
  }
  if (i < n) s0 += a[ao + i] * b[bo + i];
  return s0 + s1;
}

/** The dense path: every eigenpair by `symmetricEigen`, the best k kept. */
function denseEigsh(op: LinearOperator, k: number, which: Which): EigshResult {
  const n = op.size;
  const a = operatorToDense(op);
  const { values, vectors } = symmetricEigen(a, n);
  const order = Array.from({ length: n }, (_, j) => j);
  order.sort(
    (x, y) => keyOf(which, values[y]) - keyOf(which, values[x]) || x - y,
  );
  const outValues = new Float64Array(k);
  const columns = new Float64Array(n * k);
  for (let j = 0; j < k; j++) {
    const src = order[j];
    outValues[j] = values[src];
    for (let i = 0; i < n; i++) columns[j * n + i] = vectors[i * n + src];
  }
  const residuals = trueResiduals(op, outValues, columns);
  return {
    values: outValues,
    vectors: toRowMajor(columns, n, k),
    residuals,
    iterations: 0,
    matvecs: op.toDense === undefined ? n + k : k,
    converged: true,
    method: "dense",
  };
}

/** `‖A v_j − λ_j v_j‖` for column-major unit vectors. */
function trueResiduals(
  op: LinearOperator,
  values: Float64Array,
  columns: Float64Array,
): Float64Array {
  const n = op.size;
  const k = values.length;
  const av = new Float64Array(n * k);
  applyColumns(op, columns, k, av);
  const out = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const r = av[j * n + i] - values[j] * columns[j * n + i];
      s += r * r;
    }
    out[j] = Math.sqrt(s);
  }
  return out;
}

/** Column-major N × k to row-major N × k. */
function toRowMajor(columns: Float64Array, n: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < n; i++) out[i * k + j] = columns[j * n + i];
  }
  return out;
}

/**
 * Map eigenpairs of the symmetric part B of `M = S B S⁻¹` to M: `v = S u`
 * rescaled to unit length; residuals recomputed with M.
 */
function mapSimilar(
  op: LinearOperator & { similarity: Float64Array },
  inner: EigshResult,
): EigshResult {
  const n = op.size;
  const k = inner.values.length;
  const s = op.similarity;
  const columns = new Float64Array(n * k);
  for (let j = 0; j < k; j++) {
    let norm = 0;
    for (let i = 0; i < n; i++) {
      const v = s[i] * inner.vectors[i * k + j];
      columns[j * n + i] = v;
      norm += v * v;
    }
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let i = 0; i < n; i++) columns[j * n + i] *= scale;
  }
  return {
    ...inner,
    vectors: toRowMajor(columns, n, k),
    residuals: trueResiduals(op, inner.values, columns),
    matvecs: inner.matvecs + k,
  };
}

/** A Float64Array on shared memory when `shared`, else a plain one. */
function float64(length: number, shared: boolean): Float64Array {
  return shared
    ? new Float64Array(new SharedArrayBuffer(8 * length))
    : new Float64Array(length);
}

/** A shared copy of an Int32Array. */
function sharedInt32(a: Int32Array): Int32Array {
  const out = new Int32Array(new SharedArrayBuffer(4 * a.length));
  out.set(a);
  return out;
}

/** A shared copy of a Float64Array, or null. */
function sharedFloat64(a: Float64Array | null): Float64Array | null {
  if (a === null) return null;
  const out = float64(a.length, true);
  out.set(a);
  return out;
}

/**
 * Runs the row kernels over all N rows: on the calling thread alone, or
 * split with one worker thread (shared memory, `Atomics.wait` to meet),
 * so that `eigsh` stays synchronous either way. Partial sums of the two
 * threads are added in a fixed order, so results are deterministic for
 * a given thread count.
 */
class RowEngine {
  readonly state: KernelState;
  readonly threads: number;
  private worker: Worker | null = null;
  private ctrl: Int32Array | null = null;
  private port: MessagePort | null = null;
  private workerState: KernelState | null = null;
  private seq = 0;
  /** Rows of the main thread for dense kernels and for the product. */
  private readonly splitDense: number;
  private readonly splitSparse: number;

  constructor(
    n: number,
    columns: number,
    qColumns: number,
    p: number,
    sparse: SparseOperator | null,
    threads: number,
  ) {
    const shared = threads > 1;
    this.state = {
      n,
      V: float64(n * columns, shared),
      Q: float64(n * qColumns, shared),
      rx: float64(sparse === null ? 0 : n * p, shared),
      ry: float64(sparse === null ? 0 : n * p, shared),
      fargs: float64(256, shared),
      out: new Float64Array(256),
      rowPtr: sparse?.rowPtr ?? new Int32Array(1),
      colIdx: sparse?.colIdx ?? new Int32Array(0),
      weights: sparse?.weights ?? null,
      scale: sparse?.scale ?? null,
      diagonal: sparse?.diagonal ?? null,
      sign: sparse?.sign ?? 1,
    };
    this.splitDense = Math.floor(n / 2);
    let split = this.splitDense;
    if (sparse !== null) {
      // balance the stored entries of the two halves
      const half = sparse.rowPtr[n] / 2;
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sparse.rowPtr[mid] < half) lo = mid + 1;
        else hi = mid;
      }
      split = lo;
    }
    this.splitSparse = split;
    this.threads = shared && this.startWorker() ? 2 : 1;
  }

  /** Start the worker; false (and single-threaded) if it cannot run. */
  private startWorker(): boolean {
    const st = this.state;
    const ctrl = new Int32Array(new SharedArrayBuffer(4 * 16));
    ctrl[1] = -3;
    const channel = new MessageChannel();
    const workerState: KernelState = {
      ...st,
      out: float64(256, true),
      rowPtr: sharedInt32(st.rowPtr),
      colIdx: sharedInt32(st.colIdx),
      weights: sharedFloat64(st.weights),
      scale: sharedFloat64(st.scale),
      diagonal: sharedFloat64(st.diagonal),
    };
    let worker: Worker;
    try {
      worker = new Worker(workerSource(), {
        eval: true,
        workerData: { ctrl, port: channel.port1, state: workerState },
        transferList: [channel.port1],
      });
    } catch {
      return false;
    }
    worker.unref();
    worker.on("error", () => {
      // reported through the control array; nothing to do here
    });

    // wait (at most 10 s) for the worker to say it is ready
    const deadline = Date.now() + 10_000;
    while (Atomics.load(ctrl, 1) === -3 && Date.now() < deadline) {
      Atomics.wait(ctrl, 1, -3, 100);
    }
    if (Atomics.load(ctrl, 1) !== 0) {
      void worker.terminate();
      return false;
    }
    this.worker = worker;
    this.ctrl = ctrl;
    this.port = channel.port2;
    this.workerState = workerState;
    return true;
  }

  /**
   * Run one kernel over all rows and return the partial sums it wrote
   * (the first `outLength` entries of `out`), added over the threads.
   */
  run(
    kind: number,
    args: number[],
    outLength: number,
    sparse = false,
  ): Float64Array {
    const st = this.state;
    const n = st.n;
    if (this.worker === null || this.ctrl === null) {
      const a = new Int32Array(5 + args.length);
      a[2] = kind;
      a.set(args, 5);
      runKernel(st, a, 0, n);
      return st.out.subarray(0, outLength);
    }

    // hand the worker its rows, do ours, then wait for it
    const ctrl = this.ctrl;
    const split = sparse ? this.splitSparse : this.splitDense;
    ctrl[2] = kind;
    ctrl[3] = split;
    ctrl[4] = n;
    for (let t = 0; t < args.length; t++) ctrl[5 + t] = args[t];
    this.seq = this.seq >= 0x3fffffff ? 1 : this.seq + 1;
    Atomics.store(ctrl, 0, this.seq);
    Atomics.notify(ctrl, 0);
    runKernel(st, ctrl, 0, split);
    this.wait();
    const mine = st.out;
    const theirs = (this.workerState as KernelState).out;
    for (let t = 0; t < outLength; t++) mine[t] += theirs[t];
    return mine.subarray(0, outLength);
  }

  /** Block until the worker reports the current command done. */
  private wait(): void {
    const ctrl = this.ctrl as Int32Array;
    for (let spin = 0; spin < 1000; spin++) {
      if (Atomics.load(ctrl, 1) === this.seq) return;
    }
    const deadline = Date.now() + 600_000;
    for (;;) {
      const done = Atomics.load(ctrl, 1);
      if (done === this.seq) return;
      if (done === -1 || Date.now() > deadline) {
        const message =
          this.port === null ? undefined : receiveMessageOnPort(this.port);
        const reason =
          (message?.message as { error?: string } | undefined)?.error ??
          "no answer";
        this.close();
        throw new NumericalError(
          `eigsh: the worker thread failed (${reason}); rerun with ` +
            "threads: 1",
        );
      }
      Atomics.wait(ctrl, 1, done, 1000);
    }
  }

  /** Make sure `fargs` and `out` hold `length` numbers. */
  reserve(length: number): void {
    const st = this.state;
    if (st.fargs.length >= length) return;
    const size = Math.max(length, 2 * st.fargs.length);
    const shared = this.worker !== null;
    st.fargs = float64(size, shared);
    st.out = new Float64Array(size);
    if (this.workerState !== null && this.port !== null) {
      this.workerState.fargs = st.fargs;
      this.workerState.out = float64(size, true);
      this.port.postMessage({
        fargs: this.workerState.fargs,
        out: this.workerState.out,
      });
    }
  }

  /** Grow Q to hold `columns` vectors, keeping the first `keep`. */
  growQ(columns: number, keep: number): void {
    const st = this.state;
    const n = st.n;
    if (st.Q.length >= n * columns) return;
    const size = Math.max(n * columns, Math.ceil((1.5 * st.Q.length) / n) * n);
    const grown = float64(size, this.worker !== null);
    grown.set(st.Q.subarray(0, n * keep));
    st.Q = grown;
    if (this.workerState !== null && this.port !== null) {
      this.workerState.Q = grown;
      this.port.postMessage({ Q: grown });
    }
  }

  /** Stop the worker (if any); the engine is single-threaded after. */
  close(): void {
    if (this.worker !== null && this.ctrl !== null) {
      const ctrl = this.ctrl;
      if (Atomics.load(ctrl, 1) !== -1) {
        ctrl[2] = KERNEL.stop;
        this.seq += 1;
        Atomics.store(ctrl, 0, this.seq);
        Atomics.notify(ctrl, 0);
      }
      void this.worker.terminate();
      this.port?.close();
    }
    this.worker = null;
    this.ctrl = null;
    this.port = null;
    this.workerState = null;
  }
}

// ---------------------------------------------------------------------
// The iteration.
// ---------------------------------------------------------------------

/** One locked (converged) eigenpair's value; its vector lives in Q. */
interface Locked {
  theta: number;
  key: number;
}

/**
 * The iterative solver's state: the basis V (column-major, `ncv + p`
 * columns of N) and the locked eigenvectors Q, both in the row engine,
 * and the projected matrix H.
 */
class BlockLanczos {
  private readonly n: number;
  private readonly p: number;
  private readonly engine: RowEngine;
  /** Projected matrix, `dim × dim` row-major, `dim = ncv + p`. */
  private readonly H: Float64Array;
  private readonly dim: number;
  private readonly locked: Locked[] = [];
  private readonly sparse: boolean;
  private anorm = 0;
  private matvecs = 0;
  private iterations = 0;

  constructor(
    private readonly op: LinearOperator,
    private readonly k: number,
    private readonly which: Which,
    private readonly tol: number,
    p: number,
    private readonly ncv: number,
    private readonly random: () => number,
    threads: number,
  ) {
    this.n = op.size;
    this.p = p;
    this.dim = ncv + p;
    this.sparse = op instanceof SparseOperator;
    this.engine = new RowEngine(
      this.n,
      this.dim,
      k + p,
      p,
      op instanceof SparseOperator ? op : null,
      threads,
    );
    this.H = new Float64Array(this.dim * this.dim);
  }

  /** The basis, column-major (lives in the engine's shared memory). */
  private get V(): Float64Array {
    return this.engine.state.V;
  }

  /** The locked eigenvectors, column-major. */
  private get Q(): Float64Array {
    return this.engine.state.Q;
  }

  /** Residual threshold of a Ritz value. */
  private threshold(theta: number): number {
    return this.tol * Math.max(Math.abs(theta), RELATIVE_FLOOR * this.anorm);
  }

  /**
   * Run to convergence (or raise), then assemble the result. The worker
   * thread, if any, is stopped on the way out.
   */
  run(
    maxIterations: number,
    onProgress: ((p: EigshProgress) => void) | undefined,
  ): EigshResult {
    try {
      return this.iterate(maxIterations, onProgress);
    } finally {
      this.engine.close();
    }
  }

  /** The main phase, then probes while multiplicities are suspected. */
  private iterate(
    maxIterations: number,
    onProgress: ((p: EigshProgress) => void) | undefined,
  ): EigshResult {
    const { k, p } = this;
    let phase: "main" | "probe" = "main";
    let target = k;
    while (true) {
      const before = this.locked.length;
      this.converge(phase, target, maxIterations, onProgress);
      if (phase === "main") {
        if (!this.multiplicitySuspected()) break;
      } else {
        // the probe found the best p remaining pairs: stop unless all of
        // them beat the k-th value (then copies may still be missing)
        const kth = this.kthKey();
        const found = this.locked.slice(before);
        const worst = Math.min(...found.map((l) => l.key));
        if (worst <= kth.key + kth.tolerance) break;
        if (!this.multiplicitySuspected()) break;
      }
      phase = "probe";
      target = p;
    }
    return this.assemble(maxIterations);
  }

  /** The k-th best locked key and the tolerance for ties with it. */
  private kthKey(): { key: number; tolerance: number } {
    const sorted = this.sortedLocked();
    const kth = this.locked[sorted[this.k - 1]];
    return { key: kth.key, tolerance: 10 * this.threshold(kth.theta) };
  }

  /** Indices of the locked pairs, best key first. */
  private sortedLocked(): number[] {
    const idx = this.locked.map((_, i) => i);
    idx.sort((a, b) => this.locked[b].key - this.locked[a].key || a - b);
    return idx;
  }

  /**
   * Whether the best k locked values hold a cluster of p or more equal
   * values (to 10 × their tolerance) that is strictly better than the
   * k-th value: then a block of p may have missed further copies.
   */
  private multiplicitySuspected(): boolean {
    const sorted = this.sortedLocked().slice(0, this.k);
    const kth = this.kthKey();
    for (let a = 0; a < sorted.length; a++) {
      const la = this.locked[sorted[a]];
      if (la.key <= kth.key + kth.tolerance) continue;
      let count = 0;
      for (const b of sorted) {
        const lb = this.locked[b];
        const tolerance =
          10 * Math.max(this.threshold(la.theta), this.threshold(lb.theta));
        if (Math.abs(la.theta - lb.theta) <= tolerance) count++;
      }
      if (count >= this.p) return true;
    }
    return false;
  }

  /** Largest active basis when `locked` pairs are locked, `want` wanted. */
  private capacity(locked: number, want: number): number {
    const { n, p, ncv } = this;
    return Math.min(ncv, n - locked - p, Math.max(ncv - locked, want + 4 * p));
  }

  /**
   * Converge `target` more eigenpairs of A deflated by the locked ones,
   * starting from a fresh random block, and lock them.
   */
  private converge(
    phase: "main" | "probe",
    target: number,
    maxIterations: number,
    onProgress: ((p: EigshProgress) => void) | undefined,
  ): void {
    const { n, p, H, dim } = this;
    const lockedAtStart = this.locked.length;

    // a fresh random orthonormal block starts the basis
    H.fill(0);
    for (let c = 0; c < p; c++) this.randomColumn(c, c);
    let j = 0;
    let couplingFrom = 0;

    while (true) {
      const lockedNow = this.locked.length;
      const want = target - (lockedNow - lockedAtStart);
      const capacity = this.capacity(lockedNow, want);
      if (capacity < want + p) {
        throw new ConfigError(
          `eigsh: the basis has room for ${capacity} vectors but needs ` +
            `${want + p} (N = ${n} is too small for the Lanczos path; use ` +
            `method "dense")`,
        );
      }

      // grow the basis block by block
      while (j + p <= capacity) {
        this.expand(j, couplingFrom);
        couplingFrom = j;
        j += p;
      }
      const m = j;
      this.iterations++;

      // Rayleigh–Ritz on the m × m projected matrix
      const hm = new Float64Array(m * m);
      for (let a = 0; a < m; a++) {
        for (let b = 0; b < m; b++) hm[a * m + b] = H[a * dim + b];
      }
      const { values: theta, vectors: y } = symmetricEigen(hm, m);
      this.anorm = Math.max(
        this.anorm,
        Math.abs(theta[0]),
        Math.abs(theta[m - 1]),
      );
      const order = Array.from({ length: m }, (_, i) => i);
      order.sort(
        (a, b) =>
          keyOf(this.which, theta[b]) - keyOf(this.which, theta[a]) || a - b,
      );

      // residual norms ‖R · y_last‖, R the coupling to the next block
      const residual = (i: number): number => {
        let s = 0;
        for (let r = 0; r < p; r++) {
          let t = 0;
          for (let c = 0; c < p; c++) {
            t += H[(m + r) * dim + (m - p + c)] * y[(m - p + c) * m + i];
          }
          s += t * t;
        }
        return Math.sqrt(s);
      };

      // lock the converged among the wanted Ritz pairs
      const lockIdx: number[] = [];
      for (let r = 0; r < Math.min(want, m); r++) {
        const i = order[r];
        if (residual(i) <= this.threshold(theta[i])) lockIdx.push(i);
      }
      const done = lockIdx.length >= want;
      if (onProgress !== undefined) {
        onProgress({
          iteration: this.iterations,
          locked: lockedNow + lockIdx.length,
          wanted: this.k,
          matvecs: this.matvecs,
          phase,
        });
      }
      if (!done && this.iterations >= maxIterations) {
        this.fail(maxIterations, m, theta, y, order, residual);
      }

      // restart: keep the best unlocked Ritz vectors, lock the converged
      const isLocked = new Set(lockIdx);
      const free = order.filter((i) => !isLocked.has(i));
      const wantLeft = want - lockIdx.length;
      const capacityNext = this.capacity(lockedNow + lockIdx.length, wantLeft);
      const keepCount = done
        ? 0
        : Math.max(
            0,
            Math.min(
              free.length,
              capacityNext - p,
              wantLeft + Math.floor((capacityNext - wantLeft) * KEEP_EXTRA),
            ),
          );
      const keepIdx = free.slice(0, keepCount);
      this.restart(m, theta, y, keepIdx, lockIdx);
      if (done) return;
      j = keepCount;
      couplingFrom = 0;
    }
  }

  /**
   * Replace the basis by `V Y[:, keep]` (new columns 0 .. keep − 1), move
   * `V Y[:, lock]` into Q, move the next block to follow the kept
   * vectors, and set H to the arrowhead of the thick restart.
   */
  private restart(
    m: number,
    theta: Float64Array,
    y: Float64Array,
    keepIdx: number[],
    lockIdx: number[],
  ): void {
    const { n, p, H, dim, engine } = this;
    const keep = keepIdx.length;
    const sel = [...keepIdx, ...lockIdx];
    const s = sel.length;

    // the new columns, from the Ritz vectors' coefficients
    const lockedBefore = this.locked.length;
    engine.growQ(
      Math.max(lockedBefore + lockIdx.length, lockedBefore + 2 * p),
      lockedBefore,
    );
    if (s > 0) {
      engine.reserve(m * s);
      const coef = engine.state.fargs;
      for (let c = 0; c < s; c++) {
        for (let a = 0; a < m; a++) coef[c * m + a] = y[a * m + sel[c]];
      }
      engine.run(KERNEL.combine, [m, s, keep, lockedBefore], 0);
    }
    for (const i of lockIdx) {
      this.locked.push({ theta: theta[i], key: keyOf(this.which, theta[i]) });
    }

    // the next block moves from columns m .. m + p − 1 to keep ..
    const coupling = new Float64Array(p * p);
    for (let r = 0; r < p; r++) {
      for (let c = 0; c < p; c++) {
        coupling[r * p + c] = H[(m + r) * dim + (m - p + c)];
      }
    }
    if (keep !== m) this.V.copyWithin(keep * n, m * n, (m + p) * n);

    // H: Ritz values on the diagonal, the coupling R Y_last as the arrow
    H.fill(0);
    for (let a = 0; a < keep; a++) {
      const i = keepIdx[a];
      H[a * dim + a] = theta[i];
      for (let r = 0; r < p; r++) {
        let t = 0;
        for (let c = 0; c < p; c++) {
          t += coupling[r * p + c] * y[(m - p + c) * m + i];
        }
        H[(keep + r) * dim + a] = t;
        H[a * dim + keep + r] = t;
      }
    }
  }

  /**
   * One block step: with the block W at columns j .. j + p − 1, compute
   * `A W`, make it orthogonal to Q and to the basis, and store the
   * orthonormal result at columns j + p .. j + 2p − 1, filling the
   * corresponding entries of H. Known couplings (the previous block, or
   * the arrow after a restart) start at column `couplingFrom`.
   */
  private expand(j: number, couplingFrom: number): void {
    const { n, p, H, dim, engine } = this;
    const next = j + p;

    // first the product with A, straight into the next columns
    const norms0 = new Float64Array(p);
    if (this.sparse) {
      engine.run(KERNEL.pack, [j, p], 0);
      const sq = engine.run(KERNEL.apply, [j, next, p], p, true);
      for (let c = 0; c < p; c++) norms0[c] = Math.sqrt(sq[c]);
    } else {
      const V = this.V;
      applyColumns(
        this.op,
        V.subarray(j * n, (j + p) * n),
        p,
        V.subarray(next * n, (next + p) * n),
      );
      for (let c = 0; c < p; c++) {
        norms0[c] = Math.sqrt(dot(V, (next + c) * n, V, (next + c) * n, n));
      }
    }
    this.matvecs += p;
    for (let c = 0; c < p; c++) {
      if (!Number.isFinite(norms0[c])) {
        throw new NumericalError("eigsh: the operator returned NaN or Inf");
      }
      this.anorm = Math.max(this.anorm, norms0[c]);
    }

    // then the known couplings: z_c −= Σ_a H[a, j + c] v_a
    const known = j - couplingFrom;
    if (known > 0) {
      this.subtractKnown(
        next,
        p,
        couplingFrom,
        known,
        (a, c) => H[(couplingFrom + a) * dim + j + c],
      );
    }

    // the diagonal block α = Wᵀ Z (symmetrized), subtracted
    const alpha = this.project(next, p, j, p);
    for (let r = 0; r < p; r++) {
      for (let c = r + 1; c < p; c++) {
        const s = 0.5 * (alpha[c * p + r] + alpha[r * p + c]);
        alpha[c * p + r] = s;
        alpha[r * p + c] = s;
      }
    }
    this.subtractKnown(next, p, j, p, (a, c) => alpha[c * p + a]);
    for (let c = 0; c < p; c++) {
      for (let r = 0; r < p; r++) H[(j + r) * dim + j + c] = alpha[c * p + r];
    }

    // full reorthogonalization of the block against Q and every basis
    // vector (W included), then the block's own Gram–Schmidt, which gives
    // the triangular factor R of A W = … + W_next R
    const squares = this.orthogonalize(next, p, next);
    const rFactor = new Float64Array(p * p);
    for (let c = 0; c < p; c++) {
      const z = next + c;
      let sq = squares[c];
      for (let pass = 0; pass < 2 && c > 0; pass++) {
        const h = this.project(z, 1, next, c);
        for (let r = 0; r < c; r++) rFactor[r * p + c] += h[r];
        sq = this.subtractKnown(z, 1, next, c, (a) => h[a], true)[0];
      }
      const norm = Math.sqrt(sq);
      if (norm <= BREAKDOWN * norms0[c]) {
        // an invariant subspace: continue from a fresh random direction
        // with coupling zero
        this.randomColumn(z, z);
        rFactor[c * p + c] = 0;
      } else {
        this.scaleColumn(z, 1 / norm);
        rFactor[c * p + c] = norm;
      }
    }
    for (let r = 0; r < p; r++) {
      for (let c = r; c < p; c++) {
        const v = rFactor[r * p + c];
        H[(next + r) * dim + j + c] = v;
        H[(j + c) * dim + next + r] = v;
      }
    }
  }

  /**
   * Inner products of the `cols` vectors at columns `z ..` with V's
   * columns `from .. from + count − 1`: entry `c · count + a` of the
   * result. With `selfOnly`, the squared norms `zᵀz` instead.
   */
  private project(
    z: number,
    cols: number,
    from: number,
    count: number,
    selfOnly = false,
  ): Float64Array {
    const out = new Float64Array(selfOnly ? cols : cols * count);
    const stride = 1 + count;
    for (let c0 = 0; c0 < cols; c0 += 2) {
      const group = Math.min(2, cols - c0);
      this.engine.reserve(group * stride);
      const d = this.engine.run(
        KERNEL.dots,
        [z + c0, group, 0, from, count, selfOnly ? 1 : 0],
        group * stride,
      );
      for (let c = 0; c < group; c++) {
        if (selfOnly) out[c0 + c] = d[c * stride];
        for (let a = 0; a < count && !selfOnly; a++) {
          out[(c0 + c) * count + a] = d[c * stride + 1 + a];
        }
      }
    }
    return out;
  }

  /**
   * `z_c −= Σ_a coef(a, c) · V[:, from + a]` for the `cols` vectors at
   * columns `z ..`; returns their squared norms afterwards when `norms`
   * is set (zeros otherwise).
   */
  private subtractKnown(
    z: number,
    cols: number,
    from: number,
    count: number,
    coef: (a: number, c: number) => number,
    norms = false,
  ): Float64Array {
    const squares = new Float64Array(cols);
    const stride = 1 + count;
    for (let c0 = 0; c0 < cols; c0 += 2) {
      const group = Math.min(2, cols - c0);
      this.engine.reserve(group * stride);
      const f = this.engine.state.fargs;
      for (let c = 0; c < group; c++) {
        for (let a = 0; a < count; a++) {
          f[c * stride + 1 + a] = coef(a, c0 + c);
        }
      }
      const sq = this.engine.run(
        KERNEL.subtract,
        [z + c0, group, 0, from, count, norms ? 1 : 0],
        group,
      );
      for (let c = 0; c < group && norms; c++) squares[c0 + c] = sq[c];
    }
    return squares;
  }

  /** `V[:, col] *= factor`. */
  private scaleColumn(col: number, factor: number): void {
    this.engine.reserve(1);
    this.engine.state.fargs[0] = factor;
    this.engine.run(KERNEL.scale, [col, 1], 0);
  }

  /**
   * Make the `cols` vectors at columns `z ..` orthogonal to Q and to the
   * first `count` basis columns, by classical Gram–Schmidt repeated while
   * a pass removes more than 1 − η of some vector's norm (DGKS, at most
   * three passes). Pairs of vectors share each sweep over the basis. The
   * coefficients are not kept: the vectors arrive already free of their
   * known components, so what is removed here is rounding. Returns the
   * squared norms of the vectors afterwards.
   */
  private orthogonalize(z: number, cols: number, count: number): Float64Array {
    const l = this.locked.length;
    const stride = 1 + l + count;
    const squares = new Float64Array(cols);
    for (let c0 = 0; c0 < cols; c0 += 2) {
      const group = Math.min(2, cols - c0);
      this.engine.reserve(group * stride);
      let before: number[] | null = null;
      for (let pass = 0; pass < 3; pass++) {
        const self = before === null ? 1 : 0;
        const d = this.engine.run(
          KERNEL.dots,
          [z + c0, group, l, 0, count, self],
          group * stride,
        );
        if (before === null) {
          before = [];
          for (let c = 0; c < group; c++) before.push(d[c * stride]);
        }
        this.engine.state.fargs.set(d.subarray(0, group * stride));
        const after = this.engine.run(
          KERNEL.subtract,
          [z + c0, group, l, 0, count, 1],
          group,
        );
        let enough = true;
        for (let c = 0; c < group; c++) {
          if (!(after[c] > DGKS_ETA * DGKS_ETA * before[c])) enough = false;
          before[c] = after[c];
          squares[c0 + c] = after[c];
        }
        if (enough) break;
      }
    }
    return squares;
  }

  /**
   * Fill basis column `col` with a random unit vector orthogonal to Q
   * and to the first `count` basis columns. Raises `NumericalError` when
   * no such vector can be found (the space is exhausted).
   */
  private randomColumn(col: number, count: number): void {
    const { n } = this;
    const zo = col * n;
    for (let attempt = 0; attempt < 5; attempt++) {
      const V = this.V;
      let sq0 = 0;
      for (let i = 0; i < n; i++) {
        const v = 2 * this.random() - 1;
        V[zo + i] = v;
        sq0 += v * v;
      }
      this.orthogonalize(col, 1, count);
      this.orthogonalize(col, 1, count);
      const sq = this.project(col, 1, 0, 0, true)[0];
      if (sq > 1e-12 * sq0) {
        this.scaleColumn(col, 1 / Math.sqrt(sq));
        return;
      }
    }
    throw new NumericalError(
      `eigsh: cannot find a direction orthogonal to ${count} basis and ` +
        `${this.locked.length} locked vectors in dimension ${n}`,
    );
  }

  /** The best k locked pairs, with true residuals. */
  private assemble(maxIterations: number): EigshResult {
    const { n, k } = this;
    const sorted = this.sortedLocked().slice(0, k);
    const values = new Float64Array(k);
    const columns = new Float64Array(n * k);
    sorted.forEach((src, j) => {
      values[j] = this.locked[src].theta;
      columns.set(this.Q.subarray(src * n, (src + 1) * n), j * n);
    });
    const residuals = trueResiduals(this.op, values, columns);
    this.matvecs += k;
    const result: EigshResult = {
      values,
      vectors: toRowMajor(columns, n, k),
      residuals,
      iterations: this.iterations,
      matvecs: this.matvecs,
      converged: true,
      method: "lanczos",
    };
    for (let j = 0; j < k; j++) {
      const limit = FINAL_SLACK * this.threshold(values[j]);
      if (!(residuals[j] <= limit)) {
        result.converged = false;
        throw new EigshConvergenceError(
          `eigsh: eigenpair ${j} (λ = ${values[j]}) has residual ` +
            `${residuals[j].toExponential(3)} after ${this.iterations} ` +
            `of at most ${maxIterations} iterations, expected at most ` +
            `${limit.toExponential(3)} (tol = ${this.tol} may be below ` +
            `the attainable accuracy)`,
          result,
        );
      }
    }
    return result;
  }

  /**
   * Raise `EigshConvergenceError` with the best estimate: the locked
   * pairs and the best current Ritz pairs, k in all, true residuals.
   */
  private fail(
    maxIterations: number,
    m: number,
    theta: Float64Array,
    y: Float64Array,
    order: number[],
    estimate: (i: number) => number,
  ): never {
    const { n, k, V } = this;

    // candidates: locked pairs and Ritz pairs, the best k by key
    type Candidate = {
      theta: number;
      key: number;
      locked: number;
      ritz: number;
    };
    const candidates: Candidate[] = [];
    this.locked.forEach((l, i) => {
      candidates.push({ theta: l.theta, key: l.key, locked: i, ritz: -1 });
    });
    for (const i of order) {
      candidates.push({
        theta: theta[i],
        key: keyOf(this.which, theta[i]),
        locked: -1,
        ritz: i,
      });
    }
    candidates.sort((a, b) => b.key - a.key);
    const best = candidates.slice(0, k);
    const values = new Float64Array(best.length);
    const columns = new Float64Array(n * best.length);
    best.forEach((cand, j) => {
      values[j] = cand.theta;
      if (cand.locked >= 0) {
        const q = cand.locked * n;
        columns.set(this.Q.subarray(q, q + n), j * n);
      } else {
        for (let a = 0; a < m; a++) {
          const ya = y[a * m + cand.ritz];
          for (let i = 0; i < n; i++) columns[j * n + i] += ya * V[a * n + i];
        }
      }
    });
    const residuals = trueResiduals(this.op, values, columns);
    const worst = Math.max(
      ...best.map((cand) => (cand.ritz >= 0 ? estimate(cand.ritz) : 0)),
    );
    throw new EigshConvergenceError(
      `eigsh: ${this.locked.length} of ${k} eigenpairs converged after ` +
        `${maxIterations} iterations (maxIterations); the largest ` +
        `residual estimate is ${worst.toExponential(3)} (tol = ${this.tol})`,
      {
        values,
        vectors: toRowMajor(columns, n, best.length),
        residuals,
        iterations: this.iterations,
        matvecs: this.matvecs + best.length,
        converged: false,
        method: "lanczos",
      },
    );
  }
}
