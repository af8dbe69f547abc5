/**
 * Seeded random inputs and small dense reference computations shared by
 * the spectral and clustering tests. Kept deliberately naive: they are the
 * independent side of each comparison.
 */

import { Graph } from "../../src/graph/graph.js";
import { mulberry32 } from "../../src/random.js";

/** Mulberry32: a seeded PRNG returning floats in [0, 1). */
export const seededRandom: (seed: number) => () => number = mulberry32;

/**
 * An undirected planted partition (stochastic block model): `blocks`
 * groups of `size` nodes, each pair joined with probability pIn inside a
 * group and pOut across, drawn in pair order from `seededRandom(seed)`.
 */
export function plantedPartition(
  seed: number,
  blocks: number,
  size: number,
  pIn: number,
  pOut: number,
): Graph {
  const rand = seededRandom(seed);
  const n = blocks * size;
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const same = Math.floor(i / size) === Math.floor(j / size);
      if (rand() < (same ? pIn : pOut)) {
        src.push(i, j);
        dst.push(j, i);
      }
    }
  }
  return Graph.fromEdges(src, dst, { numNodes: n });
}

/** Standard normal samples by Box–Muller. */
export function gaussian(rand: () => number): () => number {
  return () => {
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/** An n × m row-major matrix of standard normal entries. */
export function randomMatrix(
  rand: () => number,
  n: number,
  m: number,
): Float64Array {
  const g = gaussian(rand);
  const out = new Float64Array(n * m);
  for (let i = 0; i < out.length; i++) out[i] = g();
  return out;
}

/** A random symmetric n × n matrix (B + Bᵀ) / 2, B standard normal. */
export function randomSymmetric(rand: () => number, n: number): Float64Array {
  const b = randomMatrix(rand, n, n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++)
      a[i * n + j] = (b[i * n + j] + b[j * n + i]) / 2;
  }
  return a;
}

/** The nested-array view of a row-major matrix. */
export function toRows(a: ArrayLike<number>, n: number, m: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const r: number[] = [];
    for (let j = 0; j < m; j++) r.push(a[i * m + j]);
    rows.push(r);
  }
  return rows;
}

/** C = A B for row-major A (n × p) and B (p × m). */
export function matmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  n: number,
  p: number,
  m: number,
): Float64Array {
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < p; l++) {
      const ail = a[i * p + l];
      for (let j = 0; j < m; j++) c[i * m + j] += ail * b[l * m + j];
    }
  }
  return c;
}

/** Aᵀ for a row-major n × m matrix. */
export function transpose(
  a: ArrayLike<number>,
  n: number,
  m: number,
): Float64Array {
  const t = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) t[j * n + i] = a[i * m + j];
  }
  return t;
}

/** Largest absolute entry of a − b. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Columns j0..j1−1 of a row-major n × m matrix, as an n × (j1−j0) one. */
export function columns(
  a: ArrayLike<number>,
  n: number,
  m: number,
  j0: number,
  j1: number,
): Float64Array {
  const k = j1 - j0;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) out[i * k + j] = a[i * m + j0 + j];
  }
  return out;
}

/**
 * ‖U Uᵀ − V Vᵀ‖_F / √2 for n × k matrices with orthonormal columns,
 * computed by forming both n × n projectors.
 */
export function projectorDistance(
  u: ArrayLike<number>,
  v: ArrayLike<number>,
  n: number,
  k: number,
): number {
  const pu = matmul(u, transpose(u, n, k), n, k, n);
  const pv = matmul(v, transpose(v, n, k), n, k, n);
  let s = 0;
  for (let i = 0; i < n * n; i++) s += (pu[i] - pv[i]) ** 2;
  return Math.sqrt(s / 2);
}

/** The dense Laplacian D − A of an undirected simple graph's edge list. */
export function laplacian(n: number, edges: [number, number][]): Float64Array {
  const l = new Float64Array(n * n);
  for (const [u, v] of edges) {
    l[u * n + v] -= 1;
    l[v * n + u] -= 1;
    l[u * n + u] += 1;
    l[v * n + v] += 1;
  }
  return l;
}

/**
 * A seeded Erdős–Rényi graph G(n, p) stored as two directed edges per
 * undirected one, optionally with weights in [0.5, 1.5), and its dense
 * symmetric adjacency (no self-loops).
 */
export function randomUndirectedGraph(
  rand: () => number,
  n: number,
  p: number,
  weighted = false,
): { graph: Graph; dense: Float64Array } {
  const src: number[] = [];
  const dst: number[] = [];
  const w: number[] = [];
  const dense = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (rand() >= p) continue;
      const weight = weighted ? Math.fround(0.5 + rand()) : 1;
      src.push(i, j);
      dst.push(j, i);
      w.push(weight, weight);
      dense[i * n + j] = weight;
      dense[j * n + i] = weight;
    }
  }
  const graph = Graph.fromEdges(src, dst, {
    numNodes: n,
    weights: weighted ? w : null,
  });
  return { graph, dense };
}

/** Rows scaled to unit norm, as plain arrays. */
export function unitRows(x: Float64Array, n: number, k: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from(x.subarray(i * k, (i + 1) * k));
    const norm = Math.hypot(...row);
    out.push(row.map((v) => v / norm));
  }
  return out;
}
