/**
 * propagate(): the one differentiable message-passing operator of mpcl.
 *
 * For a graph whose edge e goes from `src_e` to `dst_e` with weight `w_e`,
 * and node features `x` (N × d):
 *
 *     out_i = update( ⊕_{e : dst_e = i} message(x[src_e], x[dst_e], w_e),
 *                     x_i )
 *
 * with ⊕ an aggregator of `aggregators.ts`. This is the message / aggregate
 * / update scheme of Gilmer et al. (2017), "Neural Message Passing for
 * Quantum Chemistry", in the form of PyTorch Geometric's `MessagePassing`.
 * The same operator serves GNN layers (over the data graph) and the
 * contrastive updates (over the augmentation and affinity graphs).
 *
 * Two paths compute it:
 * - fused: the default message `w_e · x[src_e]` with `sum`, `mean`, `max`
 *   or `min` never builds the `[E, d]` messages. It runs the CSR kernels of
 *   `graph/kernels.ts` on typed arrays; the gradient with respect to x is
 *   the transposed product (or the arg-max routing), the one with respect
 *   to tensor edge weights an edge-wise dot product.
 * - gathered: any other message or aggregator gathers the edge features
 *   with `gatherRows` and reduces them with the primitives of `segment.ts`,
 *   so autodiff works on every backend (never through `tf.gather`'s
 *   gradient).
 * Both visit edges in CSR order, so results are bit-for-bit deterministic.
 *
 * `mean` divides by the number of incoming edges (not by the weighted
 * degree): it is the mean of the weighted messages `w_e x[src_e]`.
 *
 * LIMITATION: gradients are computed on typed arrays outside the tape, so
 * a gradient of a gradient through propagate is not available.
 * LIMITATION: on the fused path the gradient with respect to tensor
 * weights (an edge-wise dot product, as costly as the forward pass) is
 * computed whenever a gradient is taken, even if only `x` needs one:
 * TF.js does not tell a custom gradient which inputs are wanted.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import { Graph } from "../graph/graph.js";
import {
  type CSR,
  edgeDot,
  extremeBackward,
  segmentExtreme,
  spmm,
} from "../graph/kernels.js";
import {
  type AggregateSpec,
  type Aggregator,
  MaxAggregator,
  MeanAggregator,
  MinAggregator,
  MultiAggregator,
  resolveAggregator,
  SumAggregator,
} from "./aggregators.js";
import {
  divideRowsByCount,
  gatherRows,
  rowCounts,
  type Segments,
  segmentsFromRowPtr,
  type TransposedCSR,
  transposeCSR,
} from "./segment.js";

/**
 * The edges handed to a message function, all in CSR order (sorted by
 * destination). `src` and `dst` are gathered on first access, so a message
 * that does not read them costs nothing; both are differentiable.
 */
export interface EdgeBatch {
  /** Source features `x[src_e]`, shape `[E, d]`. */
  readonly src: tf.Tensor2D;
  /** Destination features `xDst[dst_e]`, shape `[E, dDst]`. */
  readonly dst: tf.Tensor2D;
  /**
   * Edge weights `[E]` (`options.weights`, else the graph's weights), or
   * null when the graph is unweighted and no weights were given.
   */
  readonly weight: tf.Tensor1D | null;
  /** Source node of every edge, length E. */
  readonly srcIndex: Int32Array;
  /** Destination node of every edge, length E. */
  readonly dstIndex: Int32Array;
  /** Number of edges E. */
  readonly numEdges: number;
}

/** A message function: edges in, one message row per edge out `[E, d']`. */
export type MessageFn = (batch: EdgeBatch) => tf.Tensor2D;

/**
 * An update function: the aggregate `[numDst, d']` and the destination
 * nodes' own features `[numDst, d]` in, the new features out.
 */
export type UpdateFn = (aggregated: tf.Tensor2D, x: tf.Tensor2D) => tf.Tensor2D;

