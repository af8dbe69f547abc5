/**
 * Linear operators for the sparse eigensolver: the float64 matrices that a
 * `Graph` defines (adjacency, normalized adjacency, the three Laplacians),
 * their products with one vector or a block of vectors, and the interface
 * any other operator implements to be solved by `eigsh`.
 *
 * For an undirected graph with weighted adjacency A (self-loops included,
 * duplicate edges added up) and degrees `d_i = Σ_j A_ij`:
 *
 * | kind                   | matrix                          | spectrum  |
 * | ---------------------- | ------------------------------- | --------- |
 * | `adjacency`            | A                               |           |
 * | `normalized-adjacency` | Ā = D^-1/2 A D^-1/2             | [-1, 1]   |
 * | `laplacian`            | L = D − A                       | [0, 2 d_max] |
 * | `sym-laplacian`        | L_sym = I − Ā                   | [0, 2]    |
 * | `rw-laplacian`         | L_rw = I − D^-1 A               | [0, 2]    |
 *
 * Isolated nodes (d_i = 0) take `d_i^-1/2 = 0` and `d_i^-1 = 0`, so their
 * row and column of Ā are zero (eigenvalue 0 of Ā) and their diagonal
 * entry of L_sym and L_rw is 1 (eigenvalue 1). This keeps the identity
 * `L_sym = I − Ā` on every graph, so the spectrum of L_sym is exactly
 * `1 − spectrum(Ā)`.
 * NOTE: networkx's `normalized_laplacian_matrix` and Chung's "Spectral
 * Graph Theory" instead put 0 on the diagonal of an isolated node
 * (`D^-1/2 (D − A) D^-1/2`); the two conventions differ only there.
 *
 * L_rw is not symmetric. It is similar to L_sym: `L_rw = S L_sym S⁻¹` with
 * `S = diag(s)`, `s_i = d_i^-1/2` (and `s_i = 1` for an isolated node), so
 * both have the same eigenvalues, and `v = S u` is an eigenvector of L_rw
 * when u is one of L_sym. `eigsh` solves L_sym and maps the vectors.
 *
 * All matrices are float64 (graph weights are float32 and are widened
 * before any arithmetic). The products keep the CSR order, so they are
 * deterministic.
 */

import { ConfigError, GraphError, ShapeError } from "../errors.js";
import type { Graph } from "../graph/graph.js";
import { isSymmetric } from "../graph/transforms.js";

/**
 * A real square matrix of order N known through its products. `eigsh`
 * treats it as symmetric (it checks this once with two random vectors).
 */
export interface LinearOperator {
  /** The order N (number of rows and of columns). */
  readonly size: number;
  /**
   * `y ← A x` for vectors of length N. `x` and `y` must not overlap; `y`
   * is overwritten.
   */
  matvec(x: Float64Array, y: Float64Array): void;
  /**
   * `Y ← A X` for a block of b vectors stored row-major (N × b, entry
   * (i, c) at `i * b + c`); `Y` is overwritten. Optional: without it the
   * solver calls `matvec` once per column. A block product is much faster
   * than b single products for sparse matrices.
   */
  matmul?(x: Float64Array, b: number, y: Float64Array): void;
  /** The dense N × N matrix, row-major. Optional. */
  toDense?(): Float64Array;
}

/**
 * An operator M that is not symmetric but similar to a symmetric one:
 * `M = S B S⁻¹` with B symmetric and S a positive diagonal. `eigsh`
 * solves B and returns `S u` (rescaled to unit length) for each
 * eigenvector u of B.
 */
export interface SimilarToSymmetric extends LinearOperator {
  /** The symmetric operator B. */
  readonly symmetricPart: LinearOperator;
  /** The diagonal of S, length N, every entry > 0. */
  readonly similarity: Float64Array;
}

/** Whether an operator is a {@link SimilarToSymmetric}. */
export function isSimilarToSymmetric(
  op: LinearOperator,
): op is SimilarToSymmetric {
  return (
    (op as Partial<SimilarToSymmetric>).symmetricPart !== undefined &&
    (op as Partial<SimilarToSymmetric>).similarity !== undefined
  );
}

/** The matrices a graph defines; see the table in the file banner. */
export type GraphOperatorKind =
  | "adjacency"
  | "normalized-adjacency"
  | "laplacian"
  | "sym-laplacian"
  | "rw-laplacian";

/** Every {@link GraphOperatorKind}, in the order of the file banner. */
export const GRAPH_OPERATOR_KINDS: readonly GraphOperatorKind[] = [
  "adjacency",
  "normalized-adjacency",
  "laplacian",
  "sym-laplacian",
  "rw-laplacian",
];

/** Options of the graph operator builders. */
export interface GraphOperatorOptions {
  /**
   * Whether to check that the graph is undirected, i.e. that its matrix
   * is symmetric (default true; costs a few passes over the edges).
   * Weights are compared to `1e-9 · max |w|`, so duplicate edges added in
   * another order still pass.
   */
  checkSymmetry?: boolean;
}

/** The parts of a {@link SparseOperator} besides its CSR pattern. */
export interface SparseOperatorParts {
  /**
   * Weight of each stored entry (float64), or null when every weight is
   * 1 (then no value is read in a product, which makes it faster).
   */
  weights?: Float64Array | null;
  /** The scaling s of `s_i · w_e · s_j`, length N, or null for none. */
  scale?: Float64Array | null;
  /** +1 or −1: the sign of the sparse part (default +1). */
  sign?: 1 | -1;
  /** Diagonal added to the sparse part, length N, or null (default). */
  diagonal?: Float64Array | null;
  /** Which graph matrix this is (default `"custom"`). */
  kind?: GraphOperatorKind | "custom";
}

