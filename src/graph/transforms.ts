/**
 * Transforms of a `Graph`: self-loops, symmetrization, merging of
 * duplicate edges, degree normalization (as in Kipf & Welling, "Semi-
 * Supervised Classification with Graph Convolutional Networks", 2017),
 * degrees, induced subgraphs, transposition and a symmetry test.
 *
 * Every transform is pure: it returns a new graph and never changes its
 * input. Matrices below are the dense `M[dst][src]` of `Graph.toDense`,
 * so row i holds the edges into node i. A result is unweighted when the
 * input is unweighted and every weight it would carry is 1.
 *
 * NOTE: weights are stored as float32; sums, means and normalizations
 * are computed in float64 in CSR order and rounded once when stored.
 */

import { GraphError } from "../errors.js";
import { Graph } from "./graph.js";

/** How duplicate edges of one (source, destination) pair are merged. */
export type Reduce = "sum" | "max" | "mean" | "first";

/** Options of {@link addSelfLoops}. */
export interface AddSelfLoopsOptions {
  /** Weight of each new loop (default 1); finite and non-negative. */
  weight?: number;
  /**
   * Add a loop only to nodes that have none (default false: every node
   * gets one more loop, on top of any it has).
   */
  onlyMissing?: boolean;
}

/**
 * Add a self-loop i → i of weight `weight` to every node (or, with
 * `onlyMissing`, to every node without one): `M + weight · I`. A new
 * loop follows the node's existing loops in CSR order. The result is
 * weighted when the input is or `weight` is not 1. Raises `GraphError`
 * for a weight that is not a finite non-negative number.
 */
export function addSelfLoops(
  g: Graph,
  options: AddSelfLoopsOptions = {},
): Graph {
  const fn = "addSelfLoops";
  const weight = options.weight ?? 1;
  const onlyMissing = options.onlyMissing ?? false;
  if (
    typeof weight !== "number" ||
    !Number.isFinite(Math.fround(weight)) ||
    weight < 0
  ) {
    throw new GraphError(
      `${fn}: weight must be a finite non-negative number, got ${weight}`,
    );
  }
  const n = g.numNodes;
  const { rowPtr, colIdx } = g;

  // first we count the new loops of every row
  const added = new Uint8Array(n);
  const newRowPtr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    let hasLoop = false;
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      if (colIdx[e] === i) hasLoop = true;
    }
    added[i] = onlyMissing && hasLoop ? 0 : 1;
    newRowPtr[i + 1] = newRowPtr[i] + rowPtr[i + 1] - rowPtr[i] + added[i];
  }

  // then we copy each row, with the new loop after the sources <= i
  const weighted = g.weights !== null || weight !== 1;
  const outCol = new Int32Array(newRowPtr[n]);
  const outW = weighted ? new Float32Array(newRowPtr[n]) : null;
  let k = 0;
  for (let i = 0; i < n; i++) {
    let e = rowPtr[i];
    const end = rowPtr[i + 1];
    for (; e < end && colIdx[e] <= i; e++, k++) {
      outCol[k] = colIdx[e];
      if (outW !== null) outW[k] = g.weight(e);
    }
    if (added[i] === 1) {
      outCol[k] = i;
      if (outW !== null) outW[k] = weight;
      k++;
    }
    for (; e < end; e++, k++) {
      outCol[k] = colIdx[e];
      if (outW !== null) outW[k] = g.weight(e);
    }
  }
  return Graph.fromCSR(newRowPtr, outCol, outW, {
    allowNegativeWeights: true,
  });
}

/** Remove every self-loop i → i (the diagonal of `M`). */
export function removeSelfLoops(g: Graph): Graph {
  const n = g.numNodes;
  const { rowPtr, colIdx, weights } = g;
  const newRowPtr = new Int32Array(n + 1);
  let loops = 0;
  for (let i = 0; i < n; i++) {
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      if (colIdx[e] === i) loops++;
    }
    newRowPtr[i + 1] = rowPtr[i + 1] - loops;
  }
  const outCol = new Int32Array(g.numEdges - loops);
  const outW = weights === null ? null : new Float32Array(outCol.length);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      if (colIdx[e] === i) continue;
      outCol[k] = colIdx[e];
      if (outW !== null) outW[k] = (weights as Float32Array)[e];
      k++;
    }
  }
  return Graph.fromCSR(newRowPtr, outCol, outW, {
    allowNegativeWeights: true,
  });
}

