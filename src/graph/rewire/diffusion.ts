/**
 * Graph diffusion convolution (GDC) rewiring, following Gasteiger,
 * Weißenberger & Günnemann, "Diffusion Improves Graph Learning" (NeurIPS
 * 2019): the graph is replaced by a sparsified generalized graph
 * diffusion S = Σ_k θ_k T^k of its transition matrix T, with personalized
 * PageRank (θ_k = α (1 − α)^k) or heat kernel (θ_k = e^{−t} t^k / k!)
 * coefficients, then renormalized.
 *
 * Columns of S are computed one source node at a time on sparse vectors
 * (a truncated power series in the manner of the "push" methods of
 * Andersen, Chung & Lang 2006), so memory grows with the kept entries,
 * never with N². Pure typed-array code; no TF.js here.
 */

import { ConfigError, GraphError } from "../../errors.js";
import { Graph } from "../graph.js";
import { addSelfLoops, normalize } from "../transforms.js";

/** How the diffused matrix is made sparse, per column (source node). */
export type Sparsification = { topK: number } | { threshold: number };

/** Options of {@link diffusionMatrix}. */
export interface DiffusionMatrixOptions {
  /** Diffusion coefficients (default `"ppr"`). */
  kernel?: "ppr" | "heat";
  /** Teleport probability α of PPR, in (0, 1) (default 0.15). */
  alpha?: number;
  /** Diffusion time t of the heat kernel, > 0 (default 5). */
  t?: number;
  /**
   * Transition matrix (default `"sym"`): `"sym"` is
   * T = D^{-1/2} Ã D^{-1/2}, `"col"` is the column-stochastic random
   * walk T = Ã D^{-1}, with Ã = A + w I (w the `selfLoopWeight`) and D
   * the column sums (out-degrees) of Ã.
   */
  transition?: "sym" | "col";
  /** Weight w of the self-loops added before diffusing (default 1). */
  selfLoopWeight?: number;
  /**
   * Truncation ε (default 1e-4, as PyTorch Geometric's GDC): PPR pushes
   * only residuals r_u ≥ ε d_u; the heat series drops entries of
   * θ_k (Ã D^{-1})^k e_j below ε. See {@link diffusionMatrix} for
   * the resulting error.
   */
  epsilon?: number;
  /**
   * Most terms of the heat series (default: the smallest K whose tail
   * Σ_{k>K} θ_k is at most ε, capped at 10,000). Unused by PPR.
   */
  maxTerms?: number;
  /**
   * Sparsification of every column (default `{ topK: 64 }`, as in GDC's
   * experiments): the `topK` largest entries (ties to the smaller row
   * index), or every entry ≥ `threshold` (`{ threshold: 0 }` keeps all
   * computed entries).
   */
  sparsify?: Sparsification;
  /** Keep the diagonal entries S_ii (default true, as GDC). */
  selfLoops?: boolean;
}

/** What {@link diffusionMatrix} returns. */
export interface DiffusionMatrix {
  /** The sparsified S as a weighted graph: edge j → i carries S[i, j]. */
  matrix: Graph;
  /**
   * ℓ1 error of every column j of the random-walk diffusion
   * S_col = Σ_k θ_k (Ã D^{-1})^k before sparsification:
   * `‖S_col e_j − Ŝ_col e_j‖₁ = 1 − Σ_i Ŝ_col[i, j]` (exact, since every
   * term is non-negative and S_col's columns sum to 1).
   */
  columnError: Float64Array;
  /** The number of heat series terms K used (0 for PPR). */
  terms: number;
}