/**
 * A sparse symmetric float64 matrix
 *
 *   `A_ij = diagonal_i · [i = j] + sign · s_i · w_e · s_j`
 *
 * summed over the stored entries e = (i, j) of a CSR pattern (duplicates
 * add up). Every graph operator has this form: Ā is s = D^-1/2, sign +1;
 * L is diagonal D, sign −1; L_sym is diagonal 1, s = D^-1/2, sign −1.
 * A product scales the input by s once, sums the (weighted) gathered
 * entries of each row, then scales by `sign · s_i` and adds the
 * diagonal term, all in float64.
 */
export class SparseOperator implements LinearOperator {
  /** The order N. */
  readonly size: number;
  /** Row pointer of the pattern, length N + 1. */
  readonly rowPtr: Int32Array;
  /** Column of each stored entry, ascending within a row. */
  readonly colIdx: Int32Array;
  /** Weight of each stored entry, or null for all ones. */
  readonly weights: Float64Array | null;
  /** The scaling s, or null. */
  readonly scale: Float64Array | null;
  /** Sign of the sparse part. */
  readonly sign: 1 | -1;
  /** Diagonal term, or null. */
  readonly diagonal: Float64Array | null;
  /** Which graph matrix this is, or `"custom"`. */
  readonly kind: GraphOperatorKind | "custom";
  #scratch: Float64Array | null = null;

  /**
   * Wrap a CSR pattern and its parts (not copied). Raises `ShapeError`
   * when the array lengths do not fit together; column indices are
   * trusted.
   */
  constructor(
    rowPtr: Int32Array,
    colIdx: Int32Array,
    parts: SparseOperatorParts = {},
  ) {
    const fn = "SparseOperator";
    const n = rowPtr.length - 1;
    if (n < 0 || rowPtr[0] !== 0 || rowPtr[n] !== colIdx.length) {
      throw new ShapeError(
        `${fn}: rowPtr must have length N + 1, start at 0 and end at ` +
          `colIdx.length (${colIdx.length}), got length ${rowPtr.length}`,
      );
    }
    const weights = parts.weights ?? null;
    if (weights !== null && weights.length !== colIdx.length) {
      throw new ShapeError(
        `${fn}: expected one weight per stored entry (${colIdx.length}), ` +
          `got ${weights.length}`,
      );
    }
    for (const [name, v] of [
      ["scale", parts.scale],
      ["diagonal", parts.diagonal],
    ] as const) {
      if (v != null && v.length !== n) {
        throw new ShapeError(
          `${fn}: expected ${name} of length N = ${n}, got ${v.length}`,
        );
      }
    }
    this.size = n;
    this.rowPtr = rowPtr;
    this.colIdx = colIdx;
    this.weights = weights;
    this.scale = parts.scale ?? null;
    this.sign = parts.sign ?? 1;
    this.diagonal = parts.diagonal ?? null;
    this.kind = parts.kind ?? "custom";
  }

  /** `y ← A x`. */
  matvec(x: Float64Array, y: Float64Array): void {
    this.matmul(x, 1, y);
  }

  /** `Y ← A X` for a row-major N × b block. */
  matmul(x: Float64Array, b: number, y: Float64Array): void {
    const fn = "SparseOperator.matmul";
    const n = this.size;
    if (!Number.isInteger(b) || b < 1) {
      throw new ShapeError(`${fn}: b must be a positive integer, got ${b}`);
    }
    checkLength(fn, "x", x, n * b);
    checkLength(fn, "y", y, n * b);

    // the input scaled by s, in a scratch block kept for the next call
    let input = x;
    if (this.scale !== null) {
      if (this.#scratch === null || this.#scratch.length < n * b) {
        this.#scratch = new Float64Array(n * b);
      }
      input = this.#scratch;
      scaleRows(this.scale, x, b, input, 0, n);
    }
    sparseRows(this, input, b, x, y, 0, n);
  }

  /**
   * The stored entries as a plain float64 CSR matrix
   * `values[e] = sign · s_i · w_e · s_j` (the diagonal term is returned
   * apart), e.g. to hand the matrix to another program.
   */
  toCSR(): {
    rowPtr: Int32Array;
    colIdx: Int32Array;
    values: Float64Array;
    diagonal: Float64Array | null;
  } {
    const { rowPtr, colIdx, weights, scale, sign } = this;
    const values = new Float64Array(colIdx.length);
    for (let i = 0; i < this.size; i++) {
      const si = scale === null ? 1 : scale[i];
      for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
        const w = weights === null ? 1 : weights[e];
        const sj = scale === null ? 1 : scale[colIdx[e]];
        values[e] = sign * si * w * sj;
      }
    }
    return { rowPtr, colIdx, values, diagonal: this.diagonal };
  }

  /** The dense N × N matrix, row-major (for tests and small graphs). */
  toDense(): Float64Array {
    const n = this.size;
    const out = new Float64Array(n * n);
    const { rowPtr, colIdx, values, diagonal } = this.toCSR();
    for (let i = 0; i < n; i++) {
      for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
        out[i * n + colIdx[e]] += values[e];
      }
      if (diagonal !== null) out[i * n + i] += diagonal[i];
    }
    return out;
  }
}

/**
 * `out[i, :] = scale[i] · x[i, :]` for the rows `[r0, r1)` of row-major
 * N × b blocks.
 */
export function scaleRows(
  scale: Float64Array,
  x: Float64Array,
  b: number,
  out: Float64Array,
  r0: number,
  r1: number,
): void {
  for (let i = r0; i < r1; i++) {
    const s = scale[i];
    const o = i * b;
    for (let c = 0; c < b; c++) out[o + c] = s * x[o + c];
  }
}

/**
 * Rows `[r0, r1)` of a {@link SparseOperator} product on a row-major
 * N × b block: `y_i = sign · s_i · Σ_e w_e · xs[j_e] + diagonal_i · x_i`
 * where `xs` is the input already scaled by s (`xs = x` without scale).
 * Rows are independent, so threads may split them.
 */
