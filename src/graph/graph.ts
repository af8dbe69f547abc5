/**
 * The `Graph` type: a directed, optionally weighted multigraph stored as
 * typed arrays in CSR order by destination.
 *
 * Edge e goes from `src[e]` to `dst[e]` and carries `weights[e]` (1 when the
 * graph is unweighted). Edges are sorted by (destination, source); edges
 * with the same pair keep their input order. The incoming edges of node i
 * are `rowPtr[i] .. rowPtr[i + 1] - 1`, so a reduction over them always
 * visits the same edges in the same order and is deterministic.
 *
 * An undirected edge is two directed edges, one each way.
 */

import { GraphError } from "../errors.js";

/** Options of {@link Graph.fromEdges}. */
export interface FromEdgesOptions {
  /**
   * Number of nodes. Defaults to one more than the largest id seen (0 for
   * no edges). Ids must lie in `[0, numNodes)`.
   */
  numNodes?: number;
  /** One weight per input edge; omitted or null for an unweighted graph. */
  weights?: ArrayLike<number> | null;
  /**
   * Whether negative weights are accepted (default false: a graph's
   * weights are non-negative unless asked otherwise). NaN and ±Inf are
   * always rejected.
   */
  allowNegativeWeights?: boolean;
}

/** The graph stored in CSR order by source (the transposed graph). */
export interface SourceCSR {
  /** `colPtr[j] .. colPtr[j + 1] - 1` index the out-edges of node j. */
  readonly colPtr: Int32Array;
  /** Destination node of each out-edge. */
  readonly rowIdx: Int32Array;
  /** Id (position in destination order) of each out-edge. */
  readonly edgeIds: Int32Array;
  /** Weight of each out-edge, or null when unweighted. */
  readonly weights: Float32Array | null;
}

/** Check that a value is a whole number usable as an id or count. */
function isIndex(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0x7fffffff;
}

/**
 * An immutable directed graph. Build it with the static builders
 * (`fromEdges`, `fromCSR`, and those of `builders.ts`); the arrays it hands
 * out must be treated as read-only.
 */
export class Graph {
  /** Number of nodes N. */
  readonly numNodes: number;
  /** Number of directed edges E (duplicates and self-loops counted). */
  readonly numEdges: number;
  /** CSR row pointer by destination, length N + 1. */
  readonly rowPtr: Int32Array;
  /** Source node of each edge in CSR order, length E (the COO `src`). */
  readonly colIdx: Int32Array;
  /** Float32 weight of each edge in CSR order, or null when unweighted. */
  readonly weights: Float32Array | null;

  #dst: Int32Array | null = null;
  #sourceCSR: SourceCSR | null = null;
  #inDegree: Float64Array | null = null;
  #outDegree: Float64Array | null = null;

  /**
   * Wrap CSR arrays without copying. Use {@link Graph.fromCSR} for
   * checked construction; this constructor trusts its caller.
   */
  private constructor(
    numNodes: number,
    rowPtr: Int32Array,
    colIdx: Int32Array,
    weights: Float32Array | null,
  ) {
    this.numNodes = numNodes;
    this.numEdges = colIdx.length;
    this.rowPtr = rowPtr;
    this.colIdx = colIdx;
    this.weights = weights;
  }

  /**
   * Build a graph from parallel arrays of edge endpoints (COO). Each pair
   * `(src[e], dst[e])` is one directed edge; duplicates and self-loops are
   * kept. Raises `GraphError` for ids that are not integers or out of
   * range, for arrays of different lengths, and for NaN/Inf (or, unless
   * allowed, negative) weights.
   */
  static fromEdges(
    src: ArrayLike<number>,
    dst: ArrayLike<number>,
    options: FromEdgesOptions = {},
  ): Graph {
    const fn = "Graph.fromEdges";
    const numEdges = src.length;
    if (dst.length !== numEdges) {
      throw new GraphError(
        `${fn}: src and dst must have the same length, got ` +
          `${src.length} and ${dst.length}`,
      );
    }
    const weights = options.weights ?? null;
    if (weights !== null && weights.length !== numEdges) {
      throw new GraphError(
        `${fn}: weights must have one entry per edge (${numEdges}), got ` +
          `${weights.length}`,
      );
    }

    // first we check every id and find the node count
    let maxId = -1;
    for (let e = 0; e < numEdges; e++) {
      const s = src[e];
      const d = dst[e];
      if (!isIndex(s)) {
        throw new GraphError(
          `${fn}: src[${e}] must be a non-negative integer id, got ${s}`,
        );
      }
      if (!isIndex(d)) {
        throw new GraphError(
          `${fn}: dst[${e}] must be a non-negative integer id, got ${d}`,
        );
      }
      if (s > maxId) maxId = s;
      if (d > maxId) maxId = d;
    }
    const numNodes = options.numNodes ?? maxId + 1;
    if (!isIndex(numNodes)) {
      throw new GraphError(
        `${fn}: numNodes must be a non-negative integer, got ${numNodes}`,
      );
    }
    if (maxId >= numNodes) {
      throw new GraphError(
        `${fn}: node id ${maxId} is out of range for numNodes = ${numNodes}`,
      );
    }
    if (weights !== null) {
      checkWeights(fn, weights, options.allowNegativeWeights ?? false);
    }

    // then a stable counting sort by source, then by destination, gives
    // (destination, source) order with ties kept in input order
    const bySrc = countingOrder(src, numNodes, null);
    const order = countingOrder(dst, numNodes, bySrc);
    const rowPtr = new Int32Array(numNodes + 1);
    for (let e = 0; e < numEdges; e++) rowPtr[dst[e] + 1]++;
    for (let i = 0; i < numNodes; i++) rowPtr[i + 1] += rowPtr[i];
    const colIdx = new Int32Array(numEdges);
    const w = weights === null ? null : new Float32Array(numEdges);
    for (let k = 0; k < numEdges; k++) {
      const e = order[k];
      colIdx[k] = src[e];
      if (w !== null) w[k] = (weights as ArrayLike<number>)[e];
    }
    return new Graph(numNodes, rowPtr, colIdx, w);
  }