/**
 * The generalized graph diffusion S = Σ_{k=0}^{K} θ_k T^k of `graph`
 * (GDC, Gasteiger et al. 2019, Eq. 1), column by column, sparsified.
 *
 * Method, for each source j, with P = Ã D^{-1} (column-stochastic):
 *
 * - PPR: the push method of Andersen, Chung & Lang (2006): an estimate p
 *   and a residual r = e_j; while some r_u ≥ ε d_u, p_u += α r_u and
 *   (1 − α) r_u P e_u is added to r in place of r_u. Then
 *   S_col e_j = p + S_col r exactly, so the ℓ1 error is ‖r‖₁ < ε Σ d;
 *   for a symmetric graph each entry obeys
 *   0 ≤ S_col[i, j] − p_i < ε d_i. Work per column O(1 / (α ε)).
 * - heat: the series w_0 = θ_0 e_j, w_{k+1} = (θ_{k+1} / θ_k) P w_k up
 *   to K, entries of w_{k+1} below ε dropped, Ŝ_col e_j = Σ_k w_k
 *   (the support of w_k never exceeds θ_k / ε entries).
 *   The ℓ1 error is the Poisson tail P(X > K), X ~ Pois(t) (≤ ε with the
 *   default K), plus the mass dropped.
 *
 * Every computed entry underestimates the exact one, and the ℓ1 error
 * of each column of S_col is returned in `columnError`. For `"sym"`,
 * S_sym = D^{-1/2} S_col D^{1/2}, i.e. Ŝ_sym[i, j] =
 * Ŝ_col[i, j] · sqrt(d_j / d_i). The sparsification then runs on the
 * entries of the chosen transition, column by column.
 *
 * @param graph - N nodes, non-negative weights (1 when unweighted).
 * @throws ConfigError for options out of range; GraphError when a node
 *   of Ã has out-degree 0 (possible only with `selfLoopWeight: 0`).
 */
export function diffusionMatrix(
  graph: Graph,
  options: DiffusionMatrixOptions = {},
): DiffusionMatrix {
  const fn = "diffusionMatrix";
  const o = checkOptions(fn, options);
  const n = graph.numNodes;

  // first Ã and its out-degrees
  const withLoops =
    o.selfLoopWeight > 0
      ? addSelfLoops(graph, { weight: o.selfLoopWeight })
      : graph;
  const degree = withLoops.outDegrees();
  for (let j = 0; j < n; j++) {
    if (!(degree[j] > 0)) {
      throw new GraphError(
        `${fn}: node ${j} has out-degree ${degree[j]} in A + ` +
          `${o.selfLoopWeight} I; the transition needs positive degrees`,
      );
    }
  }
  const { colPtr, rowIdx, weights } = withLoops.sourceCSR;

  // the coefficients θ_k and the number of terms K (heat kernel)
  const theta: number[] = [];
  const terms =
    o.kernel === "ppr" ? 0 : (o.maxTerms ?? termsFor(o.alpha, o.t, o.epsilon));
  for (let k = 0; k <= terms; k++) theta.push(heatCoefficient(o.t, k));

  // scratch: dense vectors with lists of their non-zero positions
  const current = new Float64Array(n);
  const next = new Float64Array(n);
  const sum = new Float64Array(n);
  let currentList: number[] = [];
  let nextList: number[] = [];
  const sumList: number[] = [];
  const inNext = new Uint8Array(n);
  const inSum = new Uint8Array(n);
  const queue = new Int32Array(n);
  const queued = new Uint8Array(n);

  const outSrc: number[] = [];
  const outDst: number[] = [];
  const outW: number[] = [];
  const columnError = new Float64Array(n);
  const keep: number[] = [];
  const addToSum = (i: number, v: number): void => {
    if (inSum[i] === 0) {
      inSum[i] = 1;
      sumList.push(i);
    }
    sum[i] += v;
  };

  for (let j = 0; j < n; j++) {
    if (o.kernel === "ppr") {
      // push (Andersen, Chung & Lang 2006) on the residual r (in
      // `current`): while some r_u ≥ ε d_u, move α r_u to the estimate and
      // spread (1 − α) r_u along P e_u; the queue is circular and holds
      // each node at most once
      current[j] = 1;
      currentList = [j];
      let head = 0;
      let size = 0;
      if (1 >= o.epsilon * degree[j]) {
        queue[0] = j;
        queued[j] = 1;
        size = 1;
      }
      while (size > 0) {
        const u = queue[head];
        head = head + 1 === n ? 0 : head + 1;
        size--;
        queued[u] = 0;
        const ru = current[u];
        current[u] = 0;
        addToSum(u, o.alpha * ru);
        const scale = ((1 - o.alpha) * ru) / degree[u];
        for (let p = colPtr[u]; p < colPtr[u + 1]; p++) {
          const v = rowIdx[p];
          if (current[v] === 0) currentList.push(v);
          current[v] += scale * (weights === null ? 1 : weights[p]);
          if (queued[v] === 0 && current[v] >= o.epsilon * degree[v]) {
            queued[v] = 1;
            queue[(head + size) % n] = v;
            size++;
          }
        }
      }
      for (const u of currentList) current[u] = 0;
      currentList = [];
    } else {
      // the heat series: w_0 = θ_0 e_j, w_{k+1} = (θ_{k+1} / θ_k) P w_k,
      // entries below ε dropped
      current[j] = theta[0];
      currentList = [j];
      addToSum(j, theta[0]);
      for (let k = 0; k < terms && currentList.length > 0; k++) {
        // NOTE: θ_k underflows to 0 for k ≫ t: the series has then ended
        // in float64
        if (theta[k + 1] === 0) break;
        const ratio = theta[k + 1] / theta[k];
        for (const u of currentList) {
          const scale = (ratio * current[u]) / degree[u];
          for (let p = colPtr[u]; p < colPtr[u + 1]; p++) {
            const i = rowIdx[p];
            if (inNext[i] === 0) {
              inNext[i] = 1;
              nextList.push(i);
            }
            next[i] += scale * (weights === null ? 1 : weights[p]);
          }
          current[u] = 0;
        }
        currentList = [];
        for (const i of nextList) {
          inNext[i] = 0;
          const v = next[i];
          next[i] = 0;
          if (v < o.epsilon) continue;
          current[i] = v;
          currentList.push(i);
          addToSum(i, v);
        }
        nextList = [];
      }
      for (const u of currentList) current[u] = 0;
    }

    // the column's error, then its entries in the chosen transition
    let mass = 0;
    for (const i of sumList) mass += sum[i];
    columnError[j] = Math.max(0, 1 - mass);
    keep.length = 0;
    for (const i of sumList) {
      if (i === j && !o.selfLoops) continue;
      if (o.transition === "sym") sum[i] *= Math.sqrt(degree[j] / degree[i]);
      keep.push(i);
    }
    sparsifyColumn(keep, sum, o.sparsify);
    for (const i of keep) {
      outSrc.push(j);
      outDst.push(i);
      outW.push(sum[i]);
    }
    for (const i of sumList) {
      sum[i] = 0;
      inSum[i] = 0;
    }
    sumList.length = 0;
  }

  const matrix = Graph.fromEdges(outSrc, outDst, {
    numNodes: n,
    weights: outW,
  });
  return { matrix, columnError, terms };
}

