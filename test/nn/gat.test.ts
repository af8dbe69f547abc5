/**
 * GATConv (GAT and GATv2) against a float64 reference written from the
 * papers' equations on plain edge lists: outputs, attention coefficients
 * (which sum to 1 over each node's incoming edges), attention dropout,
 * gradients of every parameter and of the input against central finite
 * differences, sparse input against dense, heads' mean against their
 * concatenation, seeded determinism, the self-loop graph, errors and
 * tensor leaks.
 *
 * Tolerances: forward |y − y_ref| ≤ 1e-5 · (|y_ref| + 1) (float32 against
 * float64, values O(1)); gradients 2e-5 · (|g_fd| + 1) with float64
 * central differences of step 1e-6; sparse against dense and mean against
 * concat, both float32: 1e-6 · (|y| + 1).
 */

import { afterAll, describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { dropout, SparseFeatures } from "../../src/mp/linear.js";
import { GATConv, type GATConvArgs } from "../../src/nn/gat.js";
import type { ForwardContext } from "../../src/nn/module.js";
import {
  centralDifference,
  dot,
  messyGraph,
  randomMatrix,
  worstError,
} from "../helpers/dense.js";
import { tensorOf } from "../helpers/mp-cases.js";
import { mulberry32 } from "../helpers/random.js";

const N = 9;
const D = 3;

/** The parameters of a layer, in float64, by name. */
type Params = Record<string, Float64Array>;

/** Read a layer's parameters into float64 arrays. */
function readParams(layer: GATConv): Params {
  const out: Params = {};
  for (const p of layer.parameters()) {
    out[p.name] = Float64Array.from(p.variable.dataSync());
  }
  return out;
}

/** Give every parameter seeded values in [-1, 1) (bias included). */
function randomizeParams(layer: GATConv, seed: number): void {
  const rng = mulberry32(seed);
  for (const p of layer.parameters()) {
    const v = new Float32Array(p.variable.size);
    for (let j = 0; j < v.length; j++) v[j] = 2 * rng() - 1;
    p.variable.assign(tf.tensor(v, p.variable.shape));
  }
}

/** What the reference needs besides the parameters. */
interface Setting {
  n: number;
  src: readonly number[];
  dst: readonly number[];
  inputDim: number;
  heads: number;
  units: number;
  v2: boolean;
  concat: boolean;
  slope: number;
  /** Multipliers of α per edge and head (attention dropout), or null. */
  mask: Float64Array | null;
}

/**
 * The float64 reference of GAT / GATv2: `out` `[n, width]` and `alpha`
 * `[E, heads]` in the order of the given edges. Neighbourhoods are found
 * by scanning every edge.
 */
function reference(
  s: Setting,
  params: Params,
  x: Float64Array,
): { out: Float64Array; alpha: Float64Array } {
  const { n, src, dst, inputDim, heads, units } = s;
  const width = heads * units;
  const project = (w: Float64Array): Float64Array => {
    const h = new Float64Array(n * width);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < width; c++) {
        let acc = 0;
        for (let k = 0; k < inputDim; k++) {
          acc += x[i * inputDim + k] * w[k * width + c];
        }
        h[i * width + c] = acc;
      }
    }
    return h;
  };
  const lrelu = (v: number) => (v > 0 ? v : s.slope * v);
  const h = project(params.weight);
  const hDst = s.v2 && params.weightDst ? project(params.weightDst) : h;
  const numEdges = src.length;

  // raw scores of every edge and head
  const score = new Float64Array(numEdges * heads);
  for (let e = 0; e < numEdges; e++) {
    for (let k = 0; k < heads; k++) {
      let acc = 0;
      for (let u = 0; u < units; u++) {
        const c = k * units + u;
        const hs = h[src[e] * width + c];
        const hd = hDst[dst[e] * width + c];
        if (s.v2) {
          acc += params.att[c] * lrelu(hd + hs);
        } else {
          acc += params.attSrc[c] * hs + params.attDst[c] * hd;
        }
      }
      score[e * heads + k] = s.v2 ? acc : lrelu(acc);
    }
  }

  // softmax over the incoming edges of each node, then the weighted sum
  const alpha = new Float64Array(numEdges * heads);
  const full = new Float64Array(n * width);
  for (let i = 0; i < n; i++) {
    const mine: number[] = [];
    for (let e = 0; e < numEdges; e++) if (dst[e] === i) mine.push(e);
    for (let k = 0; k < heads; k++) {
      let top = Number.NEGATIVE_INFINITY;
      for (const e of mine) top = Math.max(top, score[e * heads + k]);
      let total = 0;
      for (const e of mine) total += Math.exp(score[e * heads + k] - top);
      for (const e of mine) {
        const a = Math.exp(score[e * heads + k] - top) / total;
        alpha[e * heads + k] = a;
        const m = s.mask === null ? 1 : s.mask[e * heads + k];
        for (let u = 0; u < units; u++) {
          const c = k * units + u;
          full[i * width + c] += a * m * h[src[e] * width + c];
        }
      }
    }
  }

  // concatenation or mean of the heads, then the bias
  const outDim = s.concat ? width : units;
  const out = new Float64Array(n * outDim);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < outDim; c++) {
      let v = 0;
      if (s.concat) {
        v = full[i * width + c];
      } else {
        for (let k = 0; k < heads; k++) v += full[i * width + k * units + c];
        v /= heads;
      }
      out[i * outDim + c] = v + (params.bias ? params.bias[c] : 0);
    }
  }
  return { out, alpha };
}

