/**
 * Augmentation graphs: which samples are positives of each other.
 *
 * Following HaoChen, Wei, Gaidon & Ma ("Provable Guarantees for
 * Self-Supervised Deep Learning with Spectral Contrastive Loss", 2021),
 * natural samples x̄ are drawn with probability p(x̄), each yields views x
 * with probability A(x|x̄), and two views are a positive pair when they
 * come from the same natural sample:
 *
 *     A(x, x') = Σ_x̄ p(x̄) A(x|x̄) A(x'|x̄).
 *
 * This file builds that graph exactly from a finite data set
 * ({@link augmentationGraphFromData}), its expectation under a latent-class
 * model ({@link latentClassAugmentationGraph}), and the graph a SimCLR-style
 * mini-batch samples from it ({@link sampledAugmentationGraph}), and the
 * graph of points under a neighbourhood rule, ε-ball or kNN
 * ({@link augmentationGraphFromPoints}, over the builders of
 * `src/graph/generators.ts`, which also samples block models).
 */

import { ConfigError, ShapeError } from "../errors.js";
import {
  type EpsilonBallOptions,
  epsilonBallGraph,
  type KnnGraphOptions,
  knnGraph,
  type Points,
} from "../graph/generators.js";
import { Graph } from "../graph/graph.js";

/** One view of a natural sample and its probability A(x|x̄). */
export interface ViewProbability {
  /** Index of the view x, in `[0, numViews)`. */
  view: number;
  /** Probability A(x|x̄) ≥ 0. */
  prob: number;
}

/**
 * The conditional A(x|x̄) as a sparse N̄ × N matrix in CSR form: row x̄
 * holds the views `colIdx[rowPtr[x̄] .. rowPtr[x̄ + 1] - 1]` with the
 * probabilities at the same positions of `values`.
 */
export interface SparseConditional {
  /** Row pointer, length N̄ + 1, from 0 to the number of entries. */
  rowPtr: ArrayLike<number>;
  /** View index of each entry. */
  colIdx: ArrayLike<number>;
  /** Probability A(x|x̄) of each entry. */
  values: ArrayLike<number>;
}

/** Options of {@link augmentationGraphFromData}. */
export interface AugmentationFromDataOptions {
  /** Number N̄ of natural samples x̄. */
  numSamples: number;
  /** Number N of views x: the nodes of the graph. */
  numViews: number;
  /**
   * Probability p(x̄) of each natural sample, length N̄ (default uniform,
   * 1/N̄). Must be non-negative and sum to 1 within 1e-6.
   */
  p?: ArrayLike<number>;
  /**
   * A(x|x̄): for each natural sample, the views it yields and their
   * probabilities — a function of the sample index, or a sparse N̄ × N
   * matrix. Each sample's probabilities must be non-negative and sum to 1
   * within 1e-6; a view listed twice for one sample has the sum of its
   * entries as its probability.
   */
  conditional: ((sample: number) => ViewProbability[]) | SparseConditional;
  /**
   * Keep the self-loops A(x, x) = Σ_x̄ p(x̄) A(x|x̄)² (default true). They
   * are part of the definition — every view with a non-zero marginal has
   * one, as a view is a positive of itself — and drop out when false.
   */
  selfLoops?: boolean;
}

/**
 * The augmentation graph of a finite data set,
 * `A(x, x') = Σ_x̄ p(x̄) A(x|x̄) A(x'|x̄)`, over the N views: a weighted,
 * symmetric graph with non-negative weights summing to 1 (with its
 * self-loops). Its degrees `D_x = Σ_x' A(x, x')` are the view marginals
 * `Σ_x̄ p(x̄) A(x|x̄)`.
 *
 * Only pairs with a positive weight become edges; each edge appears once
 * in each direction (a self-loop once). Weights are summed in float64 in
 * sample order and stored as float32 by `Graph`. A sample with v views
 * costs v² updates, so the cost is Σ_x̄ v(x̄)².
 *
 * Raises `ConfigError` for counts that are not integers, negative or
 * non-finite probabilities, probabilities that do not sum to 1, or view
 * indices out of range, and `ShapeError` when `p` or the sparse matrix do
 * not have N̄ rows.
 */