/** Options of {@link diffusionRewire}. */
export interface DiffusionRewireOptions extends DiffusionMatrixOptions {
  /**
   * Normalization of the sparsified S̃ (default `"sym"`, GDC's
   * D^{-1/2} S̃ D^{-1/2} with D the row sums of S̃): `"col"` makes every
   * column sum to 1 (PyTorch Geometric's default), `"row"` every row,
   * `"none"` keeps S̃.
   */
  normalization?: "sym" | "col" | "row" | "none";
}

/**
 * GDC rewiring (Gasteiger et al. 2019): the graph whose edge j → i
 * carries the normalized entry of the sparsified diffusion S̃ (see
 * {@link diffusionMatrix}). The result is weighted, has N nodes, keeps
 * the diagonal unless `selfLoops` is false, and is symmetric up to the
 * truncation ε when the input is symmetric, the transition `"sym"`, the
 * sparsification a threshold and the normalization `"sym"` or `"none"`
 * (top-k per column is not symmetric in general).
 *
 * @throws as {@link diffusionMatrix}; ConfigError for an unknown
 *   normalization.
 */
export function diffusionRewire(
  graph: Graph,
  options: DiffusionRewireOptions = {},
): Graph {
  const fn = "diffusionRewire";
  const normalization = options.normalization ?? "sym";
  if (!["sym", "col", "row", "none"].includes(normalization)) {
    throw new ConfigError(
      `${fn}: normalization must be "sym", "col", "row" or "none", got ` +
        `${String(normalization)}`,
    );
  }
  const { matrix } = diffusionMatrix(graph, options);
  if (normalization === "none") return matrix;
  return normalize(matrix, normalization === "row" ? "rw" : normalization);
}

/** Checked options with their defaults. */
interface Checked {
  kernel: "ppr" | "heat";
  alpha: number;
  t: number;
  transition: "sym" | "col";
  selfLoopWeight: number;
  epsilon: number;
  maxTerms: number | undefined;
  sparsify: Sparsification;
  selfLoops: boolean;
}