export function sparseRows(
  op: SparseOperator,
  xs: Float64Array,
  b: number,
  x: Float64Array,
  y: Float64Array,
  r0: number,
  r1: number,
): void {
  const { rowPtr, colIdx, weights, scale, sign, diagonal } = op;
  if (weights === null) gatherRows(rowPtr, colIdx, xs, b, y, r0, r1);
  else csrRows(rowPtr, colIdx, weights, xs, b, y, r0, r1);
  for (let i = r0; i < r1; i++) {
    const f = scale === null ? sign : sign * scale[i];
    const d = diagonal === null ? 0 : diagonal[i];
    const o = i * b;
    for (let c = 0; c < b; c++) y[o + c] = f * y[o + c] + d * x[o + c];
  }
}

/**
 * The random-walk Laplacian `L_rw = I − D^-1 A = S L_sym S⁻¹` of an
 * undirected graph (see the file banner). Its own products are exact
 * products with L_rw; `eigsh` works on `symmetricPart` (L_sym).
 */
export class RandomWalkLaplacian implements SimilarToSymmetric {
  /** The order N. */
  readonly size: number;
  /** L_sym. */
  readonly symmetricPart: SparseOperator;
  /** `s_i = d_i^-1/2`, or 1 for an isolated node. */
  readonly similarity: Float64Array;
  /** Always `"rw-laplacian"`. */
  readonly kind = "rw-laplacian" as const;
  readonly #inverse: Float64Array;

  /** Build from L_sym and the diagonal of S (both trusted). */
  constructor(symLaplacian: SparseOperator, similarity: Float64Array) {
    this.size = symLaplacian.size;
    this.symmetricPart = symLaplacian;
    this.similarity = similarity;
    this.#inverse = new Float64Array(similarity.length);
    for (let i = 0; i < similarity.length; i++) {
      this.#inverse[i] = 1 / similarity[i];
    }
  }

  /** `y ← L_rw x = S L_sym S⁻¹ x`. */
  matvec(x: Float64Array, y: Float64Array): void {
    this.matmul(x, 1, y);
  }

  /** `Y ← L_rw X` for a row-major N × b block. */
  matmul(x: Float64Array, b: number, y: Float64Array): void {
    const n = this.size;
    checkLength("RandomWalkLaplacian.matmul", "x", x, n * b);
    checkLength("RandomWalkLaplacian.matmul", "y", y, n * b);
    const scaled = new Float64Array(n * b);
    for (let i = 0; i < n; i++) {
      const s = this.#inverse[i];
      for (let c = 0; c < b; c++) scaled[i * b + c] = x[i * b + c] * s;
    }
    this.symmetricPart.matmul(scaled, b, y);
    for (let i = 0; i < n; i++) {
      const s = this.similarity[i];
      for (let c = 0; c < b; c++) y[i * b + c] *= s;
    }
  }

  /** The dense N × N matrix L_rw, row-major. */
  toDense(): Float64Array {
    const n = this.size;
    const out = this.symmetricPart.toDense();
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        out[i * n + j] *= this.similarity[i] * this.#inverse[j];
      }
    }
    return out;
  }
}

/**
 * A dense symmetric matrix as an operator (for tests and small
 * problems). `a` is row-major N × N and is used without copying.
 */
export class DenseOperator implements LinearOperator {
  /** The order N. */
  readonly size: number;
  readonly #a: Float64Array;

  /** Raises `ShapeError` when `a.length ≠ n²`. */
  constructor(a: Float64Array, n: number) {
    if (!Number.isInteger(n) || n < 0 || a.length !== n * n) {
      throw new ShapeError(
        `DenseOperator: expected an ${n} × ${n} matrix (${n * n} ` +
          `entries), got ${a.length} entries`,
      );
    }
    this.size = n;
    this.#a = a;
  }

  /** `y ← A x`. */
  matvec(x: Float64Array, y: Float64Array): void {
    const n = this.size;
    const a = this.#a;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[i * n + j] * x[j];
      y[i] = s;
    }
  }

  /** A copy of the matrix. */
  toDense(): Float64Array {
    return this.#a.slice();
  }
}

/** The adjacency matrix A of an undirected graph, float64. */
export function adjacencyOperator(
  graph: Graph,
  options: GraphOperatorOptions = {},
): SparseOperator {
  checkUndirected("adjacencyOperator", graph, options);
  return new SparseOperator(graph.rowPtr, graph.colIdx, {
    weights: widenWeights(graph),
    kind: "adjacency",
  });
}

/**
 * The normalized adjacency `Ā = D^-1/2 A D^-1/2` of an undirected graph
 * (isolated nodes: zero row and column). Raises `GraphError` for a
 * negative degree (possible only with negative weights).
 */
export function normalizedAdjacencyOperator(
  graph: Graph,
  options: GraphOperatorOptions = {},
): SparseOperator {
  const fn = "normalizedAdjacencyOperator";
  checkUndirected(fn, graph, options);
  return new SparseOperator(graph.rowPtr, graph.colIdx, {
    weights: widenWeights(graph),
    scale: inverseSqrtDegrees(fn, graph),
    kind: "normalized-adjacency",
  });
}

/** The combinatorial Laplacian `L = D − A` of an undirected graph. */
export function laplacianOperator(
  graph: Graph,
  options: GraphOperatorOptions = {},
): SparseOperator {
  checkUndirected("laplacianOperator", graph, options);
  return new SparseOperator(graph.rowPtr, graph.colIdx, {
    weights: widenWeights(graph),
    sign: -1,
    diagonal: graph.inDegrees().slice(),
    kind: "laplacian",
  });
}

/**
 * The symmetric normalized Laplacian `L_sym = I − Ā` of an undirected
 * graph (isolated nodes: 1 on the diagonal; see the file banner).
 */