export function augmentationGraphFromData(
  options: AugmentationFromDataOptions,
): Graph {
  const fn = "augmentationGraphFromData";
  const { numSamples, numViews, conditional } = options;
  checkCount(fn, "numSamples", numSamples);
  checkCount(fn, "numViews", numViews);

  // the sample probabilities p(x̄)
  const p = options.p ?? new Float64Array(numSamples).fill(1 / numSamples);
  if (p.length !== numSamples) {
    throw new ShapeError(
      `${fn}: p must have one entry per sample (${numSamples}), got ` +
        `${p.length}`,
    );
  }
  let pSum = 0;
  for (let s = 0; s < numSamples; s++) {
    checkProbability(fn, `p[${s}]`, p[s]);
    pSum += p[s];
  }
  if (numSamples > 0 && Math.abs(pSum - 1) > 1e-6) {
    throw new ConfigError(`${fn}: p must sum to 1, got ${pSum}`);
  }

  // the rows of A(x|x̄), as a function of the sample
  const rowOf = rowsOf(fn, conditional, numSamples);

  // then each sample adds p A(x|x̄) A(x'|x̄) to every pair of its views
  const keepLoops = options.selfLoops ?? true;
  const weightOf = new Map<number, number>();
  for (let s = 0; s < numSamples; s++) {
    const row = rowOf(s);
    let rowSum = 0;
    for (const { view, prob } of row) {
      if (!Number.isInteger(view) || view < 0 || view >= numViews) {
        throw new ConfigError(
          `${fn}: sample ${s} lists view ${view}, expected an integer in ` +
            `[0, ${numViews})`,
        );
      }
      checkProbability(fn, `A(${view}|${s})`, prob);
      rowSum += prob;
    }
    if (Math.abs(rowSum - 1) > 1e-6) {
      throw new ConfigError(
        `${fn}: the view probabilities of sample ${s} must sum to 1, got ` +
          `${rowSum}`,
      );
    }
    if (p[s] === 0) continue;
    for (const a of row) {
      if (a.prob === 0) continue;
      for (const b of row) {
        if (b.prob === 0 || (!keepLoops && a.view === b.view)) continue;
        const key = a.view * numViews + b.view;
        weightOf.set(key, (weightOf.get(key) ?? 0) + p[s] * a.prob * b.prob);
      }
    }
  }

  // NOTE: keys are (x, x') pairs; with weightOf symmetric, the edge x' → x
  // sits at key x · N + x' and Graph sorts by (destination, source)
  const src: number[] = [];
  const dst: number[] = [];
  const weights: number[] = [];
  for (const [key, w] of weightOf) {
    dst.push(Math.floor(key / numViews));
    src.push(key % numViews);
    weights.push(w);
  }
  return Graph.fromEdges(src, dst, { numNodes: numViews, weights });
}

/** A function from a sample to its row of A(x|x̄). */
function rowsOf(
  fn: string,
  conditional: AugmentationFromDataOptions["conditional"],
  numSamples: number,
): (sample: number) => ViewProbability[] {
  if (typeof conditional === "function") {
    return (s) => {
      const row = conditional(s);
      if (!Array.isArray(row)) {
        throw new ConfigError(
          `${fn}: conditional(${s}) must return an array of { view, prob }`,
        );
      }
      return row;
    };
  }
  const { rowPtr, colIdx, values } = conditional;
  if (rowPtr.length !== numSamples + 1) {
    throw new ShapeError(
      `${fn}: conditional.rowPtr must have length numSamples + 1 = ` +
        `${numSamples + 1}, got ${rowPtr.length}`,
    );
  }
  const nnz = colIdx.length;
  if (values.length !== nnz || rowPtr[0] !== 0 || rowPtr[numSamples] !== nnz) {
    throw new ShapeError(
      `${fn}: conditional must have rowPtr from 0 to colIdx.length = ` +
        `values.length, got rowPtr ${rowPtr[0]} .. ${rowPtr[numSamples]}, ` +
        `${nnz} columns and ${values.length} values`,
    );
  }
  for (let s = 0; s < numSamples; s++) {
    if (!(rowPtr[s + 1] >= rowPtr[s])) {
      throw new ShapeError(
        `${fn}: conditional.rowPtr must not decrease, got ` +
          `${rowPtr[s]} then ${rowPtr[s + 1]} at row ${s}`,
      );
    }
  }
  return (s) => {
    const row: ViewProbability[] = [];
    for (let e = rowPtr[s]; e < rowPtr[s + 1]; e++) {
      row.push({ view: colIdx[e], prob: values[e] });
    }
    return row;
  };
}

