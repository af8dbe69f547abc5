/**
 * Shared pieces of the nn/ layer suites: a small messy test graph, float64
 * dense algebra for the references (products, the GCN matrix), a
 * parameter-gradient check against central finite differences of the
 * float64 reference, and a tensor-leak check.
 */

import { expect } from "vitest";
import { tf } from "../../src/backend.js";
import type { Graph } from "../../src/graph/graph.js";
import { dropout, SparseFeatures } from "../../src/mp/linear.js";
import type { ForwardContext, Layer } from "../../src/nn/module.js";
import { mulberry32 } from "../../src/random.js";
import {
  centralDifference,
  dot,
  type EdgeList,
  type Matrix,
  messyGraph,
  randomMatrix,
  worstError,
} from "../helpers/dense.js";
import type { Rng } from "../helpers/random.js";

export type { Matrix } from "../helpers/dense.js";

/** The test graph of every layer suite and its edge list. */
export interface TestGraph {
  readonly graph: Graph;
  readonly edges: EdgeList;
  readonly n: number;
}

/**
 * A seeded 14-node multigraph: two isolated nodes, a node with outgoing
 * edges only, two self-loops, three duplicated edges (see `messyGraph`).
 */
export function testGraph(seed: number, weighted = false): TestGraph {
  const n = 14;
  const { graph, edges } = messyGraph(mulberry32(seed), {
    numNodes: n,
    numEdges: 40,
    weighted,
  });
  return { graph, edges, n };
}

/** A forward context over `graph`. */
export function contextOf(
  graph: Graph,
  training = false,
  seed = 0,
): ForwardContext {
  return { graph, training, random: mulberry32(seed) };
}

/** Random features with about a third of the entries exactly 0. */
export function sparseish(rng: Rng, rows: number, cols: number): Matrix {
  const m = randomMatrix(rng, rows, cols);
  for (let j = 0; j < m.data.length; j++) if (rng() < 0.35) m.data[j] = 0;
  return m;
}

/** A float64 matrix as a float32 tensor. */
export function tensorOf(m: Matrix): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(m.data), [m.rows, m.cols]);
}

/** A float64 matrix as SparseFeatures (its non-zero entries). */
export function sparseOf(m: Matrix): SparseFeatures {
  return SparseFeatures.fromDense(m.data, m.rows, m.cols);
}

/** A matrix from a flat array. */
export function matrix(
  rows: number,
  cols: number,
  data: ArrayLike<number>,
): Matrix {
  return { rows, cols, data: Float64Array.from(data) };
}

/** `A · B` in float64. */
export function mm(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new Error("mm: inner dimensions differ");
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const v = a.data[i * a.cols + k];
      if (v === 0) continue;
      for (let j = 0; j < b.cols; j++) {
        out[i * b.cols + j] += v * b.data[k * b.cols + j];
      }
    }
  }
  return { rows: a.rows, cols: b.cols, data: out };
}

/** Element-wise map. */
export function map(a: Matrix, f: (v: number, j: number) => number): Matrix {
  return { rows: a.rows, cols: a.cols, data: a.data.map(f) };
}

/** `a + s · b` element-wise. */
export function add(a: Matrix, b: Matrix, s = 1): Matrix {
  return map(a, (v, j) => v + s * b.data[j]);
}

/** Add a row vector to every row. */
export function addRow(a: Matrix, b: ArrayLike<number>): Matrix {
  return map(a, (v, j) => v + b[j % a.cols]);
}

/** The dense `M[dst][src] = Σ w` of an edge list (duplicates add up). */
export function adjacency(edges: EdgeList): Matrix {
  const n = edges.numDst;
  const m = new Float64Array(n * edges.numSrc);
  for (let e = 0; e < edges.src.length; e++) {
    const w = edges.weights === null ? 1 : edges.weights[e];
    m[edges.dst[e] * edges.numSrc + edges.src[e]] += w;
  }
  return { rows: n, cols: edges.numSrc, data: m };
}

/**
 * The GCN matrix written from its definition: `Ã = A + I` on nodes
 * without a loop (PyG's remaining self-loops, fill 1), then
 * `Â_ij = Ã_ij / sqrt(d_i d_j)` with `d` the row sums of `Ã`.
 */
