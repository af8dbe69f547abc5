/**
 * GCNConv and gcnNormalize against the dense float64 definition
 * `Â X W + b`, `Â = D̂^{-1/2}(A + I)D̂^{-1/2}` with PyG's remaining
 * self-loops, on a multigraph with isolated nodes, self-loops and
 * duplicate edges (weighted and unweighted); a hand-computed path graph;
 * parameter gradients against central differences; sparse == dense;
 * seeded dropout; caching; tensor leaks; typed errors.
 *
 * Tolerances: forward 1e-5 relative + 1e-6 absolute; gradients 1e-4
 * relative + 1e-5 absolute; sparse vs dense 1e-6.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { GCNConv, gcnNormalize } from "../../src/nn/gcn.js";
import { mulberry32 } from "../../src/random.js";
import { randomMatrix } from "../helpers/dense.js";
import {
  addRow,
  adjacency,
  checkParameterGradients,
  contextOf,
  droppedInput,
  expectClose,
  expectNoLeak,
  gcnMatrix,
  type Matrix,
  matrix,
  mm,
  parameterValues,
  sparseish,
  sparseOf,
  take,
  tensorOf,
  testGraph,
} from "./helpers.js";

/** `Â X W + b` in float64. */
function reference(
  a: Matrix,
  x: Matrix,
  p: Map<string, Float64Array>,
  units: number,
): Matrix {
  const w = matrix(x.cols, units, p.get("weight") as Float64Array);
  const out = mm(a, mm(x, w));
  const b = p.get("bias");
  return b === undefined ? out : addRow(out, b);
}

describe("gcnNormalize", () => {
  it("matches Â on a path 0 - 1 - 2 by hand", () => {
    // degrees with loops: 2, 3, 2
    const g = Graph.fromEdges([0, 1, 1, 2], [1, 0, 2, 1], { numNodes: 3 });
    const dense = gcnNormalize(g).toDense();
    const s6 = 1 / Math.sqrt(6);
    expectClose(dense, [1 / 2, s6, 0, s6, 1 / 3, s6, 0, s6, 1 / 2], 1e-6, 1e-9);
  });

  for (const weighted of [false, true]) {
    it(`equals the dense definition (weighted: ${weighted})`, () => {
      const { graph, edges } = testGraph(3, weighted);
      expectClose(
        gcnNormalize(graph).toDense(),
        gcnMatrix(edges).data,
        1e-6,
        1e-7,
      );
      expectClose(
        gcnNormalize(graph, { addSelfLoops: false }).toDense(),
        gcnMatrix(edges, false).data,
        1e-6,
        1e-7,
      );
    });
  }

  it("keeps an existing self-loop instead of adding another", () => {
    // node 0 has a loop of weight 3, node 1 none
    const g = Graph.fromEdges([0, 1, 0], [0, 0, 1], {
      numNodes: 2,
      weights: [3, 1, 1],
    });
    const d = gcnNormalize(g, { normalize: false }).toDense();
    expect(Array.from(d)).toEqual([3, 1, 1, 1]);
  });

  it("gives an isolated node Â_ii = 1 with loops, an empty row without", () => {
    const { graph, n } = testGraph(3);
    const last = n - 1;
    expect(graph.rowPtr[last + 1] - graph.rowPtr[last]).toBe(0);
    const withLoops = gcnNormalize(graph).toDense();
    expect(withLoops[last * n + last]).toBeCloseTo(1, 7);
    const without = gcnNormalize(graph, { addSelfLoops: false });
    expect(without.rowPtr[last + 1] - without.rowPtr[last]).toBe(0);
  });

  it("caches per graph object and options unless asked not to", () => {
    const { graph } = testGraph(4);
    const a = gcnNormalize(graph);
    expect(gcnNormalize(graph)).toBe(a);
    expect(gcnNormalize(graph, { addSelfLoops: false })).not.toBe(a);
    expect(gcnNormalize(graph, { cached: false })).not.toBe(a);
  });
});