export function symLaplacianOperator(
  graph: Graph,
  options: GraphOperatorOptions = {},
): SparseOperator {
  const fn = "symLaplacianOperator";
  checkUndirected(fn, graph, options);
  return symLaplacian(graph, inverseSqrtDegrees(fn, graph));
}

/**
 * The random-walk Laplacian `L_rw = I − D^-1 A` of an undirected graph
 * (isolated nodes: 1 on the diagonal), through its similarity to L_sym.
 */
export function rwLaplacianOperator(
  graph: Graph,
  options: GraphOperatorOptions = {},
): RandomWalkLaplacian {
  const fn = "rwLaplacianOperator";
  checkUndirected(fn, graph, options);
  const inv = inverseSqrtDegrees(fn, graph);
  const lsym = symLaplacian(graph, inv);
  const similarity = new Float64Array(graph.numNodes);
  for (let i = 0; i < similarity.length; i++) {
    similarity[i] = inv[i] > 0 ? inv[i] : 1;
  }
  return new RandomWalkLaplacian(lsym, similarity);
}

/**
 * The operator of the given kind for an undirected graph (dispatches to
 * the builders above). Raises `ConfigError` for an unknown kind.
 */
export function graphOperator(
  graph: Graph,
  kind: GraphOperatorKind,
  options: GraphOperatorOptions = {},
): SparseOperator | RandomWalkLaplacian {
  switch (kind) {
    case "adjacency":
      return adjacencyOperator(graph, options);
    case "normalized-adjacency":
      return normalizedAdjacencyOperator(graph, options);
    case "laplacian":
      return laplacianOperator(graph, options);
    case "sym-laplacian":
      return symLaplacianOperator(graph, options);
    case "rw-laplacian":
      return rwLaplacianOperator(graph, options);
    default:
      throw new ConfigError(
        `graphOperator: kind must be one of ` +
          `${GRAPH_OPERATOR_KINDS.join(", ")}, got ${String(kind)}`,
      );
  }
}

/**
 * `Y ← M X` for a CSR matrix M with float64 values and a row-major N × b
 * block X: row i of Y is `Σ_e values[e] · X[colIdx[e], :]` in CSR order.
 * One pass over the matrix serves all b columns.
 */
export function csrMatmul64(
  rowPtr: Int32Array,
  colIdx: Int32Array,
  values: Float64Array,
  x: Float64Array,
  b: number,
  y: Float64Array,
): void {
  csrRows(rowPtr, colIdx, values, x, b, y, 0, rowPtr.length - 1);
}

/**
 * Rows `[r0, r1)` of `Y ← M X` for a CSR matrix M with float64 values
 * and row-major N × b blocks (see {@link csrMatmul64}).
 *
 * NOTE: the sums live in local variables, four interleaved ones for a
 * single vector (entries e ≡ 0, 1, 2, 3 mod 4, added at the end): that
 * keeps four independent loads in flight, which is what a gather-bound
 * loop needs. The order is fixed, so results are deterministic.
 */
export function csrRows(
  rowPtr: Int32Array,
  colIdx: Int32Array,
  values: Float64Array,
  x: Float64Array,
  b: number,
  y: Float64Array,
  r0: number,
  r1: number,
): void {
  if (b === 1) {
    for (let i = r0; i < r1; i++) {
      const end = rowPtr[i + 1];
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let e = rowPtr[i];
      for (; e + 3 < end; e += 4) {
        s0 += values[e] * x[colIdx[e]];
        s1 += values[e + 1] * x[colIdx[e + 1]];
        s2 += values[e + 2] * x[colIdx[e + 2]];
        s3 += values[e + 3] * x[colIdx[e + 3]];
      }
      for (; e < end; e++) s0 += values[e] * x[colIdx[e]];
      y[i] = s0 + s1 + (s2 + s3);
    }
    return;
  }
  for (let i = r0; i < r1; i++) {
    const start = rowPtr[i];
    const end = rowPtr[i + 1];
    const out = i * b;
    let c = 0;
    for (; c + 1 < b; c += 2) {
      let s0 = 0;
      let s1 = 0;
      for (let e = start; e < end; e++) {
        const w = values[e];
        const src = colIdx[e] * b + c;
        s0 += w * x[src];
        s1 += w * x[src + 1];
      }
      y[out + c] = s0;
      y[out + c + 1] = s1;
    }
    if (c < b) {
      let s0 = 0;
      for (let e = start; e < end; e++) {
        s0 += values[e] * x[colIdx[e] * b + c];
      }
      y[out + c] = s0;
    }
  }
}

/**
 * Rows `[r0, r1)` of `Y ← P X` for the 0/1 matrix P of a CSR pattern
 * (every stored entry 1) and row-major N × b blocks: row i of Y is the
 * sum of the rows `X[colIdx[e], :]`. Same loop structure as
 * {@link csrRows}, without reading any value.
 */
export function gatherRows(
  rowPtr: Int32Array,
  colIdx: Int32Array,
  x: Float64Array,
  b: number,
  y: Float64Array,
  r0: number,
  r1: number,
): void {
  if (b === 1) {
    for (let i = r0; i < r1; i++) {
      const end = rowPtr[i + 1];
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let e = rowPtr[i];
      for (; e + 3 < end; e += 4) {
        s0 += x[colIdx[e]];
        s1 += x[colIdx[e + 1]];
        s2 += x[colIdx[e + 2]];
        s3 += x[colIdx[e + 3]];
      }
      for (; e < end; e++) s0 += x[colIdx[e]];
      y[i] = s0 + s1 + (s2 + s3);
    }
    return;
  }
  for (let i = r0; i < r1; i++) {
    const start = rowPtr[i];
    const end = rowPtr[i + 1];
    const out = i * b;
    let c = 0;
    for (; c + 1 < b; c += 2) {
      let s0 = 0;
      let s1 = 0;
      for (let e = start; e < end; e++) {
        const src = colIdx[e] * b + c;
        s0 += x[src];
        s1 += x[src + 1];
      }
      y[out + c] = s0;
      y[out + c + 1] = s1;
    }
    if (c < b) {
      let s0 = 0;
      for (let e = start; e < end; e++) s0 += x[colIdx[e] * b + c];
      y[out + c] = s0;
    }
  }
}