export function gcnMatrix(edges: EdgeList, loops = true): Matrix {
  const a = adjacency(edges);
  const n = a.rows;
  if (loops) {
    const hasLoop = new Array(n).fill(false);
    for (let e = 0; e < edges.src.length; e++) {
      if (edges.src[e] === edges.dst[e]) hasLoop[edges.src[e]] = true;
    }
    for (let i = 0; i < n; i++) if (!hasLoop[i]) a.data[i * n + i] += 1;
  }
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) d[i] += a.data[i * n + j];
  }
  return map(a, (v, k) => {
    const i = Math.floor(k / n);
    const j = k % n;
    // a zero degree is inverted as 0 (the pseudo-inverse), as documented
    return d[i] === 0 || d[j] === 0 ? 0 : v / Math.sqrt(d[i] * d[j]);
  });
}

/** The float64 values of every parameter of a layer, by name. */
export function parameterValues(layer: Layer): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const p of layer.parameters()) {
    out.set(p.name, Float64Array.from(p.variable.dataSync()));
  }
  return out;
}

/** Expect every entry within `rtol |expected| + atol`, with a message. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol: number,
  label = "",
): void {
  const w = worstError(actual, expected, rtol, atol);
  expect(
    w.ratio,
    `${label} worst entry ${w.index}: ${w.actual} vs ${w.expected}`,
  ).toBeLessThanOrEqual(1);
}

/**
 * Compare the gradients of `loss = Σ r ⊙ layer(x)` with respect to every
 * parameter (TF.js autodiff, float32) with central differences (h = 1e-6)
 * of the float64 reference `reference(params)`, `r` a fixed random
 * projection. Tolerance: `rtol |g| + atol`.
 */
export function checkParameterGradients(
  layer: Layer,
  x: tf.Tensor2D | SparseFeatures,
  context: ForwardContext,
  reference: (params: Map<string, Float64Array>) => Matrix,
  rtol = 1e-4,
  atol = 1e-5,
): void {
  const params = parameterValues(layer);
  const base = reference(params);
  const rng = mulberry32(99);
  const r = Float64Array.from({ length: base.data.length }, () => rng() - 0.5);
  const rT = tf.tensor2d(Float32Array.from(r), [base.rows, base.cols]);

  const variables = layer.parameters().map((p) => p.variable);
  const { value, grads } = tf.variableGrads(
    () =>
      layer
        .apply(x as tf.Tensor2D, context)
        .mul(rT)
        .sum() as tf.Scalar,
    variables,
  );
  const byVariable = new Map(
    Object.entries(grads).map(([k, g]) => [k, g.dataSync()]),
  );
  value.dispose();
  tf.dispose(Object.values(grads));
  rT.dispose();

  for (const p of layer.parameters()) {
    const autodiff = byVariable.get(p.variable.name);
    expect(autodiff, `no gradient for ${p.name}`).toBeDefined();
    const numeric = centralDifference((v) => {
      const probe = new Map(params);
      probe.set(p.name, v);
      return dot(reference(probe).data, r);
    }, params.get(p.name) as Float64Array);
    expectClose(autodiff as Float32Array, numeric, rtol, atol, p.name);
  }
}

/**
 * Run `body` (which should free what it makes) and check that the
 * number of live tensors is unchanged.
 */
export function expectNoLeak(body: () => void): void {
  const before = tf.memory().numTensors;
  body();
  expect(tf.memory().numTensors).toBe(before);
}

/** The values of a tensor as float64 (disposes the tensor). */
export function take(t: tf.Tensor): Float64Array {
  const out = Float64Array.from(t.dataSync());
  t.dispose();
  return out;
}

/**
 * `x` after mp's seeded dropout with `mulberry32(seed)`: what a layer in
 * training mode must see as its input when its context draws from that
 * stream. Checks that every entry is either dropped (0) or scaled by
 * `1 / (1 - rate)`, and that some of each occur.
 */
export function droppedInput(x: Matrix, rate: number, seed: number): Matrix {
  const xt = tensorOf(x);
  const out = dropout(xt, rate, mulberry32(seed)) as tf.Tensor2D;
  const data = take(out);
  xt.dispose();
  let dropped = 0;
  for (let j = 0; j < data.length; j++) {
    if (data[j] === 0 && x.data[j] !== 0) dropped++;
    else expect(data[j]).toBeCloseTo(x.data[j] / (1 - rate), 6);
  }
  expect(dropped).toBeGreaterThan(0);
  expect(dropped).toBeLessThan(data.length);
  return { rows: x.rows, cols: x.cols, data };
}
