/**
 * Stochastic Discrete Ricci Flow (SDRF) and the Balanced Forman curvature
 * it is driven by, following Topping, Di Giovanni, Chamberlain, Dong &
 * Bronstein, "Understanding over-squashing and bottlenecks on graphs via
 * curvature" (ICLR 2022): Definition 1 for the curvature, Algorithm 1 for
 * the flow. Edges of very negative curvature are bottlenecks that cause
 * over-squashing; SDRF adds an edge next to the most negatively curved
 * edge (the one that raises its curvature most, sampled by a softmax) and
 * removes the most positively curved edge when above a bound.
 *
 * Both work on simple undirected graphs: adjacency sets, typed arrays
 * only, no TF.js.
 */

import { ConfigError, GraphError } from "../../errors.js";
import { type RandomOptions, resolveRandom } from "../../random.js";
import { Graph } from "../graph.js";
import { isSymmetric } from "../transforms.js";

/** Neighbour sets of a simple undirected graph. */
type Adjacency = Set<number>[];

/**
 * The neighbour sets of a structurally symmetric graph, self-loops and
 * duplicates dropped. Raises `GraphError` for a directed graph.
 */
function adjacencyOf(fn: string, graph: Graph): Adjacency {
  if (!isSymmetric(graph.withWeights(null))) {
    throw new GraphError(
      `${fn}: the graph must be undirected (every i → j with a j → i), ` +
        "got a directed graph; symmetrize it first",
    );
  }
  const adj: Adjacency = Array.from(
    { length: graph.numNodes },
    () => new Set<number>(),
  );
  const { rowPtr, colIdx } = graph;
  for (let i = 0; i < graph.numNodes; i++) {
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      if (colIdx[e] !== i) adj[i].add(colIdx[e]);
    }
  }
  return adj;
}

/**
 * The Balanced Forman curvature Ric(i, j) of the edge i — j (Topping et
 * al. 2022, Definition 1), with d_i, d_j the degrees:
 *
 *   Ric(i, j) = 2/d_i + 2/d_j − 2 + 2 |♯Δ| / max(d_i, d_j)
 *               + |♯Δ| / min(d_i, d_j)
 *               + (|♯□ⁱ| + |♯□ʲ|) / (γ_max · max(d_i, d_j)),
 *
 * and 0 when min(d_i, d_j) = 1. ♯Δ are the triangles on i — j (common
 * neighbours); ♯□ⁱ are the neighbours k of i, k ≠ j, not adjacent to j,
 * that start a 4-cycle i — k — w — j without diagonals (some w ≠ i
 * adjacent to k and j but not to i); ♯□ʲ likewise from j; γ_max is the
 * largest number of such w for one k (the last term is 0 without
 * 4-cycles).
 */
function curvatureOf(adj: Adjacency, i: number, j: number): number {
  const si = adj[i];
  const sj = adj[j];
  const di = si.size;
  const dj = sj.size;
  if (Math.min(di, dj) <= 1) return 0;
  const dMax = Math.max(di, dj);
  const dMin = Math.min(di, dj);

  let triangles = 0;
  for (const k of si) if (sj.has(k)) triangles++;

  // the 4-cycles seen from one end a of the edge a — b
  let gammaMax = 0;
  const squares = (a: number, b: number): number => {
    const sa = adj[a];
    const sb = adj[b];
    let count = 0;
    for (const k of sa) {
      if (k === b || sb.has(k)) continue;
      let through = 0;
      for (const w of adj[k]) {
        if (w !== a && sb.has(w) && !sa.has(w)) through++;
      }
      if (through > 0) {
        count++;
        if (through > gammaMax) gammaMax = through;
      }
    }
    return count;
  };
  const cycles = squares(i, j) + squares(j, i);

  let ric = 2 / di + 2 / dj - 2 + (2 * triangles) / dMax + triangles / dMin;
  if (gammaMax > 0) ric += cycles / (gammaMax * dMax);
  return ric;
}

/**
 * The Balanced Forman curvature of every edge of an undirected graph, in
 * CSR order (twin edges i → j and j → i get the same value; self-loops
 * get 0 and are otherwise ignored, as are duplicates and weights). See
 * `curvatureOf` in this file for the formula (Topping et al. 2022,
 * Definition 1). For example: 0 on a tree edge with a leaf, 2/d_i + 2/d_j
 * − 2 on other tree edges, n/(n − 1) on the complete graph K_n, 1 on the
 * 4-cycle and 0 on longer cycles.
 *
 * @throws GraphError when the graph is not structurally symmetric.
 */
export function balancedFormanCurvature(graph: Graph): Float64Array {
  const adj = adjacencyOf("balancedFormanCurvature", graph);
  const out = new Float64Array(graph.numEdges);
  const { rowPtr, colIdx } = graph;
  for (let i = 0; i < graph.numNodes; i++) {
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      const j = colIdx[e];
      out[e] = j === i ? 0 : curvatureOf(adj, Math.min(i, j), Math.max(i, j));
    }
  }
  return out;
}

/** One step of {@link sdrf}, handed to `onStep`. */
export interface SdrfStep {
  /** Iteration number, from 0. */
  iteration: number;
  /** The most negatively curved edge [i, j] (i < j) and its curvature. */
  target: [number, number];
  minCurvature: number;
  /** The edge [k, l] added (k < l), or null when no candidate existed. */
  added: [number, number] | null;
  /** The edge [u, v] removed (u < v), or null. */
  removed: [number, number] | null;
}