/**
 * Build the dense N × N matrix of any operator: `toDense` when it has
 * one, else products with blocks of unit vectors (N matrix–vector
 * products in all). For small operators only (N² memory).
 */
export function operatorToDense(op: LinearOperator): Float64Array {
  if (op.toDense !== undefined) return op.toDense();
  const n = op.size;
  const out = new Float64Array(n * n);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    x.fill(0);
    x[j] = 1;
    op.matvec(x, y);
    for (let i = 0; i < n; i++) out[i * n + j] = y[i];
  }
  return out;
}

/** Raise `ShapeError` unless `a.length === expected`. */
function checkLength(
  fn: string,
  name: string,
  a: Float64Array,
  expected: number,
): void {
  if (a.length !== expected) {
    throw new ShapeError(
      `${fn}: expected ${name} of length ${expected}, got ${a.length}`,
    );
  }
}

/**
 * Raise `GraphError` unless the graph's matrix is symmetric (when the
 * check is asked for).
 */
function checkUndirected(
  fn: string,
  graph: Graph,
  options: GraphOperatorOptions,
): void {
  if (options.checkSymmetry === false) return;
  let maxWeight = 1;
  if (graph.weights !== null) {
    maxWeight = 0;
    for (let e = 0; e < graph.numEdges; e++) {
      maxWeight = Math.max(maxWeight, Math.abs(graph.weights[e]));
    }
  }
  if (!isSymmetric(graph, 1e-9 * maxWeight)) {
    throw new GraphError(
      `${fn}: expected an undirected graph (a symmetric matrix: every ` +
        `edge j -> i matched by i -> j with the same weight), got a ` +
        `directed one; symmetrize it first`,
    );
  }
}

/**
 * `d_i^-1/2` for every node, 0 for an isolated node. Raises `GraphError`
 * for a negative degree.
 */
function inverseSqrtDegrees(fn: string, graph: Graph): Float64Array {
  const deg = graph.inDegrees();
  const out = new Float64Array(deg.length);
  for (let i = 0; i < deg.length; i++) {
    if (deg[i] < 0) {
      throw new GraphError(
        `${fn}: expected non-negative degrees, node ${i} has degree ` +
          `${deg[i]}`,
      );
    }
    out[i] = deg[i] > 0 ? 1 / Math.sqrt(deg[i]) : 0;
  }
  return out;
}

/** L_sym with the given `d^-1/2` (checks done by the caller). */
function symLaplacian(graph: Graph, inv: Float64Array): SparseOperator {
  return new SparseOperator(graph.rowPtr, graph.colIdx, {
    weights: widenWeights(graph),
    scale: inv,
    sign: -1,
    diagonal: new Float64Array(graph.numNodes).fill(1),
    kind: "sym-laplacian",
  });
}

/** The graph's float32 weights widened to float64, or null. */
function widenWeights(graph: Graph): Float64Array | null {
  return graph.weights === null ? null : Float64Array.from(graph.weights);
}

// ---------------------------------------------------------------------
// Row kernels of the eigensolver (eigsh.ts). Every O(N) step of its
// iteration is one of these, applied to a range of rows, so that two
// threads can split the rows. They are plain functions of their
// arguments that call only functions of this module: their source text
// is also what the worker thread runs (a transpiler rewrites calls into
// other modules, so these must stay in the module of the product loops).
// ---------------------------------------------------------------------

/** Ids of the row kernels, as written into the control array. */
export const KERNEL = {
  stop: 0,
  pack: 1,
  apply: 2,
  dots: 3,
  subtract: 4,
  scale: 5,
  combine: 6,
} as const;

/**
 * The arrays a thread's kernels work on. Column c of the basis is
 * `V[c · n .. (c + 1) · n − 1]`, and likewise for the locked vectors Q.
 */
export interface KernelState {
  n: number;
  /** Basis, column-major. */
  V: Float64Array;
  /** Locked eigenvectors, column-major. */
  Q: Float64Array;
  /** Row-major N × p scratch: the product's input, scaled. */
  rx: Float64Array;
  /** Row-major N × p scratch: the product's sparse sums. */
  ry: Float64Array;
  /** Coefficients handed in by the main thread. */
  fargs: Float64Array;
  /** This thread's partial sums. */
  out: Float64Array;
  /** The sparse operator, when the product runs in the kernels. */
  rowPtr: Int32Array;
  colIdx: Int32Array;
  weights: Float64Array | null;
  scale: Float64Array | null;
  diagonal: Float64Array | null;
  sign: number;
}

/**
 * Run the kernel whose id and integer arguments are in `a` (the control
 * array layout: `a[2]` id, `a[5 ..]` arguments) on rows `[r0, r1)`.
 */
export function runKernel(
  st: KernelState,
  a: Int32Array,
  r0: number,
  r1: number,
): void {
  const kind = a[2];
  if (kind === KERNEL.pack) packRows(st, a[5], a[6], r0, r1);
  else if (kind === KERNEL.apply) applyRows(st, a[5], a[6], a[7], r0, r1);
  else if (kind === KERNEL.dots) {
    dotRows(st, a[5], a[6], a[7], a[8], a[9], a[10], r0, r1);
  } else if (kind === KERNEL.subtract) {
    subtractRows(st, a[5], a[6], a[7], a[8], a[9], a[10], r0, r1);
  } else if (kind === KERNEL.scale) scaleRows2(st, a[5], a[6], r0, r1);
  else if (kind === KERNEL.combine) {
    combineRows(st, a[5], a[6], a[7], a[8], r0, r1);
  }
}