/** Options of {@link propagate} and {@link propagateCSR}. */
export interface PropagateOptions {
  /**
   * What flows along an edge. Default: `w_e · x[src_e]` (`x[src_e]` when
   * unweighted), which takes the fused kernels with sum/mean/max/min.
   */
  message?: MessageFn;
  /** How messages into a node are reduced; default `"sum"`. */
  aggregate?: AggregateSpec;
  /** How a node combines the aggregate with its features; default: the
   * aggregate itself. */
  update?: UpdateFn;
  /**
   * Per-edge weights `[E]` in CSR order, overriding the graph's weights;
   * differentiable (attention coefficients, learned edge weights).
   */
  weights?: tf.Tensor1D;
}

/**
 * A graph that propagates by itself (the affinity graph of `affinity.ts`,
 * whose weights are computed from features and never stored):
 * {@link propagate} hands the call over to it.
 */
export interface AffinityGraphLike {
  readonly kind: "affinity";
  propagate(x: tf.Tensor2D, options?: PropagateOptions): tf.Tensor2D;
}

/**
 * A rectangular CSR: `numDst` rows (destinations) whose entries index the
 * `numSrc` rows of the source features. `transposed`, when given, returns
 * the same entries ordered by source (cached by the caller); otherwise it
 * is computed once per CSR object and cached here.
 */
export interface BipartiteCSR extends CSR {
  readonly numSrc: number;
  readonly numDst: number;
  readonly transposed?: () => TransposedCSR;
}

// ---------------------------------------------------------------------------
// cached structure of a CSR
// ---------------------------------------------------------------------------

/**
 * What propagation derives from a CSR's index arrays, computed lazily and
 * kept as long as the CSR object lives.
 */
class Structure {
  readonly csr: BipartiteCSR;
  #dstIndex: (() => Int32Array) | null;
  #transposedSource: (() => TransposedCSR) | null;
  #segments: Segments | null = null;
  #counts: Int32Array | null = null;
  #transposed: TransposedCSR | null = null;
  #transposedWeights: Float32Array | null = null;
  #givenTransposedWeights: (() => Float32Array | null) | null;

  constructor(
    csr: BipartiteCSR,
    dstIndex: (() => Int32Array) | null = null,
    transposedWeights: (() => Float32Array | null) | null = null,
  ) {
    this.csr = csr;
    this.#dstIndex = dstIndex;
    this.#transposedSource = csr.transposed ?? null;
    this.#givenTransposedWeights = transposedWeights;
  }

  get numEdges(): number {
    return this.csr.colIdx.length;
  }

  /** One segment per destination node. */
  get segments(): Segments {
    if (this.#segments === null) {
      const ids = this.#dstIndex === null ? undefined : this.#dstIndex();
      this.#segments = segmentsFromRowPtr(this.csr.rowPtr, ids);
    }
    return this.#segments;
  }