/** Options of {@link coalesce}. */
export interface CoalesceOptions {
  /**
   * How the weights of one pair merge (default `"sum"`): their sum, their
   * maximum, their mean, or the weight of the first edge in CSR order
   * (that is, input order).
   */
  reduce?: Reduce;
}

/**
 * Merge the duplicate edges of every (source, destination) pair into one
 * edge. With `reduce: "sum"` the dense matrix is unchanged. An unweighted
 * graph stays unweighted unless a sum merges duplicates (the weight is
 * then the number of edges). Raises `GraphError` for an unknown `reduce`
 * and for a sum that overflows float32.
 */
export function coalesce(g: Graph, options: CoalesceOptions = {}): Graph {
  const fn = "coalesce";
  const reduce = checkReduce(fn, options.reduce ?? "sum", true);
  return fromMerged(g, mergeRuns(fn, g, reduce));
}

/** Options of {@link symmetrize}. */
export interface SymmetrizeOptions {
  /**
   * How the entries landing on one pair merge (default `"sum"`): see
   * {@link symmetrize}.
   */
  reduce?: Exclude<Reduce, "first">;
}

/**
 * The symmetric graph of `A` and `Aᵀ` merged: the edges of `g` together
 * with every edge reversed, duplicates coalesced. The weight of i → j is
 * the `reduce` of all the weights that land on that pair, i.e. of the
 * edges i → j and j → i of `g`:
 *
 * - `"sum"` (default): `M + Mᵀ` (so a self-loop's weight doubles, and an
 *   already symmetric graph becomes 2M);
 * - `"max"`: the largest of those weights (`max(M, Mᵀ)` for a graph
 *   without duplicates and non-negative weights);
 * - `"mean"`: their mean: `(M + Mᵀ) / 2` where both directions have one
 *   edge, the weight itself where only one direction exists.
 *
 * Unweighted graphs stay unweighted under `"max"` and `"mean"`.
 */
export function symmetrize(g: Graph, options: SymmetrizeOptions = {}): Graph {
  const fn = "symmetrize";
  const reduce = checkReduce(fn, options.reduce ?? "sum", false);

  // first the edges of A followed by those of Aᵀ, then merge them
  const m = g.numEdges;
  const src = new Int32Array(2 * m);
  const dst = new Int32Array(2 * m);
  src.set(g.src, 0);
  src.set(g.dst, m);
  dst.set(g.dst, 0);
  dst.set(g.src, m);
  let weights: Float32Array | null = null;
  if (g.weights !== null) {
    weights = new Float32Array(2 * m);
    weights.set(g.weights, 0);
    weights.set(g.weights, m);
  }
  const both = Graph.fromEdges(src, dst, {
    numNodes: g.numNodes,
    weights,
    allowNegativeWeights: true,
  });
  return fromMerged(both, mergeRuns(fn, both, reduce));
}

/** The normalizations of {@link normalize}. */
export type Normalization = "sym" | "rw" | "col";

/**
 * Normalize the weights by degrees, with `d_in` the row sums of `M`
 * (weighted in-degrees) and `d_out` its column sums (out-degrees):
 *
 * - `"sym"`: `D_in^-1/2 M D_in^-1/2`, the GCN normalization `Ā`
 *   (apply {@link addSelfLoops} first for Kipf & Welling's `Â`); edge
 *   j → i gets `w / sqrt(d_in[i] · d_in[j])`;
 * - `"rw"`: `D_in^-1 M`, the random walk (mean) normalization: each row
 *   (destination) with a non-zero degree sums to 1;
 * - `"col"`: `M D_out^-1`: each column (source) sums to 1.
 *
 * A node of degree 0 has no edges on that side when weights are
 * positive, so its row (for `"col"`, column) stays empty; in general
 * `1 / 0` is taken as 0 (the pseudo-inverse), so no NaN or Inf is ever
 * produced: an edge whose degree is 0 gets weight 0. The result is
 * always weighted and has the structure of `g`. Raises `GraphError` for
 * an unknown kind and, for `"sym"`, for a negative degree.
 */