/** The edges of GAT's neighbourhoods: loops removed, one per node added. */
function loopedEdges(
  src: readonly number[],
  dst: readonly number[],
  n: number,
): { src: number[]; dst: number[] } {
  const s: number[] = [];
  const d: number[] = [];
  for (let e = 0; e < src.length; e++) {
    if (src[e] === dst[e]) continue;
    s.push(src[e]);
    d.push(dst[e]);
  }
  for (let i = 0; i < n; i++) {
    s.push(i);
    d.push(i);
  }
  return { src: s, dst: d };
}

/** A messy graph (isolated nodes, loops, duplicates) and its features. */
function problem(seed: number) {
  const rng = mulberry32(seed);
  const { edges, graph } = messyGraph(rng, {
    numNodes: N,
    numEdges: 18,
    weighted: true,
  });
  const x = randomMatrix(rng, N, D);
  return { edges, graph, x };
}

/** An inference context over `graph`. */
function inference(graph: Graph): ForwardContext {
  return { graph, training: false, random: mulberry32(99) };
}

/** The layer configurations every reference test runs. */
const CASES: { label: string; args: Omit<GATConvArgs, "inputDim"> }[] = [
  { label: "GAT, 1 head", args: { units: 3 } },
  { label: "GAT, 2 heads concat", args: { units: 2, heads: 2 } },
  {
    label: "GAT, 3 heads mean, slope 0.1",
    args: { units: 2, heads: 3, concat: false, negativeSlope: 0.1 },
  },
  {
    label: "GAT, no self-loops, no bias",
    args: { units: 2, heads: 2, addSelfLoops: false, bias: false },
  },
  { label: "GATv2, 2 heads", args: { units: 2, heads: 2, v2: true } },
  {
    label: "GATv2, shared weights, mean",
    args: { units: 2, heads: 2, v2: true, shareWeights: true, concat: false },
  },
];

/** The reference setting of a case over a problem's edges. */
function settingOf(
  layer: GATConv,
  edges: { src: readonly number[]; dst: readonly number[] },
): Setting {
  const looped = layer.addSelfLoops
    ? loopedEdges(edges.src, edges.dst, N)
    : { src: [...edges.src], dst: [...edges.dst] };
  return {
    n: N,
    src: looped.src,
    dst: looped.dst,
    inputDim: D,
    heads: layer.heads,
    units: layer.units,
    v2: layer.v2,
    concat: layer.concat,
    slope: layer.negativeSlope,
    mask: null,
  };
}