  /**
   * Build a graph from CSR arrays by destination (row i lists the sources
   * of the edges into i). The arrays are checked and then used without
   * copying: the caller must not change them afterwards. Sources within a
   * row are sorted (stably) if they are not already.
   */
  static fromCSR(
    rowPtr: Int32Array,
    colIdx: Int32Array,
    weights: Float32Array | null = null,
    options: { allowNegativeWeights?: boolean } = {},
  ): Graph {
    const fn = "Graph.fromCSR";
    const numNodes = rowPtr.length - 1;
    if (numNodes < 0) {
      throw new GraphError(`${fn}: rowPtr must have length N + 1 >= 1`);
    }
    if (rowPtr[0] !== 0 || rowPtr[numNodes] !== colIdx.length) {
      throw new GraphError(
        `${fn}: rowPtr must start at 0 and end at colIdx.length ` +
          `(${colIdx.length}), got ${rowPtr[0]} and ${rowPtr[numNodes]}`,
      );
    }
    if (weights !== null && weights.length !== colIdx.length) {
      throw new GraphError(
        `${fn}: weights must have one entry per edge (${colIdx.length}), ` +
          `got ${weights.length}`,
      );
    }
    let sorted = true;
    for (let i = 0; i < numNodes; i++) {
      const a = rowPtr[i];
      const b = rowPtr[i + 1];
      if (b < a) {
        throw new GraphError(
          `${fn}: rowPtr must be non-decreasing, rowPtr[${i}] = ${a} > ` +
            `rowPtr[${i + 1}] = ${b}`,
        );
      }
      for (let e = a; e < b; e++) {
        const s = colIdx[e];
        if (s < 0 || s >= numNodes) {
          throw new GraphError(
            `${fn}: colIdx[${e}] = ${s} is out of range for N = ${numNodes}`,
          );
        }
        if (e > a && colIdx[e - 1] > s) sorted = false;
      }
    }
    if (weights !== null) {
      checkWeights(fn, weights, options.allowNegativeWeights ?? false);
    }
    if (!sorted) {
      // rebuild through the COO path, which sorts stably
      const dst = expandRows(rowPtr);
      return Graph.fromEdges(colIdx, dst, {
        numNodes,
        weights,
        allowNegativeWeights: options.allowNegativeWeights,
      });
    }
    return new Graph(numNodes, rowPtr, colIdx, weights);
  }

  /** The empty graph with `numNodes` nodes and no edges. */
  static empty(numNodes: number): Graph {
    return Graph.fromEdges([], [], { numNodes });
  }

  /** Source of each edge, in CSR order (COO view; same as `colIdx`). */
  get src(): Int32Array {
    return this.colIdx;
  }