export function normalize(g: Graph, kind: Normalization): Graph {
  const fn = "normalize";
  const n = g.numNodes;
  const { rowPtr, colIdx } = g;
  const out = new Float32Array(g.numEdges);

  // the inverse (square root of the) degree, 0 where the degree is 0
  const inverse = (d: Float64Array, sqrt: boolean): Float64Array => {
    const inv = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (sqrt && d[i] < 0) {
        throw new GraphError(
          `${fn}: "sym" needs non-negative degrees, node ${i} has ${d[i]}`,
        );
      }
      if (d[i] !== 0) inv[i] = sqrt ? 1 / Math.sqrt(d[i]) : 1 / d[i];
    }
    return inv;
  };

  if (kind === "sym") {
    const inv = inverse(g.inDegrees(), true);
    for (let i = 0; i < n; i++) {
      for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
        out[e] = g.weight(e) * inv[i] * inv[colIdx[e]];
      }
    }
  } else if (kind === "rw") {
    const inv = inverse(g.inDegrees(), false);
    for (let i = 0; i < n; i++) {
      for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
        out[e] = g.weight(e) * inv[i];
      }
    }
  } else if (kind === "col") {
    const inv = inverse(g.outDegrees(), false);
    for (let e = 0; e < g.numEdges; e++) out[e] = g.weight(e) * inv[colIdx[e]];
  } else {
    throw new GraphError(
      `${fn}: kind must be "sym", "rw" or "col", got ${String(kind)}`,
    );
  }
  return g.withWeights(out, { allowNegativeWeights: true });
}

/** Options of {@link degrees}. */
export interface DegreesOptions {
  /** `"in"` (default): row sums of `M`; `"out"`: its column sums. */
  direction?: "in" | "out";
  /** Sum the weights (default true) or count the edges (false). */
  weighted?: boolean;
}

/**
 * The degree of every node as a new Float64Array of length N: the sum of
 * the weights (or, with `weighted: false`, the number) of the edges into
 * (`"in"`) or out of (`"out"`) each node. Self-loops count once.
 */
export function degrees(g: Graph, options: DegreesOptions = {}): Float64Array {
  const fn = "degrees";
  const direction = options.direction ?? "in";
  const weighted = options.weighted ?? true;
  if (direction !== "in" && direction !== "out") {
    throw new GraphError(
      `${fn}: direction must be "in" or "out", got ${String(direction)}`,
    );
  }
  if (weighted) {
    return (direction === "in" ? g.inDegrees() : g.outDegrees()).slice();
  }
  const d = new Float64Array(g.numNodes);
  if (direction === "in") {
    for (let i = 0; i < g.numNodes; i++) d[i] = g.rowPtr[i + 1] - g.rowPtr[i];
  } else {
    for (let e = 0; e < g.numEdges; e++) d[g.colIdx[e]]++;
  }
  return d;
}

/** An induced subgraph and the original id of each of its nodes. */
export interface Subgraph {
  /** The subgraph; its node i is node `nodeIds[i]` of the input. */
  graph: Graph;
  /** The original id of each node of the subgraph. */
  nodeIds: Int32Array;
}

/**
 * The subgraph induced by `nodes`: node i of the result is `nodes[i]`,
 * and every edge of `g` between two listed nodes is kept (duplicates in
 * their CSR order, weights unchanged): `M[nodes][:, nodes]`. Raises
 * `GraphError` for ids that are not integers in `[0, N)` and for an id
 * listed twice.
 */
export function inducedSubgraph(g: Graph, nodes: ArrayLike<number>): Subgraph {
  const fn = "inducedSubgraph";
  const n = g.numNodes;
  const k = nodes.length;

  // first we map every kept node to its new id
  const newId = new Int32Array(n).fill(-1);
  const nodeIds = new Int32Array(k);
  for (let i = 0; i < k; i++) {
    const v = nodes[i];
    if (!Number.isInteger(v) || v < 0 || v >= n) {
      throw new GraphError(
        `${fn}: nodes[${i}] must be an integer id in [0, ${n}), got ${v}`,
      );
    }
    if (newId[v] !== -1) {
      throw new GraphError(
        `${fn}: node ${v} is listed twice (nodes[${newId[v]}] and ` +
          `nodes[${i}])`,
      );
    }
    newId[v] = i;
    nodeIds[i] = v;
  }

  // then we keep the edges between kept nodes, in CSR order
  const src: number[] = [];
  const dst: number[] = [];
  const w: number[] = [];
  for (let i = 0; i < k; i++) {
    const v = nodeIds[i];
    for (let e = g.rowPtr[v]; e < g.rowPtr[v + 1]; e++) {
      const s = newId[g.colIdx[e]];
      if (s < 0) continue;
      src.push(s);
      dst.push(i);
      w.push(g.weight(e));
    }
  }
  const graph = Graph.fromEdges(src, dst, {
    numNodes: k,
    weights: g.weights === null ? null : w,
    allowNegativeWeights: true,
  });
  return { graph, nodeIds };
}