describe("GATConv against the float64 reference", () => {
  for (const [c, { label, args }] of CASES.entries()) {
    it(`${label}: output and attention`, () => {
      const { edges, graph, x } = problem(10 + c);
      const layer = new GATConv({ inputDim: D, ...args, seed: c });
      randomizeParams(layer, 100 + c);
      const setting = settingOf(layer, edges);
      const ref = reference(setting, readParams(layer), x.data);

      const xt = tensorOf(x);
      const { output, attention } = layer.applyWithAttention(
        xt,
        inference(graph),
      );
      expect(output.shape).toEqual([N, layer.outputDim]);
      const got = output.dataSync();
      expect(worstError(got, ref.out, 1e-5, 1e-5).ratio).toBeLessThanOrEqual(1);

      // α in CSR order, matched to the reference by (src, dst): duplicate
      // edges share their scores, hence their coefficients
      const ag = layer.attentionGraph(graph);
      const alpha = attention.dataSync();
      expect(attention.shape).toEqual([ag.numEdges, layer.heads]);
      const byPair = new Map<string, number[]>();
      for (let e = 0; e < setting.src.length; e++) {
        const row = Array.from(
          ref.alpha.subarray(e * layer.heads, (e + 1) * layer.heads),
        );
        byPair.set(`${setting.src[e]}>${setting.dst[e]}`, row);
      }
      const expected: number[] = [];
      for (let e = 0; e < ag.numEdges; e++) {
        const row = byPair.get(`${ag.colIdx[e]}>${ag.dst[e]}`);
        expect(row).toBeDefined();
        expected.push(...(row as number[]));
      }
      expect(worstError(alpha, expected, 1e-5, 1e-6).ratio).toBeLessThanOrEqual(
        1,
      );

      // α sums to 1 over the incoming edges of every node that has any
      for (let i = 0; i < N; i++) {
        for (let k = 0; k < layer.heads; k++) {
          let total = 0;
          for (let e = ag.rowPtr[i]; e < ag.rowPtr[i + 1]; e++) {
            total += alpha[e * layer.heads + k];
          }
          const has = ag.rowPtr[i + 1] > ag.rowPtr[i];
          expect(Math.abs(total - (has ? 1 : 0))).toBeLessThan(1e-6);
        }
      }

      // attention() alone gives the same coefficients
      const alone = layer.attention(xt, inference(graph));
      expect(Array.from(alone.dataSync())).toEqual(Array.from(alpha));
      tf.dispose([xt, output, attention, alone]);
      layer.dispose();
    });

    it(`${label}: gradients of every parameter and of x`, () => {
      const { edges, graph, x } = problem(20 + c);
      const layer = new GATConv({ inputDim: D, ...args, seed: c });
      randomizeParams(layer, 200 + c);
      const setting = settingOf(layer, edges);
      const params = readParams(layer);
      const rng = mulberry32(300 + c);
      const r = new Float64Array(N * layer.outputDim).map(() => 2 * rng() - 1);
      const rt = tf.tensor2d(Float32Array.from(r), [N, layer.outputDim]);
      const xt = tensorOf(x);
      const ctx = inference(graph);
      const loss = (input: tf.Tensor2D) =>
        tf.sum(tf.mul(layer.apply(input, ctx), rt)) as tf.Scalar;

      // autodiff: parameters, then x
      const variables = layer.parameters().map((p) => p.variable);
      const { value, grads } = tf.variableGrads(() => loss(xt), variables);
      const gx = tf.grad((input: tf.Tensor) => loss(input as tf.Tensor2D))(xt);
      const refLoss = dot(reference(setting, params, x.data).out, r);
      expect(Math.abs(value.dataSync()[0] - refLoss)).toBeLessThanOrEqual(
        1e-5 * (Math.abs(refLoss) + 1),
      );

      for (const p of layer.parameters()) {
        const fd = centralDifference(
          (v) =>
            dot(reference(setting, { ...params, [p.name]: v }, x.data).out, r),
          params[p.name],
        );
        const got = grads[p.variable.name].dataSync();
        const worst = worstError(got, fd, 2e-5, 2e-5);
        expect(worst.ratio, `gradient of ${p.name}`).toBeLessThanOrEqual(1);
      }
      const fdx = centralDifference(
        (v) => dot(reference(setting, params, v).out, r),
        x.data,
      );
      expect(
        worstError(gx.dataSync(), fdx, 2e-5, 2e-5).ratio,
      ).toBeLessThanOrEqual(1);
      tf.dispose([rt, xt, value, gx, ...Object.values(grads)]);
      layer.dispose();
    });
  }
});