  /** Destination of each edge, in CSR order (COO view, built lazily). */
  get dst(): Int32Array {
    if (this.#dst === null) this.#dst = expandRows(this.rowPtr);
    return this.#dst;
  }

  /** Whether the graph carries edge weights. */
  get isWeighted(): boolean {
    return this.weights !== null;
  }

  /** Weight of edge e (1 for unweighted graphs). */
  weight(e: number): number {
    return this.weights === null ? 1 : this.weights[e];
  }

  /**
   * The same edges in CSR order by source, built once and cached: used
   * for transposed products (the backward pass of propagation).
   */
  get sourceCSR(): SourceCSR {
    if (this.#sourceCSR === null) this.#sourceCSR = buildSourceCSR(this);
    return this.#sourceCSR;
  }

  /**
   * Weighted in-degree of every node: `D_i = Σ_{e: dst = i} w_e`, as
   * float64. For an undirected (symmetric) graph it equals the out-degree.
   */
  inDegrees(): Float64Array {
    if (this.#inDegree === null) {
      const deg = new Float64Array(this.numNodes);
      const w = this.weights;
      for (let i = 0; i < this.numNodes; i++) {
        let s = 0;
        for (let e = this.rowPtr[i]; e < this.rowPtr[i + 1]; e++) {
          s += w === null ? 1 : w[e];
        }
        deg[i] = s;
      }
      this.#inDegree = deg;
    }
    return this.#inDegree;
  }

  /** Weighted out-degree of every node, `Σ_{e: src = j} w_e`, as float64. */
  outDegrees(): Float64Array {
    if (this.#outDegree === null) {
      const deg = new Float64Array(this.numNodes);
      const w = this.weights;
      for (let e = 0; e < this.numEdges; e++) {
        deg[this.colIdx[e]] += w === null ? 1 : w[e];
      }
      this.#outDegree = deg;
    }
    return this.#outDegree;
  }

  /** Number of incoming edges of every node (unweighted count). */
  inEdgeCounts(): Int32Array {
    const c = new Int32Array(this.numNodes);
    for (let i = 0; i < this.numNodes; i++) {
      c[i] = this.rowPtr[i + 1] - this.rowPtr[i];
    }
    return c;
  }

  /**
   * The dense N × N matrix `M[dst][src] = Σ w` (row-major, float64), so
   * that propagation with `sum` is `M · X`. For tests and small graphs.
   */
  toDense(): Float64Array {
    const n = this.numNodes;
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let e = this.rowPtr[i]; e < this.rowPtr[i + 1]; e++) {
        m[i * n + this.colIdx[e]] += this.weight(e);
      }
    }
    return m;
  }

  /** A new graph with the same structure and other weights (CSR order). */
  withWeights(
    weights: Float32Array | null,
    options: { allowNegativeWeights?: boolean } = {},
  ): Graph {
    if (weights !== null) {
      if (weights.length !== this.numEdges) {
        throw new GraphError(
          `Graph.withWeights: expected ${this.numEdges} weights, got ` +
            `${weights.length}`,
        );
      }
      checkWeights(
        "Graph.withWeights",
        weights,
        options.allowNegativeWeights ?? false,
      );
    }
    return new Graph(this.numNodes, this.rowPtr, this.colIdx, weights);
  }

  /** A short description, e.g. `Graph(N=2708, E=10556, unweighted)`. */
  toString(): string {
    const kind = this.weights === null ? "unweighted" : "weighted";
    return `Graph(N=${this.numNodes}, E=${this.numEdges}, ${kind})`;
  }
}

/**
 * Reject NaN/Inf weights, and negative ones unless allowed.
 *
 * NOTE: weights are stored as float32, so a float64 weight beyond the
 * float32 range (|w| > 3.4e38) would become ±Inf once stored: it is
 * rejected here as well.
 */
function checkWeights(
  fn: string,
  weights: ArrayLike<number>,
  allowNegative: boolean,
): void {
  for (let e = 0; e < weights.length; e++) {
    const w = weights[e];
    if (typeof w !== "number" || !Number.isFinite(Math.fround(w))) {
      throw new GraphError(
        `${fn}: weights[${e}] must be finite in float32, got ${w}`,
      );
    }
    if (!allowNegative && w < 0) {
      throw new GraphError(
        `${fn}: weights[${e}] must be non-negative, got ${w} ` +
          "(pass allowNegativeWeights to accept it)",
      );
    }
  }
}

/**
 * Stable counting sort: the permutation that orders `keys` (all in
 * `[0, n)`), applied on top of `prior` (a permutation of the edges, or
 * null for the identity).
 */
export function countingOrder(
  keys: ArrayLike<number>,
  n: number,
  prior: Int32Array | null,
): Int32Array {
  const m = keys.length;
  const start = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) start[keys[e] + 1]++;
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const out = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    const e = prior === null ? k : prior[k];
    out[start[keys[e]]++] = e;
  }
  return out;
}

/** Expand a row pointer into the row index of every entry. */
function expandRows(rowPtr: Int32Array): Int32Array {
  const n = rowPtr.length - 1;
  const out = new Int32Array(rowPtr[n]);
  for (let i = 0; i < n; i++) out.fill(i, rowPtr[i], rowPtr[i + 1]);
  return out;
}

/** The CSR by source of a graph, edges of one source in CSR order. */
function buildSourceCSR(g: Graph): SourceCSR {
  const n = g.numNodes;
  const m = g.numEdges;
  const colPtr = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) colPtr[g.colIdx[e] + 1]++;
  for (let j = 0; j < n; j++) colPtr[j + 1] += colPtr[j];
  const next = colPtr.slice(0, n);
  const rowIdx = new Int32Array(m);
  const edgeIds = new Int32Array(m);
  const weights = g.weights === null ? null : new Float32Array(m);
  for (let i = 0; i < n; i++) {
    for (let e = g.rowPtr[i]; e < g.rowPtr[i + 1]; e++) {
      const k = next[g.colIdx[e]]++;
      rowIdx[k] = i;
      edgeIds[k] = e;
      if (weights !== null) weights[k] = (g.weights as Float32Array)[e];
    }
  }
  return { colPtr, rowIdx, edgeIds, weights };
}
