/**
 * Builders that turn other representations into a `Graph` and back: dense
 * adjacency matrices and graphology graphs. Edge lists on disk live in
 * `io.ts`.
 *
 * Every builder follows the convention of `Graph.toDense`: the matrix
 * entry `M[i][j]` is the weight of the edge j → i (row = destination).
 */

import Graphology from "graphology";
import { GraphError } from "../errors.js";
import { Graph } from "./graph.js";

/**
 * A square dense matrix: an array of rows, or row-major typed data with
 * its shape.
 */
export type AdjacencyMatrixInput =
  | number[][]
  | {
      readonly data: Float32Array | Float64Array;
      readonly rows: number;
      readonly cols: number;
    };

/** Options of {@link graphFromDense}. */
export interface GraphFromDenseOptions {
  /**
   * Whether the graph keeps weights. `"auto"` (the default) keeps them
   * unless every non-zero entry equals 1; `true` always keeps them;
   * `false` keeps only the pattern (every non-zero entry becomes an
   * unweighted edge, whatever its value).
   */
  weighted?: "auto" | boolean;
  /** Accept negative entries as negative weights (default false). */
  allowNegativeWeights?: boolean;
}

/**
 * Build a graph from a dense N × N matrix: each non-zero entry `M[i][j]`
 * is one edge j → i of weight `M[i][j]`, so that
 * `graphFromDense(M).toDense()` is `M` (up to float32 rounding).
 *
 * Raises `GraphError` when the matrix is not square, when `data` does not
 * hold `rows · cols` values, for entries that are not finite numbers (or
 * overflow float32), and for negative entries unless
 * `allowNegativeWeights` is set.
 */
export function graphFromDense(
  matrix: AdjacencyMatrixInput,
  options: GraphFromDenseOptions = {},
): Graph {
  const fn = "graphFromDense";
  const { n, at } = denseAccessor(fn, matrix);
  const weighted = options.weighted ?? "auto";
  const allowNegative = options.allowNegativeWeights ?? false;

  // first we count and check the non-zero entries, row by row
  const rowPtr = new Int32Array(n + 1);
  let allOnes = true;
  for (let i = 0; i < n; i++) {
    let count = 0;
    for (let j = 0; j < n; j++) {
      const v = at(i, j);
      if (typeof v !== "number" || !Number.isFinite(Math.fround(v))) {
        throw new GraphError(
          `${fn}: entry [${i}][${j}] must be a finite (float32) number, ` +
            `got ${String(v)}`,
        );
      }
      if (v === 0) continue;
      if (v < 0 && !allowNegative) {
        throw new GraphError(
          `${fn}: entry [${i}][${j}] must be non-negative, got ${v} ` +
            "(pass allowNegativeWeights to accept it)",
        );
      }
      if (v !== 1) allOnes = false;
      count++;
    }
    rowPtr[i + 1] = rowPtr[i] + count;
  }

  // then we fill the CSR arrays: row-major order is already (dst, src)
  const keepWeights = weighted === true || (weighted === "auto" && !allOnes);
  const numEdges = rowPtr[n];
  const colIdx = new Int32Array(numEdges);
  const weights = keepWeights ? new Float32Array(numEdges) : null;
  let e = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = at(i, j) as number;
      if (v === 0) continue;
      colIdx[e] = j;
      if (weights !== null) weights[e] = v;
      e++;
    }
  }
  return Graph.fromCSR(rowPtr, colIdx, weights, {
    allowNegativeWeights: allowNegative,
  });
}

