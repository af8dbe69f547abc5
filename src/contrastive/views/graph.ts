/**
 * Seeded graph views for graph contrastive learning: edge dropping and
 * feature masking as in GRACE (Zhu et al. 2020, "Deep Graph Contrastive
 * Representation Learning"), per-entry and per-node masking as in GraphCL
 * (You et al. 2020), and a view spec that draws one whole view.
 *
 * Every function draws from the random source it is given, so the same
 * seed gives the same view, and none changes its input: graphs are
 * immutable and features are copied.
 */

import { tf } from "../../backend.js";
import { ConfigError, ShapeError } from "../../errors.js";
import type { Graph } from "../../graph/graph.js";
import { type DropEdgeOptions, dropEdge } from "../../graph/rewire/index.js";
import { type NodeFeatures, SparseFeatures } from "../../mp/linear.js";
import type { Random } from "../../random.js";

/** Check a masking or dropping rate in [0, 1]. */
function checkRate(fn: string, rate: number): void {
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) {
    throw new ConfigError(`${fn}: rate must lie in [0, 1], got ${rate}`);
  }
}

/**
 * Edge dropping, the structural augmentation of GRACE: every edge (or
 * every unordered pair, see `symmetric`) survives with probability
 * `1 − rate`, independently; kept edges keep their weights; the node count
 * is unchanged. This is {@link dropEdge} of `graph/rewire` under the name
 * the contrastive views use.
 *
 * NOTE: by default a symmetric graph stays symmetric (one draw per
 * unordered pair). GRACE's reference code drops each directed edge on its
 * own; pass `symmetric: false` to reproduce that.
 *
 * @param rate - the drop probability p_e, in [0, 1] (GRACE on Cora: 0.2
 * and 0.4 for its two views).
 * @param options - `random` or `seed` (default seed 0), `symmetric`
 * (default: whether the graph is symmetric), `keepSelfLoops` (default
 * false).
 * @throws ConfigError for a rate outside [0, 1].
 */
export function dropEdges(
  graph: Graph,
  rate: number,
  options: DropEdgeOptions = {},
): Graph {
  return dropEdge(graph, rate, options);
}

/**
 * Which of `numCols` feature columns survive a masking at `rate`: one
 * uniform per column in order, column j kept (1) when `u_j >= rate` and
 * masked (0) otherwise.
 *
 * @throws ConfigError for a rate outside [0, 1].
 */
export function columnMask(
  numCols: number,
  rate: number,
  random: Random,
): Uint8Array {
  checkRate("columnMask", rate);
  if (!Number.isInteger(numCols) || numCols < 0) {
    throw new ConfigError(
      `columnMask: numCols must be a non-negative integer, got ${numCols}`,
    );
  }
  const keep = new Uint8Array(numCols);
  for (let j = 0; j < numCols; j++) keep[j] = random() >= rate ? 1 : 0;
  return keep;
}

/** `x` with the entries whose `keep` flag is 0 removed (sparse). */
function filterSparse(
  x: SparseFeatures,
  keepEntry: (row: number, entry: number) => boolean,
): SparseFeatures {
  const rowPtr = new Int32Array(x.rows + 1);
  let kept = 0;
  for (let i = 0; i < x.rows; i++) {
    for (let e = x.rowPtr[i]; e < x.rowPtr[i + 1]; e++) {
      if (keepEntry(i, e)) kept++;
    }
    rowPtr[i + 1] = kept;
  }
  const colIdx = new Int32Array(kept);
  const values = new Float32Array(kept);
  let o = 0;
  for (let i = 0; i < x.rows; i++) {
    for (let e = x.rowPtr[i]; e < x.rowPtr[i + 1]; e++) {
      if (!keepEntry(i, e)) continue;
      colIdx[o] = x.colIdx[e];
      values[o] = x.values[e];
      o++;
    }
  }
  return new SparseFeatures(rowPtr, colIdx, values, x.rows, x.cols);
}

/** `x ⊙ mask` for a dense `x` and a mask broadcast to its shape. */
function maskDense(
  x: tf.Tensor2D,
  mask: Float32Array,
  shape: [number, number],
): tf.Tensor2D {
  return tf.tidy(() => tf.mul(x, tf.tensor2d(mask, shape)) as tf.Tensor2D);
}

/**
 * Feature masking as GRACE: whole feature columns are zeroed, the same
 * columns for every node, each column independently with probability
 * `rate` (see {@link columnMask}; one uniform per column),
 *
 *   x̃ = x · diag(m),   m_j ~ Bernoulli(1 − rate).
 *
 * Kept values are not rescaled. Dense input `[N, d]` gives a new dense
 * tensor `[N, d]` that the caller owns (also for rate 0); sparse input
 * gives new {@link SparseFeatures} without the masked columns' entries.
 *
 * @param rate - the masking probability p_f in [0, 1] (GRACE on Cora: 0.3
 * and 0.4 for its two views).
 * @throws ConfigError for a rate outside [0, 1].
 */
