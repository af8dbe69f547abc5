/**
 * Graph generators: neighbourhood graphs of point clouds (ε-ball and
 * k-nearest neighbours), the stochastic block model (Holland, Laskey &
 * Leinhardt, "Stochastic blockmodels: First steps", 1983), samples of an
 * isotropic Gaussian mixture (the synthetic data of the mpcl paper's
 * Figure 1), and small named graphs (path, cycle, complete, star,
 * complete bipartite).
 *
 * Points are row-major: point i is `points[i * dim .. (i + 1) * dim - 1]`.
 * An undirected edge is stored as two directed edges, one each way. Every
 * random generator takes `seed` or `random` (see `src/random.ts`), so the
 * same seed gives the same result. Pure typed-array code; no TF.js here.
 */

import { ConfigError, ShapeError } from "../errors.js";
import { type RandomOptions, randomNormal, resolveRandom } from "../random.js";
import { Graph } from "./graph.js";

/** Row-major point coordinates, `n × dim`. */
export type Points = Float64Array | Float32Array;

/** Check `n`, `dim` and the length of `points`; `fn` names the caller. */
function checkPoints(fn: string, points: Points, n: number, dim: number) {
  if (!Number.isInteger(n) || n < 0) {
    throw new ConfigError(`${fn}: n must be a non-negative integer, got ${n}`);
  }
  if (!Number.isInteger(dim) || dim < 1) {
    throw new ConfigError(`${fn}: dim must be a positive integer, got ${dim}`);
  }
  if (points.length !== n * dim) {
    throw new ShapeError(
      `${fn}: points must hold n × dim = ${n} × ${dim} = ${n * dim} ` +
        `coordinates, got ${points.length}`,
    );
  }
  for (let t = 0; t < points.length; t++) {
    if (!Number.isFinite(points[t])) {
      throw new ConfigError(
        `${fn}: coordinate ${t} (point ${Math.floor(t / dim)}) must be ` +
          `finite, got ${points[t]}`,
      );
    }
  }
}

/** Squared Euclidean distance between points i and j, in float64. */
function squaredDistance(
  points: Points,
  dim: number,
  i: number,
  j: number,
): number {
  let s = 0;
  for (let c = 0; c < dim; c++) {
    const d = points[i * dim + c] - points[j * dim + c];
    s += d * d;
  }
  return s;
}

/** Check that `n` is a non-negative integer node count. */
function checkCount(fn: string, name: string, n: number, min = 0) {
  if (!Number.isInteger(n) || n < min || n > 0x7fffffff) {
    throw new ConfigError(
      `${fn}: ${name} must be an integer >= ${min}, got ${n}`,
    );
  }
}

// ---------------------------------------------------------------------
// ε-ball graph

/** Options of {@link epsilonBallGraph}. */
export interface EpsilonBallOptions {
  /**
   * Weight each edge by the distance ‖p_i − p_j‖ (default false: an
   * unweighted graph, every weight 1). Edges between equal points then
   * carry weight 0.
   */
  weighted?: boolean;
  /**
   * Add the loop i → i to every node (default false). Every point lies
   * within any ε ≥ 0 of itself; the loops are left out unless asked for.
   */
  selfLoops?: boolean;
}

/**
 * The ε-ball (radius) graph of a point cloud: the undirected edge i — j
 * for every pair i ≠ j with ‖p_i − p_j‖₂ ≤ ε, as
 * `A_ij = 1[‖p_i − p_j‖ ≤ ε]`.
 *
 * Raises `ShapeError` when `points.length ≠ n · dim` and `ConfigError`
 * for a negative or non-finite `eps`, or non-finite coordinates.
 *
 * NOTE: for dim ≤ 3 and ε > 0 the candidates come from a cell list
 * (cells slightly wider than ε, neighbouring cells only), which costs
 * O(N + E) for spread-out points; otherwise all pairs are compared,
 * O(N² dim). The test is `Σ_c (p_ic − p_jc)² ≤ ε²` in float64 either way.
 */
