/**
 * Float64 dense references for message passing, written independently of
 * src/mp: they work on COO edge lists (in any order), build dense matrices
 * where the operation is a matrix product, and collect the messages of each
 * node by scanning every edge. Also central finite differences and a
 * comparison with stated tolerances.
 */

import { Graph } from "../../src/graph/graph.js";
import { type Rng, randInt } from "./random.js";

/** A row-major float64 matrix. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** A matrix of zeros. */
export function zeros(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/** Row i of a matrix, as a copy. */
export function row(m: Matrix, i: number): number[] {
  return Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
}

/** A COO edge list; `weights` null means every weight is 1. */
export interface EdgeList {
  readonly src: readonly number[];
  readonly dst: readonly number[];
  readonly weights: readonly number[] | null;
  /** Rows of the source features. */
  readonly numSrc: number;
  /** Rows of the destination features and of the result. */
  readonly numDst: number;
}

/** A float64 message: source row, destination row, weight → message. */
export type DenseMessage = (xs: number[], xd: number[], w: number) => number[];

/** The default linear message `w · x_src`. */
export const linearMessage64: DenseMessage = (xs, _xd, w) =>
  xs.map((v) => w * v);

/** A built-in aggregation in the reference's own terms. */
export type DenseAggregate =
  | { name: "sum" | "mean" | "max" | "min" | "var" }
  | { name: "std"; eps?: number }
  | { name: "softmax"; temperature?: number }
  | { name: "powermean"; p?: number; alwaysClamp?: boolean }
  | {
      name: "custom";
      reduce: (msgs: number[][], width: number) => number[];
      width: (d: number) => number;
    }
  | { list: DenseAggregate[]; combine: "concat" | "sum" | "mean" };

/** Output width of an aggregation for messages of width d. */
export function denseWidth(agg: DenseAggregate, d: number): number {
  if ("list" in agg) {
    const ws = agg.list.map((a) => denseWidth(a, d));
    return agg.combine === "concat" ? ws.reduce((a, b) => a + b, 0) : ws[0];
  }
  return agg.name === "custom" ? agg.width(d) : d;
}

/** The messages of every edge (one row per edge, in list order). */
export function denseMessages(
  edges: EdgeList,
  x: Matrix,
  xDst: Matrix,
  message: DenseMessage,
): number[][] {
  const out: number[][] = [];
  for (let e = 0; e < edges.src.length; e++) {
    const w = edges.weights === null ? 1 : edges.weights[e];
    out.push(message(row(x, edges.src[e]), row(xDst, edges.dst[e]), w));
  }
  return out;
}

/**
 * Sum aggregation of the linear message as a dense product: `M · X` with
 * `M[dst][src] += w` (numDst × numSrc).
 */
export function denseSumProduct(edges: EdgeList, x: Matrix): Matrix {
  const m = new Float64Array(edges.numDst * edges.numSrc);
  for (let e = 0; e < edges.src.length; e++) {
    const w = edges.weights === null ? 1 : edges.weights[e];
    m[edges.dst[e] * edges.numSrc + edges.src[e]] += w;
  }
  const out = zeros(edges.numDst, x.cols);
  for (let i = 0; i < edges.numDst; i++) {
    for (let j = 0; j < edges.numSrc; j++) {
      const a = m[i * edges.numSrc + j];
      if (a === 0) continue;
      for (let k = 0; k < x.cols; k++) {
        out.data[i * x.cols + k] += a * x.data[j * x.cols + k];
      }
    }
  }
  return out;
}

/** One channel of one node: the reduction of `values` (may be empty). */
function reduceChannel(agg: DenseAggregate, values: number[]): number {
  if ("list" in agg || agg.name === "custom") {
    throw new Error("reduceChannel: lists and custom are handled above");
  }
  const n = values.length;
  if (n === 0) return 0;
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  switch (agg.name) {
    case "sum":
      return values.reduce((a, b) => a + b, 0);
    case "mean":
      return mean(values);
    case "max":
      return Math.max(...values);
    case "min":
      return Math.min(...values);
    case "var": {
      const mu = mean(values);
      return mean(values.map((v) => (v - mu) ** 2));
    }
    case "std": {
      const mu = mean(values);
      const variance = mean(values.map((v) => (v - mu) ** 2));
      return Math.sqrt(variance + (agg.eps ?? 1e-5));
    }
    case "softmax": {
      const t = agg.temperature ?? 1;
      const top = Math.max(...values.map((v) => t * v));
      const ex = values.map((v) => Math.exp(t * v - top));
      const z = ex.reduce((a, b) => a + b, 0);
      return ex.reduce((s, a, e) => s + (a / z) * values[e], 0);
    }
    case "powermean": {
      const p = agg.p ?? 1;
      if (p === 1 && !agg.alwaysClamp) return mean(values);
      const clamp = (v: number) => Math.min(Math.max(v, 0), 100);
      const m = clamp(mean(values.map((v) => clamp(v) ** p)));
      return m > 0 ? m ** (1 / p) : 0;
    }
  }
}

/**
 * Aggregate per-edge messages into `numDst` rows: node i reduces the
 * messages of the edges whose `dst` is i, found by scanning all edges.
 */
export function denseAggregate(
  agg: DenseAggregate,
  dst: readonly number[],
  messages: number[][],
  numDst: number,
  d: number,
): Matrix {
  if ("list" in agg) {
    const parts = agg.list.map((a) =>
      denseAggregate(a, dst, messages, numDst, d),
    );
    const width = denseWidth(agg, d);
    const out = zeros(numDst, width);
    for (let i = 0; i < numDst; i++) {
      if (agg.combine === "concat") {
        let off = 0;
        for (const p of parts) {
          for (let k = 0; k < p.cols; k++) {
            out.data[i * width + off + k] = p.data[i * p.cols + k];
          }
          off += p.cols;
        }
      } else {
        for (const p of parts) {
          for (let k = 0; k < width; k++) {
            out.data[i * width + k] +=
              p.data[i * width + k] /
              (agg.combine === "mean" ? parts.length : 1);
          }
        }
      }
    }
    return out;
  }
  const width = denseWidth(agg, d);
  const out = zeros(numDst, width);
  for (let i = 0; i < numDst; i++) {
    const mine: number[][] = [];
    for (let e = 0; e < dst.length; e++) {
      if (dst[e] === i) mine.push(messages[e]);
    }
    if (agg.name === "custom") {
      const r = agg.reduce(mine, d);
      for (let k = 0; k < width; k++) out.data[i * width + k] = r[k];
      continue;
    }
    for (let k = 0; k < width; k++) {
      out.data[i * width + k] = reduceChannel(
        agg,
        mine.map((m) => m[k]),
      );
    }
  }
  return out;
}

/** Options of {@link denseReference}. */
export interface DenseOptions {
  message?: DenseMessage;
  aggregate?: DenseAggregate;
  /** Row-wise update `(aggregated row, own row) → new row`. */
  update?: (agg: number[], own: number[]) => number[];
}

/**
 * The whole propagation in float64: messages, aggregation, update.
 * `xDst` defaults to `x` (square graphs). The linear message with `sum`
 * goes through the dense product {@link denseSumProduct}.
 */
export function denseReference(
  edges: EdgeList,
  x: Matrix,
  options: DenseOptions = {},
  xDst: Matrix = x,
): Matrix {
  const agg = options.aggregate ?? { name: "sum" };
  let out: Matrix;
  if (options.message === undefined && "name" in agg && agg.name === "sum") {
    out = denseSumProduct(edges, x);
  } else {
    const msgs = denseMessages(
      edges,
      x,
      xDst,
      options.message ?? linearMessage64,
    );
    const d = msgs.length > 0 ? msgs[0].length : x.cols;
    out = denseAggregate(agg, edges.dst, msgs, edges.numDst, d);
  }
  const update = options.update;
  if (update === undefined) return out;
  const rows: number[][] = [];
  for (let i = 0; i < out.rows; i++)
    rows.push(update(row(out, i), row(xDst, i)));
  const cols = rows.length > 0 ? rows[0].length : out.cols;
  return { rows: out.rows, cols, data: Float64Array.from(rows.flat()) };
}

/**
 * Central finite differences of a scalar function of a float64 vector:
 * `g[j] = (f(v + h e_j) − f(v − h e_j)) / 2h`.
 */
export function centralDifference(
  f: (v: Float64Array) => number,
  v: Float64Array,
  h = 1e-6,
): Float64Array {
  const g = new Float64Array(v.length);
  const probe = Float64Array.from(v);
  for (let j = 0; j < v.length; j++) {
    probe[j] = v[j] + h;
    const up = f(probe);
    probe[j] = v[j] - h;
    const down = f(probe);
    probe[j] = v[j];
    g[j] = (up - down) / (2 * h);
  }
  return g;
}

/** `Σ a[j] r[j]`: a fixed random projection turns outputs into a loss. */
export function dot(a: ArrayLike<number>, r: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * r[j];
  return s;
}

/**
 * The worst entry of `|actual − expected| / (atol + rtol |expected|)`:
 * at most 1 means every entry is within tolerance. Lengths must match;
 * NaN anywhere gives Infinity.
 */
export function worstError(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol: number,
): { ratio: number; index: number; actual: number; expected: number } {
  if (actual.length !== expected.length) {
    throw new Error(
      `worstError: lengths differ, ${actual.length} vs ${expected.length}`,
    );
  }
  let worst = { ratio: 0, index: -1, actual: 0, expected: 0 };
  for (let j = 0; j < actual.length; j++) {
    const a = actual[j];
    const b = expected[j];
    const r = Math.abs(a - b) / (atol + rtol * Math.abs(b));
    const ratio = Number.isNaN(r) ? Number.POSITIVE_INFINITY : r;
    if (ratio > worst.ratio || worst.index < 0) {
      worst = { ratio, index: j, actual: a, expected: b };
    }
  }
  return worst;
}

// ---------------------------------------------------------------------------
// test graphs
// ---------------------------------------------------------------------------

/** A random graph with every awkward case, and how its CSR is ordered. */
export interface MessyGraph {
  /** The edges in input order (numSrc = numDst = N). */
  readonly edges: EdgeList;
  /** The same edges as a Graph (CSR order by destination). */
  readonly graph: Graph;
  /** `csrOrder[k]` is the input edge stored at CSR position k. */
  readonly csrOrder: Int32Array;
}

/** Options of {@link messyGraph}. */
export interface MessyGraphOptions {
  numNodes: number;
  /** Random edges among the active nodes (before loops and duplicates). */
  numEdges: number;
  /** Draw weights uniform in [0.25, 1.75) (not rounded, so no ties). */
  weighted: boolean;
  /** Nodes without any edge (the last ones); default 2. */
  isolated?: number;
}

/**
 * A seeded random multigraph with isolated nodes (the last `isolated`
 * ids, no edge at all), a node with outgoing edges only (no incoming
 * edge), two self-loops and three duplicated edges.
 */
export function messyGraph(rng: Rng, options: MessyGraphOptions): MessyGraph {
  const n = options.numNodes;
  const active = n - (options.isolated ?? 2);
  const sourceOnly = active - 1;
  const src: number[] = [];
  const dst: number[] = [];
  for (let e = 0; e < options.numEdges; e++) {
    src.push(randInt(rng, 0, active));
    dst.push(randInt(rng, 0, sourceOnly));
  }
  src.push(sourceOnly);
  dst.push(randInt(rng, 0, sourceOnly));
  for (let l = 0; l < 2; l++) {
    const v = randInt(rng, 0, sourceOnly);
    src.push(v);
    dst.push(v);
  }
  for (let r = 0; r < 3; r++) {
    const e = randInt(rng, 0, src.length);
    src.push(src[e]);
    dst.push(dst[e]);
  }
  const weights = options.weighted
    ? src.map(() => Math.fround(0.25 + 1.5 * rng()))
    : null;

  // the Graph sorts its edges; weights equal to the input ids reveal how
  const ids = src.map((_, e) => e);
  const order = Graph.fromEdges(src, dst, { numNodes: n, weights: ids });
  const csrOrder = Int32Array.from(order.weights as Float32Array);
  const graph = Graph.fromEdges(src, dst, { numNodes: n, weights });
  return {
    edges: { src, dst, weights, numSrc: n, numDst: n },
    graph,
    csrOrder,
  };
}

/** Uniform float32 values in `[lo, hi)` as a float64 matrix. */
export function randomMatrix(
  rng: Rng,
  rows: number,
  cols: number,
  lo = -1,
  hi = 1,
): Matrix {
  const data = new Float64Array(rows * cols);
  for (let j = 0; j < data.length; j++) {
    data[j] = Math.fround(lo + (hi - lo) * rng());
  }
  return { rows, cols, data };
}

/** Input-order values put in CSR order: `out[k] = values[csrOrder[k]]`. */
export function toCSROrder(
  values: ArrayLike<number>,
  csrOrder: Int32Array,
): Float32Array {
  const out = new Float32Array(csrOrder.length);
  for (let k = 0; k < csrOrder.length; k++) out[k] = values[csrOrder[k]];
  return out;
}

/** CSR-order values put back in input order. */
export function fromCSROrder(
  values: ArrayLike<number>,
  csrOrder: Int32Array,
): Float64Array {
  const out = new Float64Array(csrOrder.length);
  for (let k = 0; k < csrOrder.length; k++) out[csrOrder[k]] = values[k];
  return out;
}