/** `rx[i, c] = s_i · V[i, src + c]` (s = 1 without a scale), c < b. */
function packRows(
  st: KernelState,
  src: number,
  b: number,
  r0: number,
  r1: number,
): void {
  const { n, V, rx, scale } = st;
  for (let c = 0; c < b; c++) {
    const o = (src + c) * n;
    if (scale === null) {
      for (let i = r0; i < r1; i++) rx[i * b + c] = V[o + i];
    } else {
      for (let i = r0; i < r1; i++) rx[i * b + c] = scale[i] * V[o + i];
    }
  }
}

/**
 * The sparse product of the packed block into columns `dst ..`:
 * `V[i, dst + c] = sign · s_i · (W rx)[i, c] + d_i · V[i, src + c]`, and
 * `out[c]` = the partial squared norm of each new column. Needs `rx`
 * complete (all rows packed).
 */
function applyRows(
  st: KernelState,
  src: number,
  dst: number,
  b: number,
  r0: number,
  r1: number,
): void {
  const { n, V, rx, ry, scale, diagonal, sign, out } = st;
  if (st.weights === null) {
    gatherRows(st.rowPtr, st.colIdx, rx, b, ry, r0, r1);
  } else {
    csrRows(st.rowPtr, st.colIdx, st.weights, rx, b, ry, r0, r1);
  }

  // one loop per case, so that none tests for null inside
  for (let c = 0; c < b; c++) {
    const so = (src + c) * n;
    const d0 = (dst + c) * n;
    let sq = 0;
    if (scale !== null && diagonal !== null) {
      for (let i = r0; i < r1; i++) {
        const v = sign * scale[i] * ry[i * b + c] + diagonal[i] * V[so + i];
        V[d0 + i] = v;
        sq += v * v;
      }
    } else if (scale !== null) {
      for (let i = r0; i < r1; i++) {
        const v = sign * scale[i] * ry[i * b + c];
        V[d0 + i] = v;
        sq += v * v;
      }
    } else if (diagonal !== null) {
      for (let i = r0; i < r1; i++) {
        const v = sign * ry[i * b + c] + diagonal[i] * V[so + i];
        V[d0 + i] = v;
        sq += v * v;
      }
    } else {
      for (let i = r0; i < r1; i++) {
        const v = sign * ry[i * b + c];
        V[d0 + i] = v;
        sq += v * v;
      }
    }
    out[c] = sq;
  }
}

/**
 * Partial inner products of the `cols` (1 or 2) vectors at columns
 * `z ..` of V with Q's first `qCount` columns and with V's columns
 * `vFrom .. vFrom + vCount − 1`, and (when `self` is 1) with themselves.
 * Layout of `out`, per vector c: `[zᵀz, Qᵀz (qCount), Vᵀz (vCount)]` at
 * `c · (1 + qCount + vCount)` (the first slot is left alone when `self`
 * is 0).
 */
function dotRows(
  st: KernelState,
  z: number,
  cols: number,
  qCount: number,
  vFrom: number,
  vCount: number,
  self: number,
  r0: number,
  r1: number,
): void {
  const { n, V, Q, out } = st;
  const stride = 1 + qCount + vCount;
  if (self === 1) {
    for (let c = 0; c < cols; c++)
      out[c * stride] = squares(V, z + c, n, r0, r1);
  }
  const zo = z * n;
  if (cols === 2) {
    dotPair(Q, 0, qCount, n, V, zo, out, 1, stride, r0, r1);
    dotPair(V, vFrom * n, vCount, n, V, zo, out, 1 + qCount, stride, r0, r1);
  } else {
    dotSingle(Q, 0, qCount, n, V, zo, out, 1, r0, r1);
    dotSingle(V, vFrom * n, vCount, n, V, zo, out, 1 + qCount, r0, r1);
  }
}

/** `Σ_{i ∈ [r0, r1)} V[i, col]²`. */
function squares(
  V: Float64Array,
  col: number,
  n: number,
  r0: number,
  r1: number,
): number {
  const o = col * n;
  let s0 = 0;
  let s1 = 0;
  let i = r0;
  for (; i + 1 < r1; i += 2) {
    s0 += V[o + i] * V[o + i];
    s1 += V[o + i + 1] * V[o + i + 1];
  }
  if (i < r1) s0 += V[o + i] * V[o + i];
  return s0 + s1;
}

/** `out[oo + t] = Σ_{i ∈ [r0, r1)} B[bo + t n + i] · z[zo + i]`. */
function dotSingle(
  basis: Float64Array,
  bo: number,
  count: number,
  n: number,
  z: Float64Array,
  zo: number,
  out: Float64Array,
  oo: number,
  r0: number,
  r1: number,
): void {
  let t = 0;
  for (; t + 3 < count; t += 4) {
    const o0 = bo + t * n;
    const o1 = o0 + n;
    const o2 = o1 + n;
    const o3 = o2 + n;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = r0; i < r1; i++) {
      const zi = z[zo + i];
      s0 += basis[o0 + i] * zi;
      s1 += basis[o1 + i] * zi;
      s2 += basis[o2 + i] * zi;
      s3 += basis[o3 + i] * zi;
    }
    out[oo + t] = s0;
    out[oo + t + 1] = s1;
    out[oo + t + 2] = s2;
    out[oo + t + 3] = s3;
  }
  for (; t < count; t++) {
    const o = bo + t * n;
    let s = 0;
    for (let i = r0; i < r1; i++) s += basis[o + i] * z[zo + i];
    out[oo + t] = s;
  }
}