export function epsilonBallGraph(
  points: Points,
  n: number,
  dim: number,
  eps: number,
  options: EpsilonBallOptions = {},
): Graph {
  const fn = "epsilonBallGraph";
  checkPoints(fn, points, n, dim);
  if (!Number.isFinite(eps) || eps < 0) {
    throw new ConfigError(
      `${fn}: eps must be a finite number >= 0, got ${eps}`,
    );
  }
  const weighted = options.weighted ?? false;
  const eps2 = eps * eps;
  const src: number[] = [];
  const dst: number[] = [];
  const weights: number[] = [];
  const add = (i: number, j: number, d2: number) => {
    src.push(i, j);
    dst.push(j, i);
    if (weighted) weights.push(Math.sqrt(d2), Math.sqrt(d2));
  };

  const cells = dim <= 3 && eps > 0 ? cellList(points, n, dim, eps) : null;
  if (cells === null) {
    // all pairs
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const d2 = squaredDistance(points, dim, i, j);
        if (d2 <= eps2) add(i, j, d2);
      }
    }
  } else {
    // each point against the points of its own and neighbouring cells,
    // keeping each pair once (j > i)
    const { cellOf, start, members, shape } = cells;
    const coord = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      let c = cellOf[i];
      for (let a = dim - 1; a >= 0; a--) {
        coord[a] = c % shape[a];
        c = Math.floor(c / shape[a]);
      }
      const lo = [0, 0, 0];
      const hi = [0, 0, 0];
      for (let a = 0; a < 3; a++) {
        lo[a] = a < dim ? Math.max(0, coord[a] - 1) : 0;
        hi[a] = a < dim ? Math.min(shape[a] - 1, coord[a] + 1) : 0;
      }
      for (let x = lo[0]; x <= hi[0]; x++) {
        for (let y = lo[1]; y <= hi[1]; y++) {
          for (let z = lo[2]; z <= hi[2]; z++) {
            let cell = x;
            if (dim > 1) cell = cell * shape[1] + y;
            if (dim > 2) cell = cell * shape[2] + z;
            for (let t = start[cell]; t < start[cell + 1]; t++) {
              const j = members[t];
              if (j <= i) continue;
              const d2 = squaredDistance(points, dim, i, j);
              if (d2 <= eps2) add(i, j, d2);
            }
          }
        }
      }
    }
  }

  if (options.selfLoops ?? false) {
    for (let i = 0; i < n; i++) {
      src.push(i);
      dst.push(i);
      if (weighted) weights.push(0);
    }
  }
  return Graph.fromEdges(src, dst, {
    numNodes: n,
    weights: weighted ? weights : null,
  });
}

/** A cell list: points bucketed by cell, cells in row-major order. */
interface CellList {
  /** Row-major cell index of each point. */
  cellOf: Int32Array;
  /** `start[c] .. start[c + 1] - 1` index the members of cell c. */
  start: Int32Array;
  /** Point ids sorted by cell (ascending ids within a cell). */
  members: Int32Array;
  /** Number of cells along each axis. */
  shape: number[];
}

/**
 * Bucket points into cells of side slightly larger than `eps`, or return
 * null when the grid would have more than max(4N, 64) cells (very spread
 * or very few points), in which case all pairs are cheaper.
 */