describe("GATConv behaviour", () => {
  const disposeAfter: { dispose(): void }[] = [];
  afterAll(() => {
    for (const d of disposeAfter) d.dispose();
  });

  it("attention dropout multiplies α by a mask drawn from context.random", () => {
    const { graph, x } = problem(3);
    const layer = new GATConv({
      inputDim: D,
      units: 2,
      heads: 2,
      attentionDropout: 0.5,
      seed: 4,
    });
    disposeAfter.push(layer);
    randomizeParams(layer, 5);
    const ag = layer.attentionGraph(graph);
    const heads = layer.heads;

    // the mask the layer draws: one uniform per edge, head after head
    const draw = mulberry32(77);
    const mask = new Float64Array(ag.numEdges * heads);
    for (let k = 0; k < heads; k++) {
      for (let e = 0; e < ag.numEdges; e++) {
        mask[e * heads + k] = draw() >= 0.5 ? 2 : 0;
      }
    }
    expect(mask.some((m) => m === 0)).toBe(true);
    const setting: Setting = {
      ...settingOf(layer, { src: [], dst: [] }),
      src: Array.from(ag.colIdx),
      dst: Array.from(ag.dst),
      mask,
    };
    const ref = reference(setting, readParams(layer), x.data);
    const xt = tensorOf(x);
    const out = layer.apply(xt, {
      graph,
      training: true,
      random: mulberry32(77),
    });
    expect(
      worstError(out.dataSync(), ref.out, 1e-5, 1e-5).ratio,
    ).toBeLessThanOrEqual(1);

    // in inference the mask is not drawn: the output is the plain one
    const plain = layer.apply(xt, inference(graph));
    const noMask = reference(
      { ...setting, mask: null },
      readParams(layer),
      x.data,
    );
    expect(
      worstError(plain.dataSync(), noMask.out, 1e-5, 1e-5).ratio,
    ).toBeLessThanOrEqual(1);
    expect(
      worstError(out.dataSync(), noMask.out, 1e-5, 1e-5).ratio,
    ).toBeGreaterThan(1);
    tf.dispose([xt, out, plain]);
  });

  it("input dropout: training output equals the output on dropout(x)", () => {
    const { graph, x } = problem(4);
    const layer = new GATConv({
      inputDim: D,
      units: 2,
      heads: 2,
      inputDropout: 0.4,
      seed: 6,
    });
    disposeAfter.push(layer);

    // the library's dropout, drawn first from the same stream
    const xt = tensorOf(x);
    const xm = dropout(xt, 0.4, mulberry32(8)) as tf.Tensor2D;
    const zeros = Array.from(xm.dataSync()).filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(0);
    const a = layer.apply(xt, { graph, training: true, random: mulberry32(8) });
    const b = layer.apply(xm, inference(graph));
    const c = layer.apply(xt, inference(graph));
    expect(
      worstError(a.dataSync(), b.dataSync(), 1e-6, 1e-6).ratio,
    ).toBeLessThanOrEqual(1);
    expect(
      worstError(a.dataSync(), c.dataSync(), 1e-6, 1e-6).ratio,
    ).toBeGreaterThan(1);
    tf.dispose([xt, xm, a, b, c]);
  });

  it("sparse input gives the dense input's output and gradients", () => {
    const { graph } = problem(5);
    const rng = mulberry32(9);
    const data = new Float32Array(N * D).map(() =>
      rng() < 0.5 ? 0 : Math.fround(2 * rng() - 1),
    );
    const sparse = SparseFeatures.fromDense(data, N, D);
    const dense = tf.tensor2d(data, [N, D]);
    for (const v2 of [false, true]) {
      const layer = new GATConv({
        inputDim: D,
        units: 2,
        heads: 2,
        v2,
        seed: 1,
      });
      randomizeParams(layer, 2);
      const vars = layer.parameters().map((p) => p.variable);
      const run = (x: tf.Tensor2D | SparseFeatures) =>
        tf.variableGrads(
          () =>
            tf.sum(tf.square(layer.apply(x, inference(graph)))) as tf.Scalar,
          vars,
        );
      const a = run(dense);
      const b = run(sparse);
      expect(
        worstError(b.value.dataSync(), a.value.dataSync(), 1e-6, 1e-6).ratio,
      ).toBeLessThanOrEqual(1);
      for (const v of vars) {
        const ga = a.grads[v.name].dataSync();
        const gb = b.grads[v.name].dataSync();
        expect(worstError(gb, ga, 1e-6, 1e-6).ratio).toBeLessThanOrEqual(1);
      }
      tf.dispose([a.value, b.value, ...Object.values(a.grads)]);
      tf.dispose(Object.values(b.grads));
      layer.dispose();
    }
    dense.dispose();
  });

  it("concat: false is the mean of the concatenated heads", () => {
    const { graph, x } = problem(6);
    const args = { inputDim: D, units: 2, heads: 3, bias: false, seed: 12 };
    const cat = new GATConv(args);
    const mean = new GATConv({ ...args, concat: false });
    disposeAfter.push(cat, mean);
    expect(cat.outputDim).toBe(6);
    expect(mean.outputDim).toBe(2);
    const xt = tensorOf(x);
    const a = cat.apply(xt, inference(graph)).arraySync();
    const b = mean.apply(xt, inference(graph)).arraySync();
    for (let i = 0; i < N; i++) {
      for (let u = 0; u < 2; u++) {
        const m = (a[i][u] + a[i][2 + u] + a[i][4 + u]) / 3;
        expect(Math.abs(b[i][u] - m)).toBeLessThanOrEqual(
          1e-6 * (Math.abs(m) + 1),
        );
      }
    }
    xt.dispose();
  });

  it("initialises from its seed: Glorot ranges, zero bias, same seed same layer", () => {
    const args = { inputDim: 5, units: 4, heads: 2, v2: true, seed: 3 };
    const a = new GATConv(args);
    const b = new GATConv(args);
    const c = new GATConv({ ...args, seed: 4 });
    disposeAfter.push(a, b, c);
    const pa = readParams(a);
    const pb = readParams(b);
    const pc = readParams(c);
    expect(Object.keys(pa)).toEqual(["weight", "weightDst", "att", "bias"]);
    for (const k of Object.keys(pa)) expect(pb[k]).toEqual(pa[k]);
    expect(pc.weight).not.toEqual(pa.weight);
    const limitW = Math.sqrt(6 / (5 + 8));
    const limitA = Math.sqrt(6 / (4 + 1));
    expect(Math.max(...pa.weight.map(Math.abs))).toBeLessThanOrEqual(limitW);
    expect(Math.max(...pa.weight.map(Math.abs))).toBeGreaterThan(0.7 * limitW);
    expect(Math.max(...pa.att.map(Math.abs))).toBeLessThanOrEqual(limitA);
    expect(Array.from(pa.bias)).toEqual(new Array(8).fill(0));

    // a random source wins over the seed
    const d = new GATConv({ ...args, random: mulberry32(3), seed: 9 });
    disposeAfter.push(d);
    expect(readParams(d).weight).toEqual(pa.weight);
    const v1 = new GATConv({ inputDim: 5, units: 4, heads: 2 });
    disposeAfter.push(v1);
    expect(v1.parameters().map((p) => p.name)).toEqual([
      "weight",
      "attSrc",
      "attDst",
      "bias",
    ]);
    expect(v1.name).toBe("GATConv(5→2×4)");
  });

  it("attentionGraph replaces self-loops by one loop per node, once", () => {
    const { edges, graph } = problem(7);
    const layer = new GATConv({ inputDim: D, units: 1 });
    disposeAfter.push(layer);
    const ag = layer.attentionGraph(graph);
    expect(layer.attentionGraph(graph)).toBe(ag);
    const expected = loopedEdges(edges.src, edges.dst, N);
    const key = (s: ArrayLike<number>, d: ArrayLike<number>) =>
      Array.from(s, (v, e) => `${v}>${d[e]}`).sort();
    expect(key(ag.colIdx, ag.dst)).toEqual(key(expected.src, expected.dst));
    const plain = new GATConv({ inputDim: D, units: 1, addSelfLoops: false });
    disposeAfter.push(plain);
    expect(plain.attentionGraph(graph)).toBe(graph);
  });

  it("nodes without incoming edges output the bias (no self-loops)", () => {
    const graph = Graph.fromEdges([0, 1], [1, 2], { numNodes: 4 });
    const layer = new GATConv({
      inputDim: 2,
      units: 2,
      heads: 2,
      addSelfLoops: false,
    });
    disposeAfter.push(layer);
    randomizeParams(layer, 1);
    const bias = readParams(layer).bias;
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
    const out = layer.apply(x, inference(graph)).arraySync();
    for (const i of [0, 3]) {
      expect(out[i]).toEqual(Array.from(bias, Math.fround));
    }
    x.dispose();
  });

  it("is deterministic: the same input gives bit-identical outputs", () => {
    const { graph, x } = problem(8);
    const layer = new GATConv({ inputDim: D, units: 2, heads: 4, seed: 2 });
    disposeAfter.push(layer);
    const xt = tensorOf(x);
    const a = layer.apply(xt, inference(graph));
    const b = layer.apply(xt, inference(graph));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([xt, a, b]);
  });

  it("leaks no tensor in apply, attention and a gradient step", () => {
    const { graph, x } = problem(9);
    for (const [v2, fused] of [
      [false, true],
      [true, true],
      [false, false],
      [true, false],
    ]) {
      const start = tf.memory().numTensors;
      const layer = new GATConv({
        inputDim: D,
        units: 2,
        heads: 2,
        v2,
        fused,
        attentionDropout: 0.3,
      });
      const xt = tensorOf(x);
      const ctx = { graph, training: true, random: mulberry32(1) };
      layer.apply(xt, ctx).dispose();
      const before = tf.memory().numTensors;
      layer.apply(xt, ctx).dispose();
      layer.attention(xt, ctx).dispose();
      const both = layer.applyWithAttention(xt, ctx);
      tf.dispose([both.output, both.attention]);
      const vars = layer.parameters().map((p) => p.variable);
      const { value, grads } = tf.variableGrads(
        () => tf.sum(layer.apply(xt, ctx)) as tf.Scalar,
        vars,
      );
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      const count = tf.memory().numTensors;
      layer.dispose();
      expect(tf.memory().numTensors).toBe(count - vars.length);
      xt.dispose();
      expect(tf.memory().numTensors).toBe(start);
    }
  });
});

