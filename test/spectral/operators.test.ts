/**
 * The graph operators of src/spectral/operators.ts against dense matrices
 * built here from the edge list (not through the Graph or the operator
 * code), their products against dense products, and their errors.
 */

import { describe, expect, it } from "vitest";
import {
  ConfigError,
  GraphError,
  type MpclError,
  ShapeError,
} from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import {
  adjacencyOperator,
  csrMatmul64,
  DenseOperator,
  GRAPH_OPERATOR_KINDS,
  graphOperator,
  isSimilarToSymmetric,
  KERNEL,
  type KernelState,
  type LinearOperator,
  laplacianOperator,
  normalizedAdjacencyOperator,
  operatorToDense,
  runKernel,
  rwLaplacianOperator,
  SparseOperator,
  symLaplacianOperator,
} from "../../src/spectral/operators.js";
import { mulberry32 } from "../helpers/random.js";

/** An undirected weighted edge list: [u, v, w] with u ≤ v. */
type Edge = [number, number, number];

/**
 * A small undirected graph with weights, a self-loop, a repeated pair
 * (two parallel edges) and two isolated nodes (8 and 9).
 */
const N = 10;
const EDGES: Edge[] = [
  [0, 1, 1],
  [1, 2, 2.5],
  [2, 3, 0.5],
  [3, 0, 1],
  [0, 2, 3],
  [4, 5, 1],
  [5, 6, 2],
  [6, 6, 1.5],
  [6, 7, 1],
  [4, 7, 0.25],
  [4, 7, 0.75],
];

/** The Graph with both directions of every edge (a loop once). */
function buildGraph(edges: Edge[], n: number): Graph {
  const src: number[] = [];
  const dst: number[] = [];
  const w: number[] = [];
  for (const [u, v, x] of edges) {
    src.push(u);
    dst.push(v);
    w.push(x);
    if (u !== v) {
      src.push(v);
      dst.push(u);
      w.push(x);
    }
  }
  return Graph.fromEdges(src, dst, { numNodes: n, weights: w });
}

/** Dense A straight from the edge list (parallel edges add up). */
function denseAdjacency(edges: Edge[], n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (const [u, v, w] of edges) {
    a[u * n + v] += w;
    if (u !== v) a[v * n + u] += w;
  }
  return a;
}

/** Row sums of a dense matrix. */
function rowSums(a: Float64Array, n: number): Float64Array {
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) d[i] += a[i * n + j];
  }
  return d;
}

/** The reference matrices of every kind, from the conventions stated. */
function reference(kind: string, edges: Edge[], n: number): Float64Array {
  const a = denseAdjacency(edges, n);
  const d = rowSums(a, n);
  const inv = (x: number) => (x > 0 ? 1 / Math.sqrt(x) : 0);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const aij = a[i * n + j];
      const id = i === j ? 1 : 0;
      const norm = inv(d[i]) * aij * inv(d[j]);
      if (kind === "adjacency") out[i * n + j] = aij;
      if (kind === "normalized-adjacency") out[i * n + j] = norm;
      if (kind === "laplacian") out[i * n + j] = id * d[i] - aij;
      if (kind === "sym-laplacian") out[i * n + j] = id - norm;
      if (kind === "rw-laplacian") {
        out[i * n + j] = id - (d[i] > 0 ? aij / d[i] : 0);
      }
    }
  }
  return out;
}

/** Dense row-major (n × n) times row-major (n × b). */
function denseTimes(
  a: Float64Array,
  n: number,
  x: Float64Array,
  b: number,
): Float64Array {
  const y = new Float64Array(n * b);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      for (let c = 0; c < b; c++) y[i * b + c] += a[i * n + j] * x[j * b + c];
    }
  }
  return y;
}

/** Largest absolute entry difference. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A seeded random vector or block. */
function randomArray(seed: number, length: number): Float64Array {
  const rng = mulberry32(seed);
  return Float64Array.from({ length }, () => 2 * rng() - 1);
}

/** Expect `fn` to throw an instance of `cls`. */
function expectThrows(
  fn: () => unknown,
  cls: new (...a: never[]) => MpclError,
) {
  let caught: unknown = null;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(cls);
}