function cellList(
  points: Points,
  n: number,
  dim: number,
  eps: number,
): CellList | null {
  if (n === 0) return null;

  // NOTE: cells wider than eps by a relative 1e-9 keep every pair within
  // eps in neighbouring cells despite rounding in the cell coordinates
  const side = eps * (1 + 1e-9);
  const min = new Float64Array(dim).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(dim).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < dim; a++) {
      const v = points[i * dim + a];
      if (v < min[a]) min[a] = v;
      if (v > max[a]) max[a] = v;
    }
  }
  const shape: number[] = [];
  let numCells = 1;
  for (let a = 0; a < dim; a++) {
    const s = Math.floor((max[a] - min[a]) / side) + 1;
    shape.push(s);
    numCells *= s;
  }
  if (numCells > Math.max(4 * n, 64)) return null;

  const cellOf = new Int32Array(n);
  const start = new Int32Array(numCells + 1);
  for (let i = 0; i < n; i++) {
    let c = 0;
    for (let a = 0; a < dim; a++) {
      const k = Math.floor((points[i * dim + a] - min[a]) / side);
      c = c * shape[a] + Math.min(shape[a] - 1, k);
    }
    cellOf[i] = c;
    start[c + 1]++;
  }
  for (let c = 0; c < numCells; c++) start[c + 1] += start[c];
  const fill = start.slice(0, numCells);
  const members = new Int32Array(n);
  for (let i = 0; i < n; i++) members[fill[cellOf[i]]++] = i;
  return { cellOf, start, members, shape };
}

// ---------------------------------------------------------------------
// k-nearest-neighbour graph

/** Options of {@link knnGraph}. */
export interface KnnGraphOptions {
  /**
   * Distance between points (default `"euclidean"`). `"cosine"` uses
   * 1 − cos(p_i, p_j); a zero vector has cosine 0 with every point.
   */
  metric?: "euclidean" | "cosine";
  /**
   * How the directed kNN relation becomes the graph (default `"union"`):
   * `"union"` keeps i — j when either is among the other's k nearest,
   * `"mutual"` when each is among the other's, `"none"` keeps the directed
   * edges j → i for the k nearest neighbours j of i (in-degree k).
   */
  symmetrize?: "union" | "mutual" | "none";
}

/**
 * The k-nearest-neighbour graph of a point cloud, unweighted and without
 * self-loops. The k nearest neighbours of i are the k points j ≠ i that
 * come first in the order of (distance to i, then index j): ties are
 * broken by the smaller index, so the result is deterministic. Distances
 * are computed in float64; `"euclidean"` compares squared distances.
 *
 * Raises `ShapeError` when `points.length ≠ n · dim` and `ConfigError`
 * unless `0 ≤ k ≤ n − 1` (k = 0 gives no edges) or for an unknown
 * option value. Cost O(N² (dim + k)).
 */
export function knnGraph(
  points: Points,
  n: number,
  dim: number,
  k: number,
  options: KnnGraphOptions = {},
): Graph {
  const fn = "knnGraph";
  checkPoints(fn, points, n, dim);
  if (!Number.isInteger(k) || k < 0 || k > Math.max(0, n - 1)) {
    throw new ConfigError(
      `${fn}: k must be an integer in [0, n - 1 = ${n - 1}], got ${k}`,
    );
  }
  const metric = options.metric ?? "euclidean";
  if (metric !== "euclidean" && metric !== "cosine") {
    throw new ConfigError(
      `${fn}: metric must be "euclidean" or "cosine", got ${metric}`,
    );
  }
  const mode = options.symmetrize ?? "union";
  if (mode !== "union" && mode !== "mutual" && mode !== "none") {
    throw new ConfigError(
      `${fn}: symmetrize must be "union", "mutual" or "none", got ${mode}`,
    );
  }

  // for cosine, the inverse norms (0 for a zero vector)
  let inverseNorm: Float64Array | null = null;
  if (metric === "cosine") {
    inverseNorm = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const s = Math.sqrt(squaredDistanceToOrigin(points, dim, i));
      inverseNorm[i] = s > 0 ? 1 / s : 0;
    }
  }
  const distance = (i: number, j: number): number => {
    if (inverseNorm === null) return squaredDistance(points, dim, i, j);
    let s = 0;
    for (let c = 0; c < dim; c++) {
      s += points[i * dim + c] * points[j * dim + c];
    }
    return 1 - s * inverseNorm[i] * inverseNorm[j];
  };

  // first the k nearest of each node, kept sorted by insertion; scanning j
  // in increasing order and inserting only on a strictly smaller distance
  // breaks ties by index
  const neighbours = new Int32Array(n * k);
  const bestD = new Float64Array(k);
  const bestJ = new Int32Array(k);
  for (let i = 0; i < n && k > 0; i++) {
    let size = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const d = distance(i, j);
      if (size === k && !(d < bestD[k - 1])) continue;
      let pos = size < k ? size++ : k - 1;
      while (pos > 0 && d < bestD[pos - 1]) {
        bestD[pos] = bestD[pos - 1];
        bestJ[pos] = bestJ[pos - 1];
        pos--;
      }
      bestD[pos] = d;
      bestJ[pos] = j;
    }
    neighbours.set(bestJ, i * k);
  }

  // then the edges of the chosen symmetrization
  const src: number[] = [];
  const dst: number[] = [];
  if (mode === "none") {
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < k; t++) {
        src.push(neighbours[i * k + t]);
        dst.push(i);
      }
    }
    return Graph.fromEdges(src, dst, { numNodes: n });
  }
  const chosen = new Set<number>();
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) chosen.add(i * n + neighbours[i * k + t]);
  }
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = neighbours[i * k + t];
      const back = chosen.has(j * n + i);
      if (mode === "mutual" && back) {
        // each mutual pair is seen from both ends: add one direction each
        src.push(j);
        dst.push(i);
      } else if (mode === "union") {
        src.push(j);
        dst.push(i);
        if (!back) {
          src.push(i);
          dst.push(j);
        }
      }
    }
  }
  return Graph.fromEdges(src, dst, { numNodes: n });
}