  /** Incoming edge count of every destination. */
  get counts(): Int32Array {
    if (this.#segments !== null) return this.#segments.counts;
    this.#counts ??= rowCounts(this.csr.rowPtr);
    return this.#counts;
  }

  /** The entries ordered by source. */
  get transposed(): TransposedCSR {
    if (this.#transposed === null) {
      const { rowPtr, colIdx, numSrc } = this.csr;
      this.#transposed =
        this.#transposedSource === null
          ? transposeCSR(rowPtr, colIdx, numSrc)
          : this.#transposedSource();
    }
    return this.#transposed;
  }

  /** The CSR's own weights in source order (null when unweighted). */
  get transposedWeights(): Float32Array | null {
    if (this.csr.weights === null) return null;
    if (this.#transposedWeights === null) {
      const given = this.#givenTransposedWeights?.() ?? null;
      this.#transposedWeights =
        given ?? permute(this.csr.weights, this.transposed.edgeIds);
    }
    return this.#transposedWeights;
  }
}

/** `out[k] = values[order[k]]`. */
function permute(values: Float32Array, order: Int32Array): Float32Array {
  const out = new Float32Array(order.length);
  for (let k = 0; k < order.length; k++) out[k] = values[order[k]];
  return out;
}

const structures = new WeakMap<BipartiteCSR, Structure>();
const graphViews = new WeakMap<Graph, BipartiteCSR>();

/** The cached structure of a CSR. */
function structureOf(csr: BipartiteCSR): Structure {
  let s = structures.get(csr);
  if (s === undefined) {
    s = new Structure(csr);
    structures.set(csr, s);
  }
  return s;
}

/** A graph as a square BipartiteCSR, sharing its arrays and caches. */
function graphView(graph: Graph): BipartiteCSR {
  let view = graphViews.get(graph);
  if (view === undefined) {
    const v: BipartiteCSR = {
      rowPtr: graph.rowPtr,
      colIdx: graph.colIdx,
      weights: graph.weights,
      numSrc: graph.numNodes,
      numDst: graph.numNodes,
      transposed: () => graph.sourceCSR,
    };
    structures.set(
      v,
      new Structure(
        v,
        () => graph.dst,
        () => graph.sourceCSR.weights,
      ),
    );
    graphViews.set(graph, v);
    view = v;
  }
  return view;
}

// ---------------------------------------------------------------------------
// the operator
// ---------------------------------------------------------------------------

/**
 * Propagate node features over a graph:
 * `out_i = update(⊕_{e: dst_e = i} message(e), x_i)`.
 *
 * - `graph`: a {@link Graph} with N nodes, or an affinity graph
 *   ({@link AffinityGraphLike}), to which the call is handed over.
 * - `x`: node features, float32 `[N, d]`.
 * - `options.message`: default `w_e · x[src_e]` (see {@link EdgeBatch}).
 * - `options.aggregate`: default `"sum"`; see `AggregateSpec`. Nodes
 *   without incoming edges aggregate to 0. A learnable aggregator must be
 *   passed as an object created once (its variable is trained across
 *   calls), not as an inline config.
 * - `options.update`: default identity; receives `(aggregated, x)`.
 * - `options.weights`: float32 `[E]` in CSR order, overriding
 *   `graph.weights`; differentiable.
 *
 * Returns `[N, d']` (`d' = d` for the default message and a single
 * built-in aggregator). Differentiable with respect to `x`,
 * `options.weights` and any variable used by the message, aggregator or
 * update.
 *
 * Raises `ShapeError` when x is not `[N, *]` float32, when the weights are
 * not `[E]`, or when a message or aggregator returns the wrong number of
 * rows; `ConfigError` for an unknown aggregator or a bad graph argument.
 */
export function propagate(
  graph: Graph | AffinityGraphLike,
  x: tf.Tensor2D,
  options: PropagateOptions = {},
): tf.Tensor2D {
  if (!(graph instanceof Graph)) {
    const g = graph as Partial<AffinityGraphLike> | null;
    if (
      typeof g === "object" &&
      g !== null &&
      g.kind === "affinity" &&
      typeof g.propagate === "function"
    ) {
      return g.propagate(x, options);
    }
    throw new ConfigError(
      "propagate: graph must be a Graph or an affinity graph, got " +
        (g === null ? "null" : typeof g),
    );
  }
  checkFeatures("propagate", "x", x, graph.numNodes, "graph.numNodes");
  return run("propagate", structureOf(graphView(graph)), x, x, options);
}

/**
 * {@link propagate} over a rectangular CSR: `csr.numDst` destinations
 * whose entries index the rows of `x` (`[csr.numSrc, d]`); `xDst`
 * (`[csr.numDst, dDst]`) holds the destinations' own features, read by
 * `EdgeBatch.dst` and passed to `update`. Returns `[numDst, d']`.
 *
 * Used for blocks of affinity graphs and for bipartite propagation. The
 * CSR's index arrays are trusted (they come from mpcl's own builders).
 */
export function propagateCSR(
  csr: BipartiteCSR,
  x: tf.Tensor2D,
  xDst: tf.Tensor2D,
  options: PropagateOptions = {},
): tf.Tensor2D {
  const fn = "propagateCSR";
  if (csr.rowPtr.length !== csr.numDst + 1) {
    throw new ShapeError(
      `${fn}: csr.rowPtr must have numDst + 1 = ${csr.numDst + 1} ` +
        `entries, got ${csr.rowPtr.length}`,
    );
  }
  if (csr.weights !== null && csr.weights.length !== csr.colIdx.length) {
    throw new ShapeError(
      `${fn}: csr.weights must have one entry per edge ` +
        `(${csr.colIdx.length}), got ${csr.weights.length}`,
    );
  }
  checkFeatures(fn, "x", x, csr.numSrc, "csr.numSrc");
  checkFeatures(fn, "xDst", xDst, csr.numDst, "csr.numDst");
  return run(fn, structureOf(csr), x, xDst, options);
}

/** Check a feature matrix: float32, rank 2, the expected row count. */
function checkFeatures(
  fn: string,
  name: string,
  t: tf.Tensor,
  rows: number,
  rowsName: string,
): void {
  if (!(t instanceof tf.Tensor) || t.rank !== 2) {
    throw new ShapeError(
      `${fn}: ${name} must be a rank-2 tensor [${rowsName}, d], got ` +
        (t instanceof tf.Tensor ? `shape [${t.shape}]` : typeof t),
    );
  }
  if (t.shape[0] !== rows) {
    throw new ShapeError(
      `${fn}: ${name} must have ${rowsName} = ${rows} rows, got shape ` +
        `[${t.shape}]`,
    );
  }
  if (t.dtype !== "float32") {
    throw new ShapeError(
      `${fn}: ${name} must be a float32 tensor, got ${t.dtype}`,
    );
  }
}

/** Check the weights option: float32 `[E]`. */
function checkWeights(fn: string, w: tf.Tensor, numEdges: number): void {
  if (!(w instanceof tf.Tensor) || w.rank !== 1 || w.shape[0] !== numEdges) {
    throw new ShapeError(
      `${fn}: weights must be a tensor of shape [E] = [${numEdges}], got ` +
        (w instanceof tf.Tensor ? `shape [${w.shape}]` : typeof w),
    );
  }
  if (w.dtype !== "float32") {
    throw new ShapeError(
      `${fn}: weights must be a float32 tensor, got ${w.dtype}`,
    );
  }
}

/** Everything one propagation needs, shared by the aggregation paths. */
interface Context {
  readonly fn: string;
  readonly structure: Structure;
  readonly x: tf.Tensor2D;
  readonly weights: tf.Tensor1D | null;
  /** Whether the message is the default linear one (fused paths apply). */
  readonly linear: boolean;
  /** The `[E, d']` messages, computed on first use. */
  messages(): tf.Tensor2D;
}

/** The body of propagate / propagateCSR, after the argument checks. */
function run(
  fn: string,
  structure: Structure,
  x: tf.Tensor2D,
  xDst: tf.Tensor2D,
  options: PropagateOptions,
): tf.Tensor2D {
  const numEdges = structure.numEdges;
  const weights = options.weights ?? null;
  if (weights !== null) checkWeights(fn, weights, numEdges);
  if (options.message !== undefined && typeof options.message !== "function") {
    throw new ConfigError(
      `${fn}: message must be a function, got ${typeof options.message}`,
    );
  }
  if (options.update !== undefined && typeof options.update !== "function") {
    throw new ConfigError(
      `${fn}: update must be a function, got ${typeof options.update}`,
    );
  }
  const aggregator = resolveAggregator(options.aggregate ?? "sum", {
    caller: fn,
    allowLearnable: false,
  });

  return tf.tidy(() => {
    // the messages are built only if an aggregator needs them
    let messages: tf.Tensor2D | null = null;
    const context: Context = {
      fn,
      structure,
      x,
      weights,
      linear: options.message === undefined,
      messages: () => {
        if (messages === null) {
          const batch = new LazyEdgeBatch(structure, x, xDst, weights);
          const message = options.message ?? linearMessage;
          messages = message(batch);
          checkMessages(fn, messages, numEdges);
        }
        return messages;
      },
    };
    const aggregated = aggregateWith(context, aggregator);
    return options.update === undefined
      ? aggregated
      : options.update(aggregated, xDst);
  });
}

/** The default message `w_e · x[src_e]` on gathered rows. */
function linearMessage(batch: EdgeBatch): tf.Tensor2D {
  const w = batch.weight;
  if (w === null) return batch.src;
  return batch.src.mul(w.reshape([batch.numEdges, 1]));
}

/** Check that a message function returned `[E, d']`. */
function checkMessages(fn: string, m: unknown, numEdges: number): void {
  if (
    !(m instanceof tf.Tensor) ||
    m.rank !== 2 ||
    m.shape[0] !== numEdges ||
    m.dtype !== "float32"
  ) {
    throw new ShapeError(
      `${fn}: message must return a float32 tensor [E, d'] with E = ` +
        `${numEdges}, got ` +
        (m instanceof tf.Tensor ? `${m.dtype} [${m.shape}]` : typeof m),
    );
  }
}

/**
 * Aggregate with the fused kernels where the message is linear and the
 * aggregator a built-in sum/mean/max/min (also inside a list), and with
 * the gathered messages otherwise.
 */
function aggregateWith(context: Context, aggregator: Aggregator): tf.Tensor2D {
  if (context.linear) {
    if (aggregator instanceof SumAggregator) return fusedLinear(context, false);
    if (aggregator instanceof MeanAggregator) return fusedLinear(context, true);
    if (aggregator instanceof MaxAggregator) {
      return fusedExtreme(context, "max");
    }
    if (aggregator instanceof MinAggregator) {
      return fusedExtreme(context, "min");
    }
    if (aggregator instanceof MultiAggregator) {
      return aggregator.combineOutputs(
        aggregator.aggregators.map((a) => aggregateWith(context, a)),
      );
    }
  }
  const { structure, fn } = context;
  const out = aggregator.aggregate(context.messages(), structure.segments);
  const numDst = structure.csr.numDst;
  if (
    !(out instanceof tf.Tensor) ||
    out.rank !== 2 ||
    out.shape[0] !== numDst
  ) {
    throw new ShapeError(
      `${fn}: aggregator '${aggregator.name}' must return [numDst, d'] ` +
        `with numDst = ${numDst}, got ` +
        (out instanceof tf.Tensor ? `shape [${out.shape}]` : typeof out),
    );
  }
  return out;
}

/** The float32 data of a tensor (a copy, or the backend's own array). */
function floats(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/**
 * Fused `sum` (or `mean`) of the linear messages:
 * `out = A x` with `A[i, src_e] += w_e`, then divided by the in-edge count
 * for the mean. Gradients: `dx = Aᵀ dy'` over the source-ordered CSR and,
 * for tensor weights, `dw_e = dy'[dst_e] · x[src_e]`, with
 * `dy' = dy / count` for the mean.
 */
function fusedLinear(context: Context, mean: boolean): tf.Tensor2D {
  const { structure, x, weights } = context;
  const { csr } = structure;
  const numSrc = csr.numSrc;
  const numDst = csr.numDst;
  const d = x.shape[1];

  const op = tf.customGrad((...args) => {
    const xs = floats(args[0] as tf.Tensor);
    const w = weights === null ? csr.weights : floats(args[1] as tf.Tensor);
    const matrix: CSR = { rowPtr: csr.rowPtr, colIdx: csr.colIdx, weights: w };
    const out = spmm(matrix, xs, d);
    if (mean) divideRowsByCount(out, structure.counts, d);

    const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
      // the mean divides the upstream gradient by the in-edge count
      const g = mean
        ? divideRowsByCount(floats(dy).slice(), structure.counts, d)
        : floats(dy);

      // dx = Aᵀ g: rows of the transposed CSR are sources
      const t = structure.transposed;
      const wT =
        weights === null
          ? structure.transposedWeights
          : permute(w as Float32Array, t.edgeIds);
      const transposed: CSR = {
        rowPtr: t.colPtr,
        colIdx: t.rowIdx,
        weights: wT,
      };
      const dx = tf.tensor2d(spmm(transposed, g, d), [numSrc, d]);
      if (weights === null) return [dx];
      return [dx, tf.tensor1d(edgeDot(matrix, g, xs, d))];
    };
    return { value: tf.tensor2d(out, [numDst, d]), gradFunc };
  });
  return (weights === null ? op(x) : op(x, weights)) as tf.Tensor2D;
}

/**
 * Fused `max` (or `min`) of the linear messages `w_e x[src_e]`, per
 * channel, 0 for nodes without incoming edges. The gradient goes to the
 * first winning edge: `dx[src_e] += w_e dy`, `dw_e += x[src_e] · dy`.
 */
function fusedExtreme(context: Context, mode: "max" | "min"): tf.Tensor2D {
  const { structure, x, weights } = context;
  const { csr } = structure;
  const numSrc = csr.numSrc;
  const numDst = csr.numDst;
  const d = x.shape[1];

  const op = tf.customGrad((...args) => {
    const xs = floats(args[0] as tf.Tensor);
    const w = weights === null ? csr.weights : floats(args[1] as tf.Tensor);
    const matrix: CSR = { rowPtr: csr.rowPtr, colIdx: csr.colIdx, weights: w };
    const { out, arg } = segmentExtreme(matrix, xs, d, mode);

    const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
      const g = floats(dy);
      const { dx, dw } = extremeBackward(matrix, arg, xs, g, d, numSrc);
      const dxt = tf.tensor2d(dx, [numSrc, d]);
      if (weights === null) return [dxt];
      return [dxt, tf.tensor1d(dw as Float32Array)];
    };
    return { value: tf.tensor2d(out, [numDst, d]), gradFunc };
  });
  return (weights === null ? op(x) : op(x, weights)) as tf.Tensor2D;
}