// NOTE: the gradient of x W reads the dropped-out input, an intermediate
// that the layer's tf.tidy frees: matMul must keep it through the `save`
// argument of tf.customGrad, or TF.js fails with "Cannot read properties
// of undefined (reading 'backend')"
it("trains through input dropout on dense input", () => {
  const { graph, x } = problem(10);
  const layer = new GATConv({ inputDim: D, units: 2, inputDropout: 0.5 });
  const xt = tensorOf(x);
  const before = tf.memory().numTensors;
  const vars = layer.parameters().map((p) => p.variable);
  const { value, grads } = tf.variableGrads(
    () =>
      tf.sum(
        layer.apply(xt, { graph, training: true, random: mulberry32(2) }),
      ) as tf.Scalar,
    vars,
  );
  expect(Number.isFinite(value.dataSync()[0])).toBe(true);
  tf.dispose([value, ...Object.values(grads)]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose(xt);
  layer.dispose();
});

describe("fused GATConv against the per-head path (fused: false)", () => {
  // the two paths share their parameters (same seed) and their random
  // stream: input dropout first, then one mask draw per edge, head after
  // head; they differ by float32 rounding only
  const variants: { label: string; args: Omit<GATConvArgs, "inputDim"> }[] = [
    { label: "GAT, 3 heads concat", args: { units: 2, heads: 3 } },
    {
      label: "GAT, 3 heads mean",
      args: { units: 2, heads: 3, concat: false, negativeSlope: 0.1 },
    },
    { label: "GATv2, 2 heads", args: { units: 3, heads: 2, v2: true } },
    {
      label: "GATv2, shared weights, mean",
      args: { units: 2, heads: 3, v2: true, shareWeights: true },
    },
  ];
  for (const [c, { label, args }] of variants.entries()) {
    it(`${label}: output, attention and every gradient in training`, () => {
      const { graph, x } = problem(40 + c);
      const full = {
        inputDim: D,
        ...args,
        inputDropout: 0.3,
        attentionDropout: 0.5,
        seed: 50 + c,
      };
      const fused = new GATConv(full);
      const perHead = new GATConv({ ...full, fused: false });
      expect(fused.fused).toBe(true);
      expect(perHead.fused).toBe(false);
      randomizeParams(fused, 60 + c);
      randomizeParams(perHead, 60 + c);
      const xt = tensorOf(x);
      const rng = mulberry32(70 + c);
      const r = new Float32Array(N * fused.outputDim).map(() => 2 * rng() - 1);
      const rt = tf.tensor2d(r, [N, fused.outputDim]);
      const run = (layer: GATConv) => {
        const ctx = { graph, training: true, random: mulberry32(80 + c) };
        const vars = [...layer.parameters().map((p) => p.variable)];
        let attention: tf.Tensor2D | null = null;
        const { value, grads } = tf.variableGrads(() => {
          const both = layer.applyWithAttention(xt, ctx);
          attention = tf.keep(both.attention);
          return tf.sum(tf.mul(both.output, rt)) as tf.Scalar;
        }, vars);
        const gx = tf.grad((input: tf.Tensor) =>
          tf.sum(
            tf.mul(
              layer.apply(input as tf.Tensor2D, {
                graph,
                training: true,
                random: mulberry32(80 + c),
              }),
              rt,
            ),
          ),
        )(xt);
        const grad = layer
          .parameters()
          .map((p) => Array.from(grads[p.variable.name].dataSync()));
        const out = {
          value: value.dataSync()[0],
          attention: Array.from((attention as unknown as tf.Tensor).dataSync()),
          grad,
          gx: Array.from(gx.dataSync()),
        };
        tf.dispose([value, gx, attention as unknown as tf.Tensor]);
        tf.dispose(Object.values(grads));
        return out;
      };
      const a = run(fused);
      const b = run(perHead);
      expect(Math.abs(a.value - b.value)).toBeLessThanOrEqual(
        1e-5 * (Math.abs(b.value) + 1),
      );
      expect(
        worstError(a.attention, b.attention, 1e-5, 1e-6).ratio,
      ).toBeLessThanOrEqual(1);
      for (const [j, p] of fused.parameters().entries()) {
        const worst = worstError(a.grad[j], b.grad[j], 1e-5, 1e-5);
        expect(worst.ratio, `gradient of ${p.name}`).toBeLessThanOrEqual(1);
      }
      expect(worstError(a.gx, b.gx, 1e-5, 1e-5).ratio).toBeLessThanOrEqual(1);

      // the input gradient is not trivially zero
      expect(Math.max(...a.gx.map(Math.abs))).toBeGreaterThan(1e-3);
      tf.dispose([xt, rt]);
      fused.dispose();
      perHead.dispose();
    });
  }

  it("the per-head path still matches the float64 reference", () => {
    const { edges, graph, x } = problem(90);
    const layer = new GATConv({
      inputDim: D,
      units: 2,
      heads: 2,
      fused: false,
      seed: 1,
    });
    randomizeParams(layer, 91);
    const ref = reference(settingOf(layer, edges), readParams(layer), x.data);
    const xt = tensorOf(x);
    const out = layer.apply(xt, inference(graph));
    expect(
      worstError(out.dataSync(), ref.out, 1e-5, 1e-5).ratio,
    ).toBeLessThanOrEqual(1);
    tf.dispose([xt, out]);
    layer.dispose();
  });
});

describe("GATConv errors", () => {
  it("raises ConfigError for bad arguments", () => {
    const bad: GATConvArgs[] = [
      { inputDim: 0, units: 2 },
      { inputDim: 2, units: 1.5 },
      { inputDim: 2, units: 2, heads: 0 },
      { inputDim: 2, units: 2, inputDropout: 1 },
      { inputDim: 2, units: 2, attentionDropout: -0.1 },
      { inputDim: 2, units: 2, negativeSlope: Number.NaN },
      { inputDim: 2, units: 2, shareWeights: true },
    ];
    for (const args of bad) {
      expect(() => new GATConv(args), JSON.stringify(args)).toThrow(
        ConfigError,
      );
    }
  });

  it("raises ShapeError for input of the wrong shape, ConfigError without a Graph", () => {
    const graph = Graph.fromEdges([0, 1], [1, 2], { numNodes: 3 });
    const layer = new GATConv({ inputDim: 2, units: 2 });
    const before = tf.memory().numTensors;
    const wrongCols = tf.zeros([3, 3]) as tf.Tensor2D;
    const wrongRows = tf.zeros([4, 2]) as tf.Tensor2D;
    expect(() => layer.apply(wrongCols, inference(graph))).toThrow(ShapeError);
    expect(() => layer.apply(wrongRows, inference(graph))).toThrow(ShapeError);
    const sparse = SparseFeatures.fromDense([1, 0, 0, 1], 2, 2);
    expect(() => layer.apply(sparse, inference(graph))).toThrow(ShapeError);
    const notGraph = { ...inference(graph), graph: {} as Graph };
    const ok = tf.zeros([3, 2]) as tf.Tensor2D;
    expect(() => layer.apply(ok, notGraph)).toThrow(ConfigError);
    tf.dispose([wrongCols, wrongRows, ok]);
    expect(tf.memory().numTensors).toBe(before);
    layer.dispose();
  });
});