/** Squared Euclidean norm of point i. */
function squaredDistanceToOrigin(points: Points, dim: number, i: number) {
  let s = 0;
  for (let c = 0; c < dim; c++) s += points[i * dim + c] ** 2;
  return s;
}

// ---------------------------------------------------------------------
// stochastic block model

/** Block sizes and the edge probability within and between blocks. */
export interface SbmTwoLevel {
  /** Number of nodes of each block; nodes are numbered block by block. */
  sizes: number[];
  /** Probability of an edge between two nodes of the same block. */
  pIn: number;
  /** Probability of an edge between nodes of different blocks. */
  pOut: number;
}

/** Block sizes and a full symmetric matrix of edge probabilities. */
export interface SbmMatrix {
  /** Number of nodes of each block; nodes are numbered block by block. */
  sizes: number[];
  /** `probabilities[a][b]`: edge probability between blocks a and b. */
  probabilities: number[][];
}

/** The result of {@link stochasticBlockModel}. */
export interface StochasticBlockModel {
  /** The sampled undirected graph (unweighted, no self-loops). */
  graph: Graph;
  /** Block of each node (the latent class), length N. */
  blocks: Int32Array;
}

/**
 * Sample a stochastic block model: nodes 0 .. N − 1 are split into blocks
 * of the given sizes (in order), and each pair i < j is joined,
 * independently, with probability `P[block(i)][block(j)]` — `pIn` on the
 * diagonal and `pOut` off it in the two-level form. The graph is
 * undirected, unweighted and has no self-loops.
 *
 * Options: `seed` (default 0) or `random`. The pairs are visited in the
 * order (i, j) with i < j lexicographically, one uniform draw each, so the
 * same seed gives the same graph. Raises `ConfigError` for sizes that are
 * not non-negative integers, probabilities outside [0, 1], or a matrix
 * that is not square, of the block count, and symmetric.
 *
 * LIMITATION: every pair gets its own draw, O(N²) time; sparse graphs on
 * much more than 10⁴ nodes would want geometric skipping, not done here.
 */