describe("graph operators against dense references", () => {
  const graph = buildGraph(EDGES, N);

  for (const kind of GRAPH_OPERATOR_KINDS) {
    it(`${kind}: matrix, products with 1 to 5 vectors`, () => {
      const op = graphOperator(graph, kind);
      const ref = reference(kind, EDGES, N);
      expect(op.size).toBe(N);
      expect(maxDiff(op.toDense(), ref)).toBeLessThan(1e-14);

      for (let b = 1; b <= 5; b++) {
        const x = randomArray(10 + b, N * b);
        const y = new Float64Array(N * b);
        op.matmul(x, b, y);
        expect(maxDiff(y, denseTimes(ref, N, x, b))).toBeLessThan(1e-13);
      }
      const x = randomArray(3, N);
      const y = new Float64Array(N);
      op.matvec(x, y);
      expect(maxDiff(y, denseTimes(ref, N, x, 1))).toBeLessThan(1e-13);
    });
  }

  it("isolated nodes: zero row of Ā, 1 on the diagonal of L_sym and L_rw", () => {
    const abar = normalizedAdjacencyOperator(graph).toDense();
    const lsym = symLaplacianOperator(graph).toDense();
    const lrw = rwLaplacianOperator(graph).toDense();
    for (const i of [8, 9]) {
      for (let j = 0; j < N; j++) {
        expect(abar[i * N + j]).toBe(0);
        expect(lsym[i * N + j]).toBe(i === j ? 1 : 0);
        expect(lrw[i * N + j]).toBe(i === j ? 1 : 0);
      }
    }
    expect(
      maxDiff(
        lsym,
        abar.map((v, e) => (e % (N + 1) === 0 ? 1 : 0) - v),
      ),
    ).toBeLessThan(1e-15);
  });

  it("L_rw = S L_sym S⁻¹ with the documented similarity", () => {
    const rw = rwLaplacianOperator(graph);
    expect(isSimilarToSymmetric(rw)).toBe(true);
    const lsym = rw.symmetricPart.toDense();
    const s = rw.similarity;
    const d = rowSums(denseAdjacency(EDGES, N), N);
    for (let i = 0; i < N; i++) {
      expect(s[i]).toBeCloseTo(d[i] > 0 ? 1 / Math.sqrt(d[i]) : 1, 15);
    }
    const similar = new Float64Array(N * N);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        similar[i * N + j] = (s[i] * lsym[i * N + j]) / s[j];
      }
    }
    expect(maxDiff(similar, reference("rw-laplacian", EDGES, N))).toBeLessThan(
      1e-14,
    );
  });

  it("builders agree with graphOperator", () => {
    const pairs: [LinearOperator, string][] = [
      [adjacencyOperator(graph), "adjacency"],
      [normalizedAdjacencyOperator(graph), "normalized-adjacency"],
      [laplacianOperator(graph), "laplacian"],
      [symLaplacianOperator(graph), "sym-laplacian"],
    ];
    for (const [op, kind] of pairs) {
      expect((op as SparseOperator).kind).toBe(kind);
      expect(
        maxDiff(operatorToDense(op), reference(kind, EDGES, N)),
      ).toBeLessThan(1e-14);
    }
  });

  it("an unweighted graph takes the product without values", () => {
    const g = Graph.fromEdges([0, 1, 1, 2], [1, 0, 2, 1]);
    const op = normalizedAdjacencyOperator(g);
    expect(op.weights).toBeNull();
    const s = Math.SQRT1_2;
    const ref = new Float64Array([0, s, 0, s, 0, s, 0, s, 0]);
    expect(maxDiff(op.toDense(), ref)).toBeLessThan(1e-15);
  });

  it("toCSR gives the float64 entries", () => {
    const op = symLaplacianOperator(graph);
    const { rowPtr, colIdx, values, diagonal } = op.toCSR();
    const ref = reference("sym-laplacian", EDGES, N);
    const dense = new Float64Array(N * N);
    for (let i = 0; i < N; i++) {
      for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
        dense[i * N + colIdx[e]] += values[e];
      }
      dense[i * N + i] += (diagonal as Float64Array)[i];
    }
    expect(maxDiff(dense, ref)).toBeLessThan(1e-15);
  });
});