/**
 * Whether `M` is symmetric: `|M[i][j] − M[j][i]| <= tol` for all i, j,
 * where duplicate edges add up and a missing edge counts as 0. Raises
 * `GraphError` for a tolerance that is negative or not finite.
 */
export function isSymmetric(g: Graph, tol = 0): boolean {
  const fn = "isSymmetric";
  if (typeof tol !== "number" || !Number.isFinite(tol) || tol < 0) {
    throw new GraphError(
      `${fn}: tol must be a finite non-negative number, got ${tol}`,
    );
  }

  // compare row i of M with row i of Mᵀ, both coalesced and sorted
  const a = mergeRuns(fn, g, "sum");
  const b = mergeRuns(fn, reverse(g), "sum");
  for (let i = 0; i < g.numNodes; i++) {
    let p = a.rowPtr[i];
    let q = b.rowPtr[i];
    const pEnd = a.rowPtr[i + 1];
    const qEnd = b.rowPtr[i + 1];
    while (p < pEnd || q < qEnd) {
      const ja = p < pEnd ? a.colIdx[p] : Number.POSITIVE_INFINITY;
      const jb = q < qEnd ? b.colIdx[q] : Number.POSITIVE_INFINITY;
      const va = ja <= jb ? a.values[p] : 0;
      const vb = jb <= ja ? b.values[q] : 0;
      if (!(Math.abs(va - vb) <= tol)) return false;
      if (ja <= jb) p++;
      if (jb <= ja) q++;
    }
  }
  return true;
}

/**
 * The transposed graph `Mᵀ`: every edge j → i becomes i → j, with its
 * weight. Duplicates keep their relative order, so
 * `reverse(reverse(g))` has the arrays of `g`.
 */
export function reverse(g: Graph): Graph {
  const { colPtr, rowIdx, weights } = g.sourceCSR;
  return Graph.fromCSR(
    colPtr.slice(),
    rowIdx.slice(),
    weights === null ? null : weights.slice(),
    { allowNegativeWeights: true },
  );
}

/** Rows of a graph with duplicate pairs merged, values in float64. */
interface Merged {
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float64Array;
}

/** Check a `reduce` option. */
function checkReduce(fn: string, reduce: Reduce, allowFirst: boolean) {
  const allowed: Reduce[] = allowFirst
    ? ["sum", "max", "mean", "first"]
    : ["sum", "max", "mean"];
  if (!allowed.includes(reduce)) {
    throw new GraphError(
      `${fn}: reduce must be one of ${allowed.join(", ")}, got ` +
        `${String(reduce)}`,
    );
  }
  return reduce;
}

/**
 * Merge each run of equal sources in each row (the edges of one pair,
 * adjacent in CSR order) into one entry, reduced in float64 in CSR order.
 */
function mergeRuns(fn: string, g: Graph, reduce: Reduce): Merged {
  const n = g.numNodes;
  const { rowPtr, colIdx } = g;
  const outPtr = new Int32Array(n + 1);
  const outCol: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    let e = rowPtr[i];
    while (e < rowPtr[i + 1]) {
      const j = colIdx[e];
      let v = g.weight(e);
      let count = 1;
      for (e++; e < rowPtr[i + 1] && colIdx[e] === j; e++, count++) {
        const w = g.weight(e);
        if (reduce === "sum" || reduce === "mean") v += w;
        else if (reduce === "max") v = Math.max(v, w);
      }
      if (reduce === "mean") v /= count;
      if (!Number.isFinite(Math.fround(v))) {
        throw new GraphError(
          `${fn}: the merged weight of ${j} -> ${i} is ${v}, which ` +
            "overflows float32",
        );
      }
      outCol.push(j);
      values.push(v);
    }
    outPtr[i + 1] = outCol.length;
  }
  return {
    rowPtr: outPtr,
    colIdx: Int32Array.from(outCol),
    values: Float64Array.from(values),
  };
}

/**
 * A graph from merged rows: unweighted when `g` is and every value is 1.
 */
function fromMerged(g: Graph, merged: Merged): Graph {
  const allOnes = merged.values.every((v) => v === 1);
  const weights =
    g.weights === null && allOnes ? null : Float32Array.from(merged.values);
  return Graph.fromCSR(merged.rowPtr, merged.colIdx, weights, {
    allowNegativeWeights: true,
  });
}