/** Options of {@link sdrf}. */
export interface SdrfOptions extends RandomOptions {
  /** Number of iterations (default 10, as the authors' code). */
  iterations?: number;
  /**
   * Temperature τ of the softmax over candidate improvements (default 1,
   * as the authors' code; large τ picks the best candidate).
   */
  tau?: number;
  /**
   * C⁺: the most positively curved edge is removed when its curvature
   * exceeds this bound (default 0.5, as the authors' code).
   */
  removalBound?: number;
  /** Whether edges are removed at all (default true). */
  removeEdges?: boolean;
  /** Called after every iteration with what it did. */
  onStep?: (step: SdrfStep) => void;
}

/**
 * Stochastic Discrete Ricci Flow (Topping et al. 2022, Algorithm 1). Each
 * iteration:
 *
 * 1. finds the edge i — j of least Balanced Forman curvature (ties: the
 *    smallest (i, j));
 * 2. for every non-edge k — l with k ∈ B₁(i), l ∈ B₁(j), k ≠ l (B₁ the
 *    node and its neighbours) computes the improvement
 *    x_kl = Ric'(i, j) − Ric(i, j), Ric' with k — l added, and adds one
 *    candidate drawn with probability softmax(τ x)_kl (candidates in
 *    increasing (k, l) order, one uniform draw);
 * 3. when `removeEdges`, removes the edge of greatest curvature (ties:
 *    the smallest pair) if that curvature exceeds `removalBound`.
 *
 * The result is undirected, unweighted, without self-loops or duplicate
 * edges, on the same N nodes; its number of undirected edges is the
 * input's (simple) count plus the additions minus the removals.
 *
 * LIMITATION: curvatures are recomputed for every edge at every step,
 * O(E · d_max²) per iteration: fine for thousands of iterations on
 * Cora-sized graphs, slow on graphs with very high degrees. Weights,
 * self-loops and duplicate edges of the input are dropped.
 *
 * @throws GraphError for a directed graph; ConfigError for bad options.
 */
export function sdrf(graph: Graph, options: SdrfOptions = {}): Graph {
  const fn = "sdrf";
  const iterations = options.iterations ?? 10;
  const tau = options.tau ?? 1;
  const removalBound = options.removalBound ?? 0.5;
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new ConfigError(
      `${fn}: iterations must be a non-negative integer, got ${iterations}`,
    );
  }
  if (!(tau > 0 && tau < Infinity)) {
    throw new ConfigError(`${fn}: tau must be positive and finite, got ${tau}`);
  }
  if (typeof removalBound !== "number" || Number.isNaN(removalBound)) {
    throw new ConfigError(
      `${fn}: removalBound must be a number, got ${removalBound}`,
    );
  }
  const removeEdges = options.removeEdges ?? true;
  const random = resolveRandom(options);
  const adj = adjacencyOf(fn, graph);
  const n = graph.numNodes;

  // the edges (i < j) in increasing order, with their curvatures
  const edges = (): Array<[number, number]> => {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) {
      const row = [...adj[i]].filter((j) => j > i).sort((a, b) => a - b);
      for (const j of row) out.push([i, j]);
    }
    return out;
  };
  const extreme = (sign: 1 | -1): [number, number, number] | null => {
    let best: [number, number, number] | null = null;
    for (const [i, j] of edges()) {
      const c = curvatureOf(adj, i, j);
      if (best === null || sign * c > sign * best[2]) best = [i, j, c];
    }
    return best;
  };

  for (let iteration = 0; iteration < iterations; iteration++) {
    const least = extreme(-1);
    if (least === null) break;
    const [i, j, ric] = least;

    // candidate edges k — l around i — j and their improvements
    const ballI = [i, ...adj[i]].sort((a, b) => a - b);
    const ballJ = [j, ...adj[j]].sort((a, b) => a - b);
    const seen = new Set<number>();
    const candidates: Array<[number, number]> = [];
    for (const k of ballI) {
      for (const l of ballJ) {
        if (k === l || adj[k].has(l)) continue;
        const lo = Math.min(k, l);
        const hi = Math.max(k, l);
        if (seen.has(lo * n + hi)) continue;
        seen.add(lo * n + hi);
        candidates.push([lo, hi]);
      }
    }
    candidates.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const improvement = candidates.map(([k, l]) => {
      adj[k].add(l);
      adj[l].add(k);
      const x = curvatureOf(adj, i, j) - ric;
      adj[k].delete(l);
      adj[l].delete(k);
      return x;
    });

    // then one draw from softmax(τ x)
    let added: [number, number] | null = null;
    if (candidates.length > 0) {
      const top = Math.max(...improvement);
      const p = improvement.map((x) => Math.exp(tau * (x - top)));
      let u = random() * p.reduce((a, b) => a + b, 0);
      let pick = candidates.length - 1;
      for (let c = 0; c < p.length; c++) {
        u -= p[c];
        if (u < 0) {
          pick = c;
          break;
        }
      }
      added = candidates[pick];
      adj[added[0]].add(added[1]);
      adj[added[1]].add(added[0]);
    }

    // finally the removal of the most positively curved edge
    let removed: [number, number] | null = null;
    if (removeEdges) {
      const most = extreme(1);
      if (most !== null && most[2] > removalBound) {
        removed = [most[0], most[1]];
        adj[most[0]].delete(most[1]);
        adj[most[1]].delete(most[0]);
      }
    }
    options.onStep?.({
      iteration,
      target: [i, j],
      minCurvature: ric,
      added,
      removed,
    });
  }

  // the rewired graph, both directions of every edge
  const src: number[] = [];
  const dst: number[] = [];
  for (const [i, j] of edges()) {
    src.push(i, j);
    dst.push(j, i);
  }
  return Graph.fromEdges(src, dst, { numNodes: n });
}