/** Check a dense matrix's shape and return its size and an accessor. */
function denseAccessor(
  fn: string,
  matrix: AdjacencyMatrixInput,
): { n: number; at: (i: number, j: number) => unknown } {
  if (Array.isArray(matrix)) {
    const n = matrix.length;
    for (let i = 0; i < n; i++) {
      const row: unknown = matrix[i];
      if (!Array.isArray(row) || row.length !== n) {
        const got = Array.isArray(row) ? `length ${row.length}` : typeof row;
        throw new GraphError(
          `${fn}: expected a square matrix, row ${i} should be an array ` +
            `of length ${n}, got ${got}`,
        );
      }
    }
    return { n, at: (i, j) => matrix[i][j] };
  }
  if (
    matrix === null ||
    typeof matrix !== "object" ||
    !(
      matrix.data instanceof Float32Array || matrix.data instanceof Float64Array
    )
  ) {
    throw new GraphError(
      `${fn}: expected number[][] or { data: Float32Array | ` +
        `Float64Array, rows, cols }, got ${describe(matrix)}`,
    );
  }
  const { data, rows, cols } = matrix;
  if (!Number.isInteger(rows) || rows < 0 || rows !== cols) {
    throw new GraphError(
      `${fn}: expected a square matrix (rows = cols >= 0), got rows = ` +
        `${rows}, cols = ${cols}`,
    );
  }
  if (data.length !== rows * cols) {
    throw new GraphError(
      `${fn}: expected data of length rows * cols = ${rows * cols}, got ` +
        `${data.length}`,
    );
  }
  return { n: rows, at: (i, j) => data[i * rows + j] };
}

/** A short description of a value's type for error messages. */
function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  return v.constructor?.name ?? "object";
}

/** Options of {@link graphFromGraphology}. */
export interface GraphFromGraphologyOptions {
  /** Edge attribute that holds the weight (default `"weight"`). */
  weightAttribute?: string;
  /**
   * Node keys in the order of the new ids: node `nodeOrder[i]` becomes id
   * i. Must list every node of the graph exactly once. Default: the
   * graph's own node order (`g.nodes()`, insertion order).
   */
  nodeOrder?: ReadonlyArray<string | number>;
  /** Accept negative weights (default false). */
  allowNegativeWeights?: boolean;
}

/** A graph built from a graphology graph, with the key of each node. */
export interface GraphWithNodeIds {
  /** The graph; node i is the graphology node `nodeIds[i]`. */
  graph: Graph;
  /** The graphology key of every node, by id. */
  nodeIds: string[];
}

/**
 * Convert a graphology graph (directed, undirected or mixed, simple or
 * multi) to a `Graph`. A directed edge becomes one directed edge; an
 * undirected edge u — v becomes two, u → v and v → u, except a self-loop,
 * which becomes the single edge u → u (so `toDense` gives `M[u][u] = w`,
 * as networkx's adjacency matrix does).
 *
 * The weight of an edge is its `weightAttribute` attribute; an edge
 * without it weighs 1, and the graph is unweighted when no edge has it.
 * Raises `GraphError` (naming the edge key) for a weight that is not a
 * finite number, or is negative without `allowNegativeWeights`, and for
 * a `nodeOrder` that is not a permutation of the graph's nodes.
 */
export function graphFromGraphology(
  g: Graphology,
  options: GraphFromGraphologyOptions = {},
): GraphWithNodeIds {
  const fn = "graphFromGraphology";
  const weightAttribute = options.weightAttribute ?? "weight";
  const allowNegative = options.allowNegativeWeights ?? false;
  if (
    g === null ||
    typeof g !== "object" ||
    typeof g.forEachEdge !== "function" ||
    typeof g.nodes !== "function"
  ) {
    throw new GraphError(
      `${fn}: expected a graphology graph, got ${describe(g)}`,
    );
  }

  // first we number the nodes
  const nodeIds = nodeOrderOf(fn, g, options.nodeOrder);
  const index = new Map<string, number>(nodeIds.map((key, i) => [key, i]));

  // then we read the edges in graphology's iteration order
  const src: number[] = [];
  const dst: number[] = [];
  const weights: number[] = [];
  let anyWeight = false;
  g.forEachEdge((key, attributes, source, target, _sa, _ta, undirected) => {
    const raw: unknown = attributes[weightAttribute];
    let w = 1;
    if (raw !== undefined) {
      if (typeof raw !== "number" || !Number.isFinite(Math.fround(raw))) {
        throw new GraphError(
          `${fn}: edge "${key}" must have a finite numeric ` +
            `"${weightAttribute}" attribute, got ${String(raw)}`,
        );
      }
      if (raw < 0 && !allowNegative) {
        throw new GraphError(
          `${fn}: edge "${key}" must have a non-negative ` +
            `"${weightAttribute}", got ${raw} ` +
            "(pass allowNegativeWeights to accept it)",
        );
      }
      w = raw;
      anyWeight = true;
    }
    const s = index.get(source) as number;
    const t = index.get(target) as number;
    src.push(s);
    dst.push(t);
    weights.push(w);
    if (undirected && s !== t) {
      src.push(t);
      dst.push(s);
      weights.push(w);
    }
  });

  const graph = Graph.fromEdges(src, dst, {
    numNodes: nodeIds.length,
    weights: anyWeight ? weights : null,
    allowNegativeWeights: allowNegative,
  });
  return { graph, nodeIds };
}