export function stochasticBlockModel(
  spec: SbmTwoLevel | SbmMatrix,
  options: RandomOptions = {},
): StochasticBlockModel {
  const fn = "stochasticBlockModel";
  const { sizes } = spec;
  if (!Array.isArray(sizes) || sizes.length === 0) {
    throw new ConfigError(`${fn}: sizes must be a non-empty array`);
  }
  for (let a = 0; a < sizes.length; a++) {
    checkCount(fn, `sizes[${a}]`, sizes[a]);
  }
  const numBlocks = sizes.length;
  const checkP = (name: string, p: number) => {
    if (!(p >= 0 && p <= 1)) {
      throw new ConfigError(`${fn}: ${name} must lie in [0, 1], got ${p}`);
    }
  };

  // the block-by-block probability matrix
  const prob = new Float64Array(numBlocks * numBlocks);
  if ("probabilities" in spec) {
    const m = spec.probabilities;
    if (m.length !== numBlocks || m.some((r) => r.length !== numBlocks)) {
      throw new ConfigError(
        `${fn}: probabilities must be ${numBlocks} × ${numBlocks}, one ` +
          "row and column per block",
      );
    }
    for (let a = 0; a < numBlocks; a++) {
      for (let b = 0; b < numBlocks; b++) {
        checkP(`probabilities[${a}][${b}]`, m[a][b]);
        if (m[a][b] !== m[b][a]) {
          throw new ConfigError(
            `${fn}: probabilities must be symmetric, got ` +
              `[${a}][${b}] = ${m[a][b]} and [${b}][${a}] = ${m[b][a]}`,
          );
        }
        prob[a * numBlocks + b] = m[a][b];
      }
    }
  } else {
    checkP("pIn", spec.pIn);
    checkP("pOut", spec.pOut);
    for (let a = 0; a < numBlocks; a++) {
      for (let b = 0; b < numBlocks; b++) {
        prob[a * numBlocks + b] = a === b ? spec.pIn : spec.pOut;
      }
    }
  }

  const n = sizes.reduce((s, x) => s + x, 0);
  const blocks = new Int32Array(n);
  let offset = 0;
  sizes.forEach((s, a) => {
    blocks.fill(a, offset, offset + s);
    offset += s;
  });

  const random = resolveRandom(options);
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = blocks[i] * numBlocks;
    for (let j = i + 1; j < n; j++) {
      if (random() < prob[row + blocks[j]]) {
        src.push(i, j);
        dst.push(j, i);
      }
    }
  }
  return { graph: Graph.fromEdges(src, dst, { numNodes: n }), blocks };
}

// ---------------------------------------------------------------------
// Gaussian mixture

/** Options of {@link gaussianMixture}. */
export interface GaussianMixtureSpec {
  /** Mean of each component; all of the same dimension. */
  means: number[][];
  /**
   * Variance σ² of each coordinate (isotropic covariance σ² I): one
   * number for every component, or one per component.
   */
  variance: number | number[];
  /** Number of points drawn from each component. */
  counts: number[];
}

/** Points drawn by {@link gaussianMixture}. */
export interface GaussianMixtureSample {
  /** Row-major coordinates, `n × dim`, float64. */
  points: Float64Array;
  /** Component of each point. */
  labels: Int32Array;
  /** Number of points, `Σ counts`. */
  n: number;
  /** Dimension of the points. */
  dim: number;
}

/**
 * Draw `counts[c]` points from each isotropic Gaussian `N(means[c], σ_c² I)`
 * — e.g. the Figure-1 data of the mpcl paper, two 2-D classes:
 * `{ means: [[-1, 0], [1, 0]], variance: 0.7, counts: [250, 250] }`.
 * Points come component by component (all of component 0 first), each
 * coordinate `mean + σ z` with z from {@link randomNormal}.
 *
 * Options: `seed` (default 0) or `random`; the same seed gives the same
 * points. Raises `ConfigError` for mismatched lengths, a negative or
 * non-finite variance, or counts that are not non-negative integers.
 */