/**
 * {@link dotSingle} for two vectors, `z0` at `zo` and `z1` at `zo + n`:
 * four basis columns per sweep, each entry read once for both vectors.
 * Results for z1 go `stride` entries after those of z0.
 */
function dotPair(
  basis: Float64Array,
  bo: number,
  count: number,
  n: number,
  z: Float64Array,
  zo: number,
  out: Float64Array,
  oo: number,
  stride: number,
  r0: number,
  r1: number,
): void {
  const z1o = zo + n;
  const o1o = oo + stride;
  let t = 0;
  for (; t + 3 < count; t += 4) {
    const o0 = bo + t * n;
    const o1 = o0 + n;
    const o2 = o1 + n;
    const o3 = o2 + n;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let b0 = 0;
    let b1 = 0;
    let b2 = 0;
    let b3 = 0;
    for (let i = r0; i < r1; i++) {
      const x0 = z[zo + i];
      const x1 = z[z1o + i];
      const v0 = basis[o0 + i];
      const v1 = basis[o1 + i];
      const v2 = basis[o2 + i];
      const v3 = basis[o3 + i];
      a0 += v0 * x0;
      a1 += v1 * x0;
      a2 += v2 * x0;
      a3 += v3 * x0;
      b0 += v0 * x1;
      b1 += v1 * x1;
      b2 += v2 * x1;
      b3 += v3 * x1;
    }
    out[oo + t] = a0;
    out[oo + t + 1] = a1;
    out[oo + t + 2] = a2;
    out[oo + t + 3] = a3;
    out[o1o + t] = b0;
    out[o1o + t + 1] = b1;
    out[o1o + t + 2] = b2;
    out[o1o + t + 3] = b3;
  }
  for (; t < count; t++) {
    const o = bo + t * n;
    let a = 0;
    let b = 0;
    for (let i = r0; i < r1; i++) {
      a += basis[o + i] * z[zo + i];
      b += basis[o + i] * z[z1o + i];
    }
    out[oo + t] = a;
    out[o1o + t] = b;
  }
}

/**
 * `z_c ← z_c − Q h_Q − V h_V` for the vectors of {@link dotRows}, with
 * the coefficients in `fargs` (same layout as the output of
 * {@link dotRows}; the `zᵀz` slot is ignored); then, when `self` is 1,
 * `out[c]` = the partial squared norm of each updated vector.
 */
function subtractRows(
  st: KernelState,
  z: number,
  cols: number,
  qCount: number,
  vFrom: number,
  vCount: number,
  self: number,
  r0: number,
  r1: number,
): void {
  const { n, V, Q, fargs, out } = st;
  const stride = 1 + qCount + vCount;
  const zo = z * n;
  const vo = vFrom * n;
  if (cols === 2) {
    subtractPair(Q, 0, qCount, n, V, zo, fargs, 1, stride, r0, r1);
    subtractPair(V, vo, vCount, n, V, zo, fargs, 1 + qCount, stride, r0, r1);
  } else {
    subtractSingle(Q, 0, qCount, n, V, zo, fargs, 1, r0, r1);
    subtractSingle(V, vo, vCount, n, V, zo, fargs, 1 + qCount, r0, r1);
  }
  if (self === 1) {
    for (let c = 0; c < cols; c++) out[c] = squares(V, z + c, n, r0, r1);
  }
}

/** `z[zo + i] −= Σ_t coef[co + t] · B[bo + t n + i]`, i ∈ [r0, r1). */
function subtractSingle(
  basis: Float64Array,
  bo: number,
  count: number,
  n: number,
  z: Float64Array,
  zo: number,
  coef: Float64Array,
  co: number,
  r0: number,
  r1: number,
): void {
  let t = 0;
  for (; t + 3 < count; t += 4) {
    const o0 = bo + t * n;
    const o1 = o0 + n;
    const o2 = o1 + n;
    const o3 = o2 + n;
    const c0 = coef[co + t];
    const c1 = coef[co + t + 1];
    const c2 = coef[co + t + 2];
    const c3 = coef[co + t + 3];
    for (let i = r0; i < r1; i++) {
      z[zo + i] -=
        c0 * basis[o0 + i] +
        c1 * basis[o1 + i] +
        c2 * basis[o2 + i] +
        c3 * basis[o3 + i];
    }
  }
  for (; t < count; t++) {
    const c = coef[co + t];
    const o = bo + t * n;
    for (let i = r0; i < r1; i++) z[zo + i] -= c * basis[o + i];
  }
}

/**
 * {@link subtractSingle} for two vectors (layout of {@link dotPair}),
 * four basis columns per sweep.
 */
function subtractPair(
  basis: Float64Array,
  bo: number,
  count: number,
  n: number,
  z: Float64Array,
  zo: number,
  coef: Float64Array,
  co: number,
  stride: number,
  r0: number,
  r1: number,
): void {
  const z1o = zo + n;
  const c1o = co + stride;
  let t = 0;
  for (; t + 3 < count; t += 4) {
    const o0 = bo + t * n;
    const o1 = o0 + n;
    const o2 = o1 + n;
    const o3 = o2 + n;
    const a0 = coef[co + t];
    const a1 = coef[co + t + 1];
    const a2 = coef[co + t + 2];
    const a3 = coef[co + t + 3];
    const b0 = coef[c1o + t];
    const b1 = coef[c1o + t + 1];
    const b2 = coef[c1o + t + 2];
    const b3 = coef[c1o + t + 3];
    for (let i = r0; i < r1; i++) {
      const v0 = basis[o0 + i];
      const v1 = basis[o1 + i];
      const v2 = basis[o2 + i];
      const v3 = basis[o3 + i];
      z[zo + i] -= a0 * v0 + a1 * v1 + a2 * v2 + a3 * v3;
      z[z1o + i] -= b0 * v0 + b1 * v1 + b2 * v2 + b3 * v3;
    }
  }
  for (; t < count; t++) {
    const a = coef[co + t];
    const b = coef[c1o + t];
    const o = bo + t * n;
    for (let i = r0; i < r1; i++) {
      const v = basis[o + i];
      z[zo + i] -= a * v;
      z[z1o + i] -= b * v;
    }
  }
}