/**
 * The {@link EdgeBatch} of one propagation: gathers and weight tensors
 * are made on first access (inside the caller's `tf.tidy`).
 */
class LazyEdgeBatch implements EdgeBatch {
  readonly numEdges: number;
  readonly #structure: Structure;
  readonly #x: tf.Tensor2D;
  readonly #xDst: tf.Tensor2D;
  readonly #weights: tf.Tensor1D | null;
  #src: tf.Tensor2D | null = null;
  #dst: tf.Tensor2D | null = null;
  #weight: tf.Tensor1D | null | undefined = undefined;

  constructor(
    structure: Structure,
    x: tf.Tensor2D,
    xDst: tf.Tensor2D,
    weights: tf.Tensor1D | null,
  ) {
    this.#structure = structure;
    this.#x = x;
    this.#xDst = xDst;
    this.#weights = weights;
    this.numEdges = structure.numEdges;
  }

  get srcIndex(): Int32Array {
    return this.#structure.csr.colIdx;
  }

  get dstIndex(): Int32Array {
    return this.#structure.segments.segmentIds;
  }

  get src(): tf.Tensor2D {
    this.#src ??= gatherRows(this.#x, this.srcIndex);
    return this.#src;
  }

  get dst(): tf.Tensor2D {
    this.#dst ??= gatherRows(this.#xDst, this.dstIndex);
    return this.#dst;
  }

  get weight(): tf.Tensor1D | null {
    if (this.#weight === undefined) {
      const own = this.#structure.csr.weights;
      this.#weight = this.#weights ?? (own === null ? null : tf.tensor1d(own));
    }
    return this.#weight;
  }
}