/** Options of {@link latentClassAugmentationGraph}. */
export interface LatentClassOptions {
  /** Weight of a pair of distinct nodes of the same class (default 1). */
  within?: number;
  /** Weight of a pair of nodes of different classes (default 0). */
  between?: number;
  /**
   * Give every node the loop x → x of weight `within` (default false, as
   * in a block model, which joins distinct nodes only).
   */
  selfLoops?: boolean;
}

/**
 * The expected adjacency of a stochastic block (latent-class) model as a
 * weighted graph: `A(x, x') = within` when x ≠ x' share a label,
 * `between` when their labels differ. With `within = pIn` and
 * `between = pOut` it is exactly `E[A]` of the graphs that
 * `stochasticBlockModel` samples with those `blocks`. Zero weights give
 * no edge (so `between = 0` is a disjoint union of cliques).
 *
 * Raises `ConfigError` for labels that are not non-negative integers and
 * weights that are negative or non-finite.
 *
 * LIMITATION: the graph is dense within (and, when `between > 0`,
 * across) classes, O(N²) edges; meant for N up to a few thousand.
 */
export function latentClassAugmentationGraph(
  labels: ArrayLike<number>,
  options: LatentClassOptions = {},
): Graph {
  const fn = "latentClassAugmentationGraph";
  const within = options.within ?? 1;
  const between = options.between ?? 0;
  for (const [name, w] of [
    ["within", within],
    ["between", between],
  ] as const) {
    if (!(Number.isFinite(w) && w >= 0)) {
      throw new ConfigError(`${fn}: ${name} must be finite and >= 0, got ${w}`);
    }
  }
  const n = labels.length;
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0) {
      throw new ConfigError(
        `${fn}: labels[${i}] must be a non-negative integer, got ${c}`,
      );
    }
  }

  const loops = options.selfLoops ?? false;
  const src: number[] = [];
  const dst: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j && !loops) continue;
      const w = labels[i] === labels[j] ? within : between;
      if (w === 0) continue;
      src.push(j);
      dst.push(i);
      weights.push(w);
    }
  }
  return Graph.fromEdges(src, dst, { numNodes: n, weights });
}

/** Options of {@link sampledAugmentationGraph}. */
export interface SampledAugmentationOptions {
  /** Number B of natural samples in the mini-batch. */
  batchSize: number;
  /** Number m ≥ 1 of views per sample (default 2, as in SimCLR). */
  views?: number;
}

/** The view graph of a mini-batch and its node ↔ (sample, view) map. */
export interface SampledAugmentationGraph {
  /** The unweighted m·B-node graph of positive pairs. */
  graph: Graph;
  /** Sample (row of the batch, in [0, B)) of each node. */
  sampleOf: Int32Array;
  /** View (in [0, m)) of each node. */
  viewOf: Int32Array;
  /** The node of view `view` of sample `sample`: `view · B + sample`. */
  nodeOf(sample: number, view: number): number;
}

/**
 * The augmentation graph that a SimCLR-style mini-batch samples: B
 * natural samples with m views each give m·B nodes, and every two
 * distinct views of the same sample are joined, both directions, no
 * self-loops — m(m − 1)·B directed edges, unweighted. Nodes are ordered
 * view-major, as when the batches of each view are stacked: node
 * `v · B + s` is view v of sample s (for m = 2, node i's positive is
 * `(i + B) mod 2B`).
 *
 * Raises `ConfigError` unless B ≥ 0 and m ≥ 1 are integers.
 */