/** `V[i, col + c] *= fargs[c]` for c < cols. */
function scaleRows2(
  st: KernelState,
  col: number,
  cols: number,
  r0: number,
  r1: number,
): void {
  const { n, V, fargs } = st;
  for (let c = 0; c < cols; c++) {
    const f = fargs[c];
    const o = (col + c) * n;
    for (let i = r0; i < r1; i++) V[o + i] *= f;
  }
}

/**
 * The restart's change of basis on rows `[r0, r1)`: new column c is
 * `Σ_a V[:, a] · fargs[c · m + a]` over the first m columns; columns
 * c < keep replace V's columns 0 .. keep − 1, the others go to Q's
 * columns from `qFrom`. Rows are done in chunks, each read in full
 * before it is written, so working in place is safe. Two new columns
 * share each sweep over four old ones.
 */
function combineRows(
  st: KernelState,
  m: number,
  s: number,
  keep: number,
  qFrom: number,
  r0: number,
  r1: number,
): void {
  const { n, V, Q, fargs } = st;
  const chunk = 256;
  const tmp = new Float64Array(s * chunk);
  for (let i0 = r0; i0 < r1; i0 += chunk) {
    const len = Math.min(chunk, r1 - i0);
    tmp.fill(0);
    let c = 0;
    for (; c + 1 < s; c += 2) {
      const t0 = c * chunk;
      const t1 = t0 + chunk;
      const y = c * m;
      const u = y + m;
      let a = 0;
      for (; a + 3 < m; a += 4) {
        const y0 = fargs[y + a];
        const y1 = fargs[y + a + 1];
        const y2 = fargs[y + a + 2];
        const y3 = fargs[y + a + 3];
        const u0 = fargs[u + a];
        const u1 = fargs[u + a + 1];
        const u2 = fargs[u + a + 2];
        const u3 = fargs[u + a + 3];
        const o0 = a * n + i0;
        const o1 = o0 + n;
        const o2 = o1 + n;
        const o3 = o2 + n;
        for (let i = 0; i < len; i++) {
          const v0 = V[o0 + i];
          const v1 = V[o1 + i];
          const v2 = V[o2 + i];
          const v3 = V[o3 + i];
          tmp[t0 + i] += y0 * v0 + y1 * v1 + y2 * v2 + y3 * v3;
          tmp[t1 + i] += u0 * v0 + u1 * v1 + u2 * v2 + u3 * v3;
        }
      }
      for (; a < m; a++) {
        const ya = fargs[y + a];
        const ua = fargs[u + a];
        const o = a * n + i0;
        for (let i = 0; i < len; i++) {
          tmp[t0 + i] += ya * V[o + i];
          tmp[t1 + i] += ua * V[o + i];
        }
      }
    }
    if (c < s) {
      // an odd last column on its own
      const t0 = c * chunk;
      const y = c * m;
      for (let a = 0; a < m; a++) {
        const ya = fargs[y + a];
        const o = a * n + i0;
        for (let i = 0; i < len; i++) tmp[t0 + i] += ya * V[o + i];
      }
    }
    for (c = 0; c < s; c++) {
      const target = c < keep ? V : Q;
      const col = c < keep ? c : qFrom + c - keep;
      const o = col * n + i0;
      const to = c * chunk;
      for (let i = 0; i < len; i++) target[o + i] = tmp[to + i];
    }
  }
}

/**
 * The worker thread's loop: wait for a command, run its kernel on the
 * rows it was given, report done. Buffers that were reallocated arrive
 * as messages, read synchronously before each command.
 */
function workerMain(wt: typeof import("node:worker_threads")): void {
  const data = wt.workerData as {
    ctrl: Int32Array;
    port: import("node:worker_threads").MessagePort;
    state: KernelState;
  };
  const { ctrl, port, state } = data;
  let seen = 0;
  Atomics.store(ctrl, 1, 0);
  Atomics.notify(ctrl, 1);
  for (;;) {
    Atomics.wait(ctrl, 0, seen);
    const seq = Atomics.load(ctrl, 0);
    if (seq === seen) continue;
    seen = seq;
    for (;;) {
      const msg = wt.receiveMessageOnPort(port);
      if (msg === undefined) break;
      Object.assign(state, msg.message);
    }
    if (ctrl[2] === KERNEL.stop) {
      Atomics.store(ctrl, 1, seq);
      Atomics.notify(ctrl, 1);
      break;
    }
    try {
      runKernel(state, ctrl, ctrl[3], ctrl[4]);
    } catch (err) {
      port.postMessage({ error: String((err as Error)?.stack ?? err) });
      Atomics.store(ctrl, 1, -1);
      Atomics.notify(ctrl, 1);
      throw err;
    }
    Atomics.store(ctrl, 1, seq);
    Atomics.notify(ctrl, 1);
  }
  port.close();
}

/** The source text the worker thread evaluates. */
export function workerSource(): string {
  const functions = [
    gatherRows,
    csrRows,
    runKernel,
    packRows,
    applyRows,
    dotRows,
    squares,
    dotSingle,
    dotPair,
    subtractRows,
    subtractSingle,
    subtractPair,
    scaleRows2,
    combineRows,
    workerMain,
  ];
  return [
    // transpilers may wrap inner functions in a naming helper
    "const __name = (f) => f;",
    `const KERNEL = ${JSON.stringify(KERNEL)};`,
    ...functions.map((f) => f.toString()),
    'workerMain(require("node:worker_threads"));',
  ].join("\n");
}