export function gaussianMixture(
  spec: GaussianMixtureSpec,
  options: RandomOptions = {},
): GaussianMixtureSample {
  const fn = "gaussianMixture";
  const { means, counts } = spec;
  const k = means.length;
  if (k === 0) throw new ConfigError(`${fn}: means must not be empty`);
  const dim = means[0].length;
  if (dim === 0) {
    throw new ConfigError(`${fn}: means must have dimension >= 1, got 0`);
  }
  means.forEach((m, c) => {
    if (m.length !== dim || !m.every(Number.isFinite)) {
      throw new ConfigError(
        `${fn}: means[${c}] must hold ${dim} finite numbers, got [${m}]`,
      );
    }
  });
  if (counts.length !== k) {
    throw new ConfigError(
      `${fn}: counts must have one entry per mean (${k}), got ${counts.length}`,
    );
  }
  for (let c = 0; c < k; c++) checkCount(fn, `counts[${c}]`, counts[c]);
  const variances =
    typeof spec.variance === "number"
      ? new Array<number>(k).fill(spec.variance)
      : spec.variance;
  if (variances.length !== k) {
    throw new ConfigError(
      `${fn}: variance must be a number or one per mean (${k}), got ` +
        `${variances.length}`,
    );
  }
  variances.forEach((v, c) => {
    if (!(Number.isFinite(v) && v >= 0)) {
      throw new ConfigError(
        `${fn}: variance of component ${c} must be finite and >= 0, got ${v}`,
      );
    }
  });

  const random = resolveRandom(options);
  const n = counts.reduce((s, x) => s + x, 0);
  const points = new Float64Array(n * dim);
  const labels = new Int32Array(n);
  let i = 0;
  for (let c = 0; c < k; c++) {
    const sigma = Math.sqrt(variances[c]);
    for (let t = 0; t < counts[c]; t++, i++) {
      labels[i] = c;
      for (let a = 0; a < dim; a++) {
        points[i * dim + a] = means[c][a] + sigma * randomNormal(random);
      }
    }
  }
  return { points, labels, n, dim };
}

// ---------------------------------------------------------------------
// small named graphs (undirected, unweighted, no self-loops)

/** Build an undirected unweighted graph from pairs i — j. */
function undirected(n: number, pairs: Array<[number, number]>): Graph {
  const src: number[] = [];
  const dst: number[] = [];
  for (const [i, j] of pairs) {
    src.push(i, j);
    dst.push(j, i);
  }
  return Graph.fromEdges(src, dst, { numNodes: n });
}

/** The path 0 — 1 — … — (n − 1): n − 1 undirected edges. */
export function pathGraph(n: number): Graph {
  checkCount("pathGraph", "n", n);
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i + 1 < n; i++) pairs.push([i, i + 1]);
  return undirected(n, pairs);
}

/**
 * The cycle 0 — 1 — … — (n − 1) — 0 on n ≥ 3 nodes (n undirected edges).
 * Raises `ConfigError` for n < 3, where the cycle would need a loop or a
 * double edge.
 */
export function cycleGraph(n: number): Graph {
  checkCount("cycleGraph", "n", n, 3);
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) pairs.push([i, (i + 1) % n]);
  return undirected(n, pairs);
}

/** The complete graph K_n: every pair i ≠ j joined, n(n − 1)/2 edges. */
export function completeGraph(n: number): Graph {
  checkCount("completeGraph", "n", n);
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) pairs.push([i, j]);
  }
  return undirected(n, pairs);
}

/**
 * The star on n ≥ 1 nodes: centre 0 joined to each leaf 1 .. n − 1.
 */
export function starGraph(n: number): Graph {
  checkCount("starGraph", "n", n, 1);
  const pairs: Array<[number, number]> = [];
  for (let i = 1; i < n; i++) pairs.push([0, i]);
  return undirected(n, pairs);
}

/**
 * The complete bipartite graph K_{a,b}: nodes 0 .. a − 1 on one side,
 * a .. a + b − 1 on the other, every cross pair joined (a·b edges).
 */
export function completeBipartiteGraph(a: number, b: number): Graph {
  checkCount("completeBipartiteGraph", "a", a);
  checkCount("completeBipartiteGraph", "b", b);
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) pairs.push([i, a + j]);
  }
  return undirected(a + b, pairs);
}