/** The node keys of `g` in the order asked for, checked. */
function nodeOrderOf(
  fn: string,
  g: Graphology,
  nodeOrder: ReadonlyArray<string | number> | undefined,
): string[] {
  if (nodeOrder === undefined) return g.nodes();
  if (!Array.isArray(nodeOrder) || nodeOrder.length !== g.order) {
    throw new GraphError(
      `${fn}: nodeOrder must list all ${g.order} nodes, got ` +
        (Array.isArray(nodeOrder) ? `${nodeOrder.length}` : "no array"),
    );
  }
  const keys = nodeOrder.map((k) => String(k));
  const seen = new Set<string>();
  for (const key of keys) {
    if (!g.hasNode(key)) {
      throw new GraphError(
        `${fn}: nodeOrder lists "${key}", which is not a node of the graph`,
      );
    }
    if (seen.has(key)) {
      throw new GraphError(`${fn}: nodeOrder lists "${key}" twice`);
    }
    seen.add(key);
  }
  return keys;
}

/** Options of {@link graphToGraphology}. */
export interface GraphToGraphologyOptions {
  /**
   * `"directed"` (the default): one directed graphology edge per edge.
   * `"undirected"`: the graph must be symmetric edge by edge (see
   * {@link graphToGraphology}); each pair of twin edges becomes one
   * undirected edge and each self-loop one undirected loop.
   */
  type?: "directed" | "undirected";
  /** Edge attribute that receives the weight (default `"weight"`). */
  weightAttribute?: string;
  /** Graphology key of every node, by id (default `String(i)`). */
  nodeIds?: ArrayLike<string | number>;
}

/**
 * Convert a `Graph` to a graphology graph, the inverse of
 * {@link graphFromGraphology}. Weighted graphs store each weight in the
 * `weightAttribute` edge attribute; unweighted graphs set no attribute.
 * The result is a multi graph exactly when some (source, destination)
 * pair carries more than one edge.
 *
 * A weighted graph without edges comes back from
 * {@link graphFromGraphology} unweighted: no edge carries the attribute.
 *
 * Edge keys are decimal strings: the CSR id of the edge for a directed
 * result; for an undirected one, the CSR id of the twin going from the
 * smaller to the larger id (the loop itself for a self-loop).
 *
 * For `type: "undirected"`, every edge u → v (u ≠ v) needs a twin
 * v → u of the same weight: for each pair, the weights of the u → v edges
 * and those of the v → u edges must be the same multiset. Otherwise
 * `GraphError` is raised (symmetrize or coalesce the graph first).
 */