/** Check the options of {@link diffusionMatrix}; `fn` names the caller. */
function checkOptions(fn: string, options: DiffusionMatrixOptions): Checked {
  const kernel = options.kernel ?? "ppr";
  if (kernel !== "ppr" && kernel !== "heat") {
    throw new ConfigError(
      `${fn}: kernel must be "ppr" or "heat", got ${String(kernel)}`,
    );
  }
  const alpha = options.alpha ?? 0.15;
  if (!(alpha > 0 && alpha < 1)) {
    throw new ConfigError(`${fn}: alpha must be in (0, 1), got ${alpha}`);
  }
  const t = options.t ?? 5;
  if (!(t > 0 && t < 700)) {
    throw new ConfigError(`${fn}: t must be in (0, 700), got ${t}`);
  }
  const transition = options.transition ?? "sym";
  if (transition !== "sym" && transition !== "col") {
    throw new ConfigError(
      `${fn}: transition must be "sym" or "col", got ${String(transition)}`,
    );
  }
  const selfLoopWeight = options.selfLoopWeight ?? 1;
  if (!(selfLoopWeight >= 0 && selfLoopWeight < Infinity)) {
    throw new ConfigError(
      `${fn}: selfLoopWeight must be finite and >= 0, got ${selfLoopWeight}`,
    );
  }
  const epsilon = options.epsilon ?? 1e-4;
  if (!(epsilon > 0 && epsilon < 1)) {
    throw new ConfigError(`${fn}: epsilon must be in (0, 1), got ${epsilon}`);
  }
  const maxTerms = options.maxTerms;
  if (
    maxTerms !== undefined &&
    !(Number.isInteger(maxTerms) && maxTerms >= 0 && maxTerms <= 100_000)
  ) {
    throw new ConfigError(
      `${fn}: maxTerms must be an integer in [0, 100000], got ${maxTerms}`,
    );
  }
  const sparsify = options.sparsify ?? { topK: 64 };
  if ("topK" in sparsify) {
    if (!(Number.isInteger(sparsify.topK) && sparsify.topK >= 1)) {
      throw new ConfigError(
        `${fn}: sparsify.topK must be a positive integer, got ` +
          `${sparsify.topK}`,
      );
    }
  } else if ("threshold" in sparsify) {
    if (!(sparsify.threshold >= 0 && sparsify.threshold < Infinity)) {
      throw new ConfigError(
        `${fn}: sparsify.threshold must be finite and >= 0, got ` +
          `${sparsify.threshold}`,
      );
    }
  } else {
    throw new ConfigError(
      `${fn}: sparsify must be { topK } or { threshold }, got ` +
        `${JSON.stringify(sparsify)}`,
    );
  }
  const selfLoops = options.selfLoops ?? true;
  return {
    kernel,
    alpha,
    t,
    transition,
    selfLoopWeight,
    epsilon,
    maxTerms,
    sparsify,
    selfLoops,
  };
}

/** θ_k = e^{−t} t^k / k! of the heat kernel, in log space. */
function heatCoefficient(t: number, k: number): number {
  let logFactorial = 0;
  for (let m = 2; m <= k; m++) logFactorial += Math.log(m);
  return Math.exp(-t + k * Math.log(t) - logFactorial);
}

/** The smallest K with Σ_{k>K} θ_k ≤ ε for the heat kernel, ≤ 10,000. */
function termsFor(_alpha: number, t: number, epsilon: number): number {
  let head = 0;
  for (let k = 0; k < 10_000; k++) {
    head += heatCoefficient(t, k);
    if (1 - head <= epsilon) return k;
  }
  return 10_000;
}

/**
 * Keep, in `rows`, the entries of one column that the sparsification
 * keeps, in increasing row order.
 */
function sparsifyColumn(
  rows: number[],
  values: Float64Array,
  sparsify: Sparsification,
): void {
  if ("threshold" in sparsify) {
    let m = 0;
    for (const i of rows) if (values[i] >= sparsify.threshold) rows[m++] = i;
    rows.length = m;
  } else if (rows.length > sparsify.topK) {
    rows.sort((a, b) => values[b] - values[a] || a - b);
    rows.length = sparsify.topK;
  }
  rows.sort((a, b) => a - b);
}