describe("products", () => {
  it("csrMatmul64 matches a dense product for blocks of 1 to 7", () => {
    const rng = mulberry32(5);
    const n = 30;
    const rowPtr = new Int32Array(n + 1);
    const cols: number[] = [];
    const vals: number[] = [];
    const dense = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const count = Math.floor(rng() * 9);
      for (let t = 0; t < count; t++) {
        const j = Math.floor(rng() * n);
        const v = 2 * rng() - 1;
        cols.push(j);
        vals.push(v);
        dense[i * n + j] += v;
      }
      rowPtr[i + 1] = cols.length;
    }
    for (let b = 1; b <= 7; b++) {
      const x = randomArray(b, n * b);
      const y = new Float64Array(n * b);
      csrMatmul64(
        rowPtr,
        Int32Array.from(cols),
        Float64Array.from(vals),
        x,
        b,
        y,
      );
      expect(maxDiff(y, denseTimes(dense, n, x, b))).toBeLessThan(1e-14);
    }
  });

  it("operatorToDense builds a matrix from matvec alone", () => {
    const a = new Float64Array([2, -1, 0, -1, 2, -1, 0, -1, 2]);
    const custom: LinearOperator = {
      size: 3,
      matvec: (x, y) => new DenseOperator(a, 3).matvec(x, y),
    };
    expect(maxDiff(operatorToDense(custom), a)).toBe(0);
  });

  it("row kernels split by rows give the same sums as one range", () => {
    // two basis columns and two vectors; dots over [0, n) equal the sum
    // of dots over [0, h) and [h, n)
    const n = 37;
    const V = randomArray(9, 4 * n);
    const state: KernelState = {
      n,
      V,
      Q: new Float64Array(0),
      rx: new Float64Array(0),
      ry: new Float64Array(0),
      fargs: new Float64Array(16),
      out: new Float64Array(16),
      rowPtr: new Int32Array(1),
      colIdx: new Int32Array(0),
      weights: null,
      scale: null,
      diagonal: null,
      sign: 1,
    };
    const args = new Int32Array([0, 0, KERNEL.dots, 0, 0, 2, 2, 0, 0, 2, 1]);
    runKernel(state, args, 0, n);
    const whole = state.out.slice(0, 6);
    runKernel(state, args, 0, 20);
    const first = state.out.slice(0, 6);
    runKernel(state, args, 20, n);
    const second = state.out.slice(0, 6);
    for (let t = 0; t < 6; t++) {
      expect(first[t] + second[t]).toBeCloseTo(whole[t], 12);
    }
    let direct = 0;
    for (let i = 0; i < n; i++) direct += V[i] * V[2 * n + i];
    expect(whole[1]).toBeCloseTo(direct, 12);
  });
});

describe("errors", () => {
  it("a directed graph is refused unless the check is off", () => {
    const g = Graph.fromEdges([0, 1], [1, 2]);
    for (const kind of GRAPH_OPERATOR_KINDS) {
      expectThrows(() => graphOperator(g, kind), GraphError);
    }
    expect(adjacencyOperator(g, { checkSymmetry: false }).size).toBe(3);
  });

  it("asymmetric weights are refused", () => {
    const g = Graph.fromEdges([0, 1], [1, 0], { weights: [1, 2] });
    expectThrows(() => adjacencyOperator(g), GraphError);
  });

  it("a negative degree is refused by the normalized operators", () => {
    const g = Graph.fromEdges([0, 1], [1, 0], {
      weights: [-1, -1],
      allowNegativeWeights: true,
    });
    expect(adjacencyOperator(g).toDense()[1]).toBe(-1);
    expectThrows(() => normalizedAdjacencyOperator(g), GraphError);
    expectThrows(() => rwLaplacianOperator(g), GraphError);
  });

  it("an unknown kind is a ConfigError", () => {
    const g = Graph.fromEdges([0, 1], [1, 0]);
    expectThrows(
      () => graphOperator(g, "heat-kernel" as "laplacian"),
      ConfigError,
    );
  });

  it("inconsistent arrays are ShapeErrors", () => {
    const rowPtr = new Int32Array([0, 1, 2]);
    const colIdx = new Int32Array([1, 0]);
    expectThrows(
      () => new SparseOperator(rowPtr, new Int32Array([1])),
      ShapeError,
    );
    expectThrows(
      () =>
        new SparseOperator(rowPtr, colIdx, { weights: new Float64Array(3) }),
      ShapeError,
    );
    expectThrows(
      () => new SparseOperator(rowPtr, colIdx, { scale: new Float64Array(1) }),
      ShapeError,
    );
    const op = new SparseOperator(rowPtr, colIdx);
    expectThrows(
      () => op.matvec(new Float64Array(3), new Float64Array(2)),
      ShapeError,
    );
    expectThrows(() => new DenseOperator(new Float64Array(3), 2), ShapeError);
  });
});