describe("GCNConv", () => {
  for (const weighted of [false, true]) {
    it(`computes Â X W + b (weighted graph: ${weighted})`, () => {
      const { graph, edges, n } = testGraph(5, weighted);
      const x = randomMatrix(mulberry32(6), n, 5);
      const layer = new GCNConv({ inputDim: 5, units: 3, seed: 2 });
      // a non-zero bias, so that its place (after aggregation) is tested
      layer.bias?.assign(tf.tensor1d([0.5, -0.25, 1]));
      const xt = tensorOf(x);
      const out = take(layer.apply(xt, contextOf(graph)));
      const p = parameterValues(layer);
      expectClose(out, reference(gcnMatrix(edges), x, p, 3).data, 1e-5, 1e-6);
      xt.dispose();
      layer.dispose();
    });
  }

  it("without self-loops or normalization propagates over A (+ I)", () => {
    const { graph, edges, n } = testGraph(7, true);
    const x = randomMatrix(mulberry32(8), n, 4);
    const xt = tensorOf(x);
    const raw = new GCNConv({
      inputDim: 4,
      units: 2,
      normalize: false,
      addSelfLoops: false,
      bias: false,
    });
    const p = parameterValues(raw);
    expect(p.has("bias")).toBe(false);
    const out = take(raw.apply(xt, contextOf(graph)));
    expectClose(out, reference(adjacency(edges), x, p, 2).data, 1e-5, 1e-6);
    raw.dispose();
    xt.dispose();
  });

  it("has parameter gradients equal to central differences", () => {
    const { graph, edges, n } = testGraph(9, true);
    const x = randomMatrix(mulberry32(10), n, 4);
    const layer = new GCNConv({ inputDim: 4, units: 3, seed: 3 });
    const a = gcnMatrix(edges);
    const xt = tensorOf(x);
    checkParameterGradients(layer, xt, contextOf(graph), (p) =>
      reference(a, x, p, 3),
    );
    xt.dispose();
    layer.dispose();
  });

  it("gives the same result for sparse and dense input", () => {
    const { graph, n } = testGraph(11);
    const x = sparseish(mulberry32(12), n, 8);
    const layer = new GCNConv({ inputDim: 8, units: 3 });
    const xt = tensorOf(x);
    const dense = take(layer.apply(xt, contextOf(graph)));
    const sparse = take(layer.apply(sparseOf(x), contextOf(graph)));
    expectClose(sparse, dense, 1e-6, 1e-7);
    xt.dispose();
    layer.dispose();
  });

  it("initialises W by seeded Glorot uniform and b at zero", () => {
    const a = new GCNConv({ inputDim: 30, units: 20, seed: 5 });
    const b = new GCNConv({ inputDim: 30, units: 20, seed: 5 });
    const w = Array.from(a.weight.dataSync());
    expect(Array.from(b.weight.dataSync())).toEqual(w);
    const limit = Math.sqrt(6 / 50);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * limit);
    expect(Array.from(a.bias?.dataSync() ?? [])).toEqual(new Array(20).fill(0));
    expect(a.parameters().map((p) => p.name)).toEqual(["weight", "bias"]);
    a.dispose();
    b.dispose();
  });

  it("applies seeded input dropout in training only", () => {
    const { graph, edges, n } = testGraph(13);
    const rate = 0.5;
    const x = randomMatrix(mulberry32(14), n, 4);
    const layer = new GCNConv({ inputDim: 4, units: 2, inputDropout: rate });
    const p = parameterValues(layer);
    const xt = tensorOf(x);
    const dropped = droppedInput(x, rate, 3);
    const train = take(layer.apply(xt, contextOf(graph, true, 3)));
    const a = gcnMatrix(edges);
    expectClose(train, reference(a, dropped, p, 2).data, 1e-5, 1e-6);
    const again = take(layer.apply(xt, contextOf(graph, true, 3)));
    expect(Array.from(again)).toEqual(Array.from(train));
    const evalOut = take(layer.apply(xt, contextOf(graph, false, 3)));
    expectClose(evalOut, reference(a, x, p, 2).data, 1e-5, 1e-6);
    xt.dispose();
    layer.dispose();
  });

  it("leaks no tensor in forward, gradient (with dropout) and dispose", () => {
    const { graph, n } = testGraph(15);
    const xt = tensorOf(randomMatrix(mulberry32(16), n, 4));
    expectNoLeak(() => {
      const layer = new GCNConv({ inputDim: 4, units: 2, inputDropout: 0.3 });
      const ctx = contextOf(graph, true);
      const { value, grads } = tf.variableGrads(
        () => layer.apply(xt, ctx).square().sum() as tf.Scalar,
        layer.parameters().map((q) => q.variable),
      );
      tf.dispose([value, ...Object.values(grads)]);
      layer.apply(xt, ctx).dispose();
      layer.dispose();
    });
    xt.dispose();
  });

  it("raises ShapeError for wrong widths or row counts", () => {
    const { graph, n } = testGraph(17);
    const layer = new GCNConv({ inputDim: 4, units: 2 });
    const wide = tf.zeros([n, 5]) as tf.Tensor2D;
    const short = tf.zeros([n - 1, 4]) as tf.Tensor2D;
    expect(() => layer.apply(wide, contextOf(graph))).toThrow(ShapeError);
    expect(() => layer.apply(wide, contextOf(graph))).toThrow(
      /GCNConv\(4→2\).*dimension 4.*\[14, 5\]/,
    );
    expect(() => layer.apply(short, contextOf(graph))).toThrow(ShapeError);
    tf.dispose([wide, short]);
    layer.dispose();
  });

  it("raises ConfigError for bad arguments", () => {
    expect(() => new GCNConv({ inputDim: 4, units: 0 })).toThrow(ConfigError);
    expect(
      () => new GCNConv({ inputDim: 4, units: 2, inputDropout: -0.1 }),
    ).toThrow(ConfigError);
    expect(
      () => new GCNConv({ inputDim: 4, units: 2, cached: "yes" as never }),
    ).toThrow(ConfigError);
  });
});
