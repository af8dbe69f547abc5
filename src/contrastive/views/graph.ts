/**
 * Seeded graph views for graph contrastive learning: edge dropping and
 * feature masking as in GRACE (Zhu et al. 2020, "Deep Graph Contrastive
 * Representation Learning"), per-entry and per-node masking as in GraphCL
 * (You et al. 2020), the personalized-PageRank diffusion view of MVGRL
 * (Hassani & Khasahmadi 2020, "Contrastive Multi-View Representation
 * Learning on Graphs"), and a view spec that draws one whole view.
 *
 * Every function draws from the random source it is given, so the same
 * seed gives the same view, and none changes its input: graphs are
 * immutable and features are copied.
 */

import { tf } from "../../backend.js";
import { ConfigError, ShapeError } from "../../errors.js";
import type { Graph } from "../../graph/graph.js";
import {
  type DiffusionRewireOptions,
  type DropEdgeOptions,
  diffusionRewire,
  dropEdge,
} from "../../graph/rewire/index.js";
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

/** Options of {@link diffusionView}: those of `diffusionRewire`. */
export interface DiffusionViewOptions extends DiffusionRewireOptions {
  /** Teleport probability α of PPR (default 0.2, as MVGRL). */
  alpha?: number;
  /**
   * Normalization of the sparsified diffusion (default `"none"`: MVGRL
   * feeds S itself to its encoder); see `diffusionRewire`.
   */
  normalization?: "sym" | "col" | "row" | "none";
  /**
   * Shorthand for `sparsify: { topK }`: the k largest entries of every
   * column are kept (default, through `sparsify`: 64, as GDC).
   */
  topK?: number;
}

/** Diffused graphs already computed, per input graph and options. */
const diffusionCache = new WeakMap<Graph, Map<string, Graph>>();

/**
 * The diffusion view of MVGRL: the graph whose edge j → i carries the
 * entry S[i, j] of the sparsified graph diffusion, by default personalized
 * PageRank with self-loops on the symmetric transition,
 *
 *   S = α (I − (1 − α) D^{-1/2} (A + I) D^{-1/2})^{-1},
 *
 * computed by `diffusionRewire` of `graph/rewire` (GDC, Gasteiger et al.
 * 2019) and kept to the `topK` largest entries per column. Options are
 * those of `diffusionRewire` with MVGRL's defaults: `kernel` "ppr",
 * `alpha` 0.2, `normalization` "none"; `topK` is a shorthand for
 * `sparsify: { topK }` (default top 64 per column).
 *
 * The view is deterministic, so it is computed once per graph object and
 * options and cached (weakly: the cache entry goes with the graph).
 *
 * LIMITATION: MVGRL diffuses densely (no sparsification) on small graphs;
 * here S is always sparsified (use `sparsify: { threshold: 0 }` to keep
 * every entry above the truncation ε of `diffusionRewire`).
 *
 * @throws ConfigError for options out of range, or for `topK` given
 * together with `sparsify`.
 */
export function diffusionView(
  graph: Graph,
  options: DiffusionViewOptions = {},
): Graph {
  const fn = "diffusionView";
  const { topK, ...rest } = options;
  if (topK !== undefined && rest.sparsify !== undefined) {
    throw new ConfigError(
      `${fn}: give topK or sparsify, not both (got topK ${topK} and ` +
        `sparsify ${JSON.stringify(rest.sparsify)})`,
    );
  }
  const resolved: DiffusionRewireOptions = {
    ...rest,
    kernel: rest.kernel ?? "ppr",
    alpha: rest.alpha ?? 0.2,
    normalization: rest.normalization ?? "none",
    ...(topK === undefined ? {} : { sparsify: { topK } }),
  };

  // NOTE: the key lists the options in a fixed order, so that equal
  // options written in another order share the cached view
  const key = JSON.stringify(
    Object.keys(resolved)
      .sort()
      .map((k) => [k, resolved[k as keyof DiffusionRewireOptions]]),
  );
  let byOptions = diffusionCache.get(graph);
  if (byOptions === undefined) {
    byOptions = new Map();
    diffusionCache.set(graph, byOptions);
  }
  let view = byOptions.get(key);
  if (view === undefined) {
    view = diffusionRewire(graph, resolved);
    byOptions.set(key, view);
  }
  return view;
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
   * Replace the graph by its diffusion view ({@link diffusionView}) before
   * dropping edges (default: no diffusion). MVGRL's second view is
   * `{dropEdge: 0, maskFeatures: 0, diffusion: {}}`.
   */
  readonly diffusion?: DiffusionViewOptions;
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
 * Draw one view `(G̃, X̃)` of `(graph, x)` as GRACE does: the graph
 * diffused if `spec.diffusion` is given ({@link diffusionView}, cached,
 * no draws), edges dropped at `spec.dropEdge` ({@link dropEdges}), then
 * feature columns masked at `spec.maskFeatures` ({@link maskFeatures}),
 * drawing from `random` in that order (a drop rate of 0 keeps the graph
 * and draws nothing). GRACE on Cora draws two views per step with
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
  const base =
    spec.diffusion === undefined ? graph : diffusionView(graph, spec.diffusion);
  const viewGraph =
    spec.dropEdge === 0
      ? base
      : dropEdges(base, spec.dropEdge, {
          random,
          symmetric: spec.symmetric,
        });
  return {
    graph: viewGraph,
    x: maskFeatures(x, spec.maskFeatures, random),
  };
}