export function maskFeatures(
  x: NodeFeatures,
  rate: number,
  random: Random,
): NodeFeatures {
  checkRate("maskFeatures", rate);
  if (x instanceof SparseFeatures) {
    const keep = columnMask(x.cols, rate, random);
    return filterSparse(x, (_i, e) => keep[x.colIdx[e]] === 1);
  }
  const [, d] = x.shape;
  const keep = columnMask(d, rate, random);
  return maskDense(x, Float32Array.from(keep), [1, d]);
}

/** Options of {@link maskNodeFeatures}. */
export interface MaskNodeFeaturesOptions {
  /**
   * What one draw masks: `"entry"` (default), each value of x on its
   * own, or `"row"`, all features of a node at once.
   */
  mode?: "entry" | "row";
}

/**
 * Per-entry or per-node feature masking (GraphCL's attribute masking, with
 * zeros in place of its Gaussian fill): with `mode: "entry"` every value
 * x[i][j] is zeroed with probability `rate`, one uniform per value in
 * row-major order (per stored entry for sparse input); with `mode: "row"`
 * every node's row is zeroed with probability `rate`, one uniform per
 * node. Kept values are not rescaled (unlike dropout).
 *
 * Dense input `[N, d]` gives a new tensor the caller owns; sparse input
 * gives new {@link SparseFeatures} without the masked entries.
 *
 * @throws ConfigError for a rate outside [0, 1] or an unknown mode.
 */
export function maskNodeFeatures(
  x: NodeFeatures,
  rate: number,
  random: Random,
  options: MaskNodeFeaturesOptions = {},
): NodeFeatures {
  const fn = "maskNodeFeatures";
  checkRate(fn, rate);
  const mode = options.mode ?? "entry";
  if (mode !== "entry" && mode !== "row") {
    throw new ConfigError(
      `${fn}: mode must be "entry" or "row", got ${JSON.stringify(mode)}`,
    );
  }
  if (x instanceof SparseFeatures) {
    if (mode === "row") {
      const keep = columnMask(x.rows, rate, random);
      return filterSparse(x, (i) => keep[i] === 1);
    }
    const keep = columnMask(x.nnz, rate, random);
    return filterSparse(x, (_i, e) => keep[e] === 1);
  }
  const [n, d] = x.shape;
  if (mode === "row") {
    const keep = columnMask(n, rate, random);
    return maskDense(x, Float32Array.from(keep), [n, 1]);
  }
  const keep = columnMask(n * d, rate, random);
  return maskDense(x, Float32Array.from(keep), [n, d]);
}

/**
 * One view of a graph with features: which augmentations run, at which
 * rates.
 */
export interface GraphViewSpec {
  /** Edge drop rate p_e in [0, 1] (0 keeps the graph). */
  readonly dropEdge: number;
  /** Feature column masking rate p_f in [0, 1] (0 keeps the features). */
  readonly maskFeatures: number;
  /**
   * One draw per unordered pair (true) or per directed edge (false) when
   * dropping edges; default: whether the graph is symmetric.
   */
  readonly symmetric?: boolean;
}

/** A drawn view: its graph and its features. */
export interface GraphView {
  /** The view's graph, on the same N nodes. */
  readonly graph: Graph;
  /**
   * The view's features, of the input's kind and shape; a new tensor the
   * caller owns (dispose it) when the input is dense.
   */
  readonly x: NodeFeatures;
}

/**
 * Draw one view `(G̃, X̃)` of `(graph, x)` as GRACE does: edges dropped at
 * `spec.dropEdge` ({@link dropEdges}), then feature columns masked at
 * `spec.maskFeatures` ({@link maskFeatures}), both from `random` in that
 * order (a drop rate of 0 returns the graph itself and draws nothing). GRACE on Cora draws two views per step with
 * `{dropEdge: 0.2, maskFeatures: 0.3}` and `{dropEdge: 0.4,
 * maskFeatures: 0.4}`.
 *
 * @param x - node features `[N, d]` with N = graph.numNodes.
 * @throws ConfigError for a rate outside [0, 1].
 * @throws ShapeError when x does not have one row per node.
 */
export function graphView(
  graph: Graph,
  x: NodeFeatures,
  spec: GraphViewSpec,
  random: Random,
): GraphView {
  const fn = "graphView";
  checkRate(fn, spec.dropEdge);
  checkRate(fn, spec.maskFeatures);
  const rows = x instanceof SparseFeatures ? x.rows : x.shape[0];
  if (rows !== graph.numNodes) {
    throw new ShapeError(
      `${fn}: x must have one row per node (${graph.numNodes}), got ${rows}`,
    );
  }
  const viewGraph =
    spec.dropEdge === 0
      ? graph
      : dropEdges(graph, spec.dropEdge, {
          random,
          symmetric: spec.symmetric,
        });
  return {
    graph: viewGraph,
    x: maskFeatures(x, spec.maskFeatures, random),
  };
}