export function sampledAugmentationGraph(
  options: SampledAugmentationOptions,
): SampledAugmentationGraph {
  const fn = "sampledAugmentationGraph";
  const b = options.batchSize;
  const m = options.views ?? 2;
  checkCount(fn, "batchSize", b);
  checkCount(fn, "views", m, 1);
  const n = m * b;
  checkCount(fn, "views · batchSize", n);

  const sampleOf = new Int32Array(n);
  const viewOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    sampleOf[i] = i % b;
    viewOf[i] = Math.floor(i / b);
  }
  const src: number[] = [];
  const dst: number[] = [];
  for (let s = 0; s < b; s++) {
    for (let u = 0; u < m; u++) {
      for (let v = 0; v < m; v++) {
        if (u === v) continue;
        src.push(u * b + s);
        dst.push(v * b + s);
      }
    }
  }
  const graph = Graph.fromEdges(src, dst, { numNodes: n });
  const nodeOf = (sample: number, view: number): number => {
    if (!Number.isInteger(sample) || sample < 0 || sample >= b) {
      throw new ConfigError(
        `${fn}.nodeOf: sample must be an integer in [0, ${b}), got ${sample}`,
      );
    }
    if (!Number.isInteger(view) || view < 0 || view >= m) {
      throw new ConfigError(
        `${fn}.nodeOf: view must be an integer in [0, ${m}), got ${view}`,
      );
    }
    return view * b + sample;
  };
  return { graph, sampleOf, viewOf, nodeOf };
}

/** Check a count: an integer ≥ `min`. */
function checkCount(fn: string, name: string, n: number, min = 0) {
  if (!Number.isInteger(n) || n < min || n > 0x7fffffff) {
    throw new ConfigError(
      `${fn}: ${name} must be an integer >= ${min}, got ${n}`,
    );
  }
}

/** Check a probability: finite and non-negative. */
function checkProbability(fn: string, name: string, v: number) {
  if (!(Number.isFinite(v) && v >= 0)) {
    throw new ConfigError(`${fn}: ${name} must be finite and >= 0, got ${v}`);
  }
}

// ---------------------------------------------------------------------
// points under a neighbourhood rule

/** A neighbourhood rule of {@link augmentationGraphFromPoints}. */
export type NeighbourhoodRule =
  | ({ kind: "epsilon"; eps: number } & EpsilonBallOptions)
  | ({ kind: "knn"; k: number } & KnnGraphOptions);

/**
 * The augmentation graph of a point cloud under a neighbourhood rule: two
 * points are positives when they lie within `eps` of each other
 * (`{ kind: "epsilon", eps }`, as in the paper's Figure 1, where an edge
 * joins points within 0.4) or when one is among the other's k nearest
 * (`{ kind: "knn", k }`). `points` is row-major `n × dim`. The remaining
 * fields of the rule are the options of `epsilonBallGraph` and `knnGraph`
 * (defaults: unweighted, no self-loops, euclidean, union).
 *
 * Raises `ConfigError` for an unknown rule, and the builders' errors for
 * bad points, radius or k.
 */
export function augmentationGraphFromPoints(
  points: Points,
  n: number,
  dim: number,
  rule: NeighbourhoodRule,
): Graph {
  if (rule?.kind === "epsilon") {
    const { kind: _kind, eps, ...options } = rule;
    return epsilonBallGraph(points, n, dim, eps, options);
  }
  if (rule?.kind === "knn") {
    const { kind: _kind, k, ...options } = rule;
    return knnGraph(points, n, dim, k, options);
  }
  throw new ConfigError(
    'augmentationGraphFromPoints: rule.kind must be "epsilon" or ' +
      `"knn", got ${JSON.stringify((rule as { kind?: unknown })?.kind)}`,
  );
}