export function graphToGraphology(
  graph: Graph,
  options: GraphToGraphologyOptions = {},
): Graphology {
  const fn = "graphToGraphology";
  const type = options.type ?? "directed";
  const weightAttribute = options.weightAttribute ?? "weight";
  if (type !== "directed" && type !== "undirected") {
    throw new GraphError(
      `${fn}: type must be "directed" or "undirected", got ${String(type)}`,
    );
  }
  const keys = nodeKeysOf(fn, graph.numNodes, options.nodeIds);
  const { rowPtr, colIdx } = graph;
  const attrs = (e: number): Record<string, number> =>
    graph.weights === null ? {} : { [weightAttribute]: graph.weights[e] };

  // a pair with two or more edges needs a multi graph
  let multi = false;
  for (let i = 0; i < graph.numNodes && !multi; i++) {
    for (let e = rowPtr[i] + 1; e < rowPtr[i + 1]; e++) {
      if (colIdx[e] === colIdx[e - 1]) {
        multi = true;
        break;
      }
    }
  }
  const out = new Graphology({ type, multi, allowSelfLoops: true });
  for (const key of keys) out.addNode(key);

  // directed case
  if (type === "directed") {
    for (let i = 0; i < graph.numNodes; i++) {
      for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
        out.addDirectedEdgeWithKey(
          String(e),
          keys[colIdx[e]],
          keys[i],
          attrs(e),
        );
      }
    }
    return out;
  }

  // undirected case: pair each group of edges j → i with its twins
  for (const [e, j, i] of undirectedEdges(graph, fn)) {
    out.addUndirectedEdgeWithKey(String(e), keys[j], keys[i], attrs(e));
  }
  return out;
}

/** Node keys by id, checked for length and uniqueness. */
function nodeKeysOf(
  fn: string,
  numNodes: number,
  nodeIds: ArrayLike<string | number> | undefined,
): string[] {
  if (nodeIds === undefined) {
    return Array.from({ length: numNodes }, (_, i) => String(i));
  }
  if (nodeIds.length !== numNodes) {
    throw new GraphError(
      `${fn}: expected ${numNodes} nodeIds, got ${nodeIds.length}`,
    );
  }
  const keys = Array.from(nodeIds, (k) => String(k));
  if (new Set(keys).size !== keys.length) {
    throw new GraphError(`${fn}: nodeIds must be distinct`);
  }
  return keys;
}

/**
 * The undirected edges of a graph that is symmetric edge by edge, as
 * `[edgeId, j, i]` with j ≤ i, where `edgeId` is the CSR id of one edge
 * j → i (each self-loop is its own undirected edge). Raises `GraphError`
 * when some edge has no twin of the same weight; `fn` names the caller
 * in that message.
 *
 * NOTE: the edges j → i form one contiguous run of row i (sources are
 * sorted), so the twins of a run are found by a binary search in row j.
 */
export function undirectedEdges(
  graph: Graph,
  fn = "undirectedEdges",
): Array<[number, number, number]> {
  const { rowPtr, colIdx } = graph;
  const out: Array<[number, number, number]> = [];
  for (let i = 0; i < graph.numNodes; i++) {
    let start = rowPtr[i];
    while (start < rowPtr[i + 1]) {
      const j = colIdx[start];
      let end = start + 1;
      while (end < rowPtr[i + 1] && colIdx[end] === j) end++;

      // self-loops are their own twins
      if (j === i) {
        for (let e = start; e < end; e++) out.push([e, i, i]);
        start = end;
        continue;
      }

      // the twins i → j sit in row j, in the run of source i
      const twinStart = lowerBound(colIdx, rowPtr[j], rowPtr[j + 1], i);
      let twinEnd = twinStart;
      while (twinEnd < rowPtr[j + 1] && colIdx[twinEnd] === i) twinEnd++;
      if (!sameWeights(graph, start, end, twinStart, twinEnd)) {
        throw new GraphError(
          `${fn}: expected a symmetric graph, but the ${end - start} ` +
            `edge(s) ${j} -> ${i} and the ${twinEnd - twinStart} edge(s) ` +
            `${i} -> ${j} do not have the same weights`,
        );
      }
      if (j < i) {
        for (let e = start; e < end; e++) out.push([e, j, i]);
      }
      start = end;
    }
  }
  return out;
}

/** First position in `a[lo, hi)` (sorted) whose value is >= `v`. */
function lowerBound(a: Int32Array, lo: number, hi: number, v: number) {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether two runs of edges carry the same multiset of weights. */
function sameWeights(
  graph: Graph,
  a0: number,
  a1: number,
  b0: number,
  b1: number,
): boolean {
  if (a1 - a0 !== b1 - b0) return false;
  if (graph.weights === null) return true;
  const a = graph.weights.slice(a0, a1).sort();
  const b = graph.weights.slice(b0, b1).sort();
  return a.every((w, k) => w === b[k]);
}
