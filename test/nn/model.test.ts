/**
 * The model builder: a 2-layer GCN and an MLP against float64 dense
 * references written out here (`Â relu(Â X W1 + b1) W2 + b2` with
 * `Â = D^-1/2 (A + I) D^-1/2`), residual links, DropEdge drawn once per
 * training pass (equal to the inference pass on the dropped graph),
 * widths and parameter names of every convolution, normalization and
 * jumping-knowledge readout, a 64-layer GCN, determinism, errors and
 * tensor leaks.
 *
 * Tolerance: float32 model against the float64 reference,
 * |z − z_ref| ≤ 1e-5 · (|z_ref| + 1); a wrong normalization or a missing
 * bias is off by O(0.1) on these inputs.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { dropEdge } from "../../src/graph/rewire/dropEdge.js";
import { SparseFeatures } from "../../src/mp/linear.js";
import {
  type ConvKind,
  type ModelConfig,
  parseConfig,
} from "../../src/nn/config.js";
import { buildModel, type GnnModel } from "../../src/nn/model.js";
import { mulberry32, type Rng } from "../helpers/random.js";

const TOL = 1e-5;

/** The resolved model config of `conv` with `overrides`. */
function modelConfig(
  conv: ConvKind,
  overrides: Record<string, unknown> = {},
): ModelConfig {
  return parseConfig({
    task: "node-classification",
    dataset: { name: "cora" },
    model: { conv, ...overrides },
  }).model;
}

/** A seeded symmetric simple graph (no loops, no duplicates). */
function randomSymmetricGraph(rng: Rng, n: number, p: number): Graph {
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (rng() < p) {
        src.push(i, j);
        dst.push(j, i);
      }
    }
  }
  return Graph.fromEdges(src, dst, { numNodes: n });
}

/** Row-major float64 matrix helpers. */
type M = { rows: number; cols: number; data: Float64Array };

function fromTensor(t: tf.Tensor): M {
  const [rows, cols] = t.shape.length === 1 ? [1, t.shape[0]] : t.shape;
  return { rows, cols, data: Float64Array.from(t.dataSync()) };
}

function matmul(a: M, b: M): M {
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const v = a.data[i * a.cols + k];
      for (let j = 0; j < b.cols; j++) {
        out[i * b.cols + j] += v * b.data[k * b.cols + j];
      }
    }
  }
  return { rows: a.rows, cols: b.cols, data: out };
}

function addBias(a: M, b: M): M {
  const out = a.data.map((v, i) => v + b.data[i % a.cols]);
  return { ...a, data: out };
}

function relu(a: M): M {
  return { ...a, data: a.data.map((v) => Math.max(v, 0)) };
}

/** `Â = D^-1/2 (A + I) D^-1/2` for a graph without self-loops. */
function gcnMatrix(graph: Graph): M {
  const n = graph.numNodes;
  const a = new Float64Array(n * n);
  for (let e = 0; e < graph.numEdges; e++) {
    a[graph.dst[e] * n + graph.src[e]] += 1;
  }
  for (let i = 0; i < n; i++) a[i * n + i] += 1;
  const deg = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) deg[i] += a[i * n + j];
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      a[i * n + j] /= Math.sqrt(deg[i] * deg[j]);
    }
  }
  return { rows: n, cols: n, data: a };
}

function expectClose(actual: tf.Tensor, expected: M): void {
  const got = actual.dataSync();
  expect(got.length).toBe(expected.data.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const e = expected.data[i];
    worst = Math.max(worst, Math.abs(got[i] - e) / (Math.abs(e) + 1));
  }
  expect(worst).toBeLessThanOrEqual(TOL);
}

/** The model's parameters as float64 matrices, by name. */
function weights(model: GnnModel): Map<string, M> {
  return new Map(
    model.parameters().map((p) => [p.name, fromTensor(p.variable)]),
  );
}

function randomFeatures(rng: Rng, n: number, f: number): tf.Tensor2D {
  const data = Float32Array.from({ length: n * f }, () =>
    rng() < 0.5 ? 0 : Math.fround(rng()),
  );
  return tf.tensor2d(data, [n, f]);
}

const N = 12;
const F = 5;
const C = 3;

function inference(seed = 0) {
  return { training: false, random: mulberry32(seed) };
}

describe("GCN and MLP against float64 references", () => {
  it("2-layer GCN: Â relu(Â X W1 + b1) W2 + b2", () => {
    const rng = mulberry32(1);
    const graph = randomSymmetricGraph(rng, N, 0.3);
    const x = randomFeatures(rng, N, F);
    const model = buildModel(modelConfig("gcn", { hidden: 4 }), {
      inputDim: F,
      numClasses: C,
      seed: 3,
    });
    const w = weights(model);
    expect([...w.keys()]).toEqual([
      "layers.0.weight",
      "layers.0.bias",
      "layers.1.weight",
      "layers.1.bias",
    ]);

    // the reference, with non-zero biases so that a lost bias shows
    const b1 = tf.tensor1d([0.1, -0.2, 0.3, 0.05]);
    const b2 = tf.tensor1d([0.2, -0.1, 0.15]);
    model.parameters()[1].variable.assign(b1);
    model.parameters()[3].variable.assign(b2);
    const a = gcnMatrix(graph);
    const h = relu(
      addBias(
        matmul(a, matmul(fromTensor(x), w.get("layers.0.weight")!)),
        fromTensor(b1),
      ),
    );
    const z = addBias(
      matmul(a, matmul(h, w.get("layers.1.weight")!)),
      fromTensor(b2),
    );

    const out = model.forward(x, graph, inference());
    expect(out.hidden).toHaveLength(1);
    expectClose(out.hidden[0], h);
    expectClose(out.logits, z);

    // sparse features give the same logits
    const sparse = SparseFeatures.fromDense(x.dataSync(), N, F);
    const outSparse = model.forward(sparse, graph, inference());
    expectClose(outSparse.logits, z);

    tf.dispose([x, b1, b2, out.logits, ...out.hidden, outSparse.logits]);
    tf.dispose(outSparse.hidden);
    model.dispose();
  });

  it("MLP ignores the graph: relu(X W1 + b1) W2 + b2", () => {
    const rng = mulberry32(2);
    const graph = randomSymmetricGraph(rng, N, 0.3);
    const x = randomFeatures(rng, N, F);
    const model = buildModel(modelConfig("mlp", { hidden: 6 }), {
      inputDim: F,
      numClasses: C,
    });
    const w = weights(model);
    const h = relu(
      addBias(
        matmul(fromTensor(x), w.get("layers.0.weight")!),
        w.get("layers.0.bias")!,
      ),
    );
    const z = addBias(
      matmul(h, w.get("layers.1.weight")!),
      w.get("layers.1.bias")!,
    );
    const out = model.forward(x, graph, inference());
    expectClose(out.logits, z);
    const empty = Graph.fromEdges([], [], { numNodes: N });
    const out2 = model.forward(x, empty, inference());
    expectClose(out2.logits, z);
    tf.dispose([x, out.logits, out2.logits, ...out.hidden, ...out2.hidden]);
    model.dispose();
  });

  it("residual links add a hidden layer's input to its output", () => {
    const rng = mulberry32(3);
    const graph = randomSymmetricGraph(rng, N, 0.3);
    const x = randomFeatures(rng, N, F);
    const model = buildModel(
      modelConfig("gcn", { hidden: 4, layers: 3, residual: true }),
      { inputDim: F, numClasses: C, seed: 1 },
    );
    const w = weights(model);
    const a = gcnMatrix(graph);
    const layer = (h: M, l: number) =>
      addBias(
        matmul(a, matmul(h, w.get(`layers.${l}.weight`)!)),
        w.get(`layers.${l}.bias`)!,
      );
    const h1 = relu(layer(fromTensor(x), 0));
    const r = relu(layer(h1, 1));
    const h2 = { ...r, data: r.data.map((v, i) => v + h1.data[i]) };
    const out = model.forward(x, graph, inference());
    expect(out.hidden).toHaveLength(2);
    expectClose(out.hidden[0], h1);
    expectClose(out.hidden[1], h2);
    expectClose(out.logits, layer(h2, 2));
    tf.dispose([x, out.logits, ...out.hidden]);
    model.dispose();
  });
});

describe("DropEdge and modes", () => {
  it("draws one subgraph per training pass, only in training", () => {
    const rng = mulberry32(4);
    const graph = randomSymmetricGraph(rng, N, 0.4);
    const x = randomFeatures(rng, N, F);
    const model = buildModel(
      modelConfig("gcn", { hidden: 4, dropout: 0, dropEdge: 0.5 }),
      { inputDim: F, numClasses: C },
    );

    // with dropout 0 the only draws are DropEdge's
    const train = model.forward(x, graph, {
      training: true,
      random: mulberry32(9),
    });
    const dropped = dropEdge(graph, 0.5, { random: mulberry32(9) });
    expect(dropped.numEdges).toBeLessThan(graph.numEdges);
    const onDropped = model.forward(x, dropped, inference());
    expectClose(train.logits, fromTensor(onDropped.logits));

    // inference uses the whole graph and differs
    const full = model.forward(x, graph, inference());
    const diff = tf.max(tf.abs(tf.sub(full.logits, train.logits)));
    expect(diff.dataSync()[0]).toBeGreaterThan(1e-3);
    tf.dispose([x, train.logits, onDropped.logits, full.logits, diff]);
    tf.dispose([...train.hidden, ...onDropped.hidden, ...full.hidden]);
    model.dispose();
  });

  it("the same seed gives the same weights and training pass", () => {
    const rng = mulberry32(5);
    const graph = randomSymmetricGraph(rng, N, 0.3);
    const x = randomFeatures(rng, N, F);
    const config = modelConfig("gat", { hidden: 2, heads: 2 });
    const run = (seed: number) => {
      const model = buildModel(config, {
        inputDim: F,
        numClasses: C,
        seed,
      });
      const out = model.forward(x, graph, {
        training: true,
        random: mulberry32(7),
      });
      const values = Array.from(out.logits.dataSync());
      tf.dispose([out.logits, ...out.hidden]);
      model.dispose();
      return values;
    };
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
    x.dispose();
  });
});

describe("every convolution, normalization and readout", () => {
  const cases: {
    conv: ConvKind;
    over?: Record<string, unknown>;
    hidden: number;
    names: string[];
  }[] = [
    {
      conv: "gat",
      over: { hidden: 3, heads: 4, outHeads: 2 },
      hidden: 12,
      names: ["layers.0.weight", "layers.1.weight"],
    },
    {
      conv: "gatv2",
      over: { hidden: 3, heads: 2 },
      hidden: 6,
      names: ["layers.0.weight", "layers.1.weight"],
    },
    { conv: "sage", over: { hidden: 5 }, hidden: 5, names: [] },
    { conv: "gin", over: { hidden: 5 }, hidden: 5, names: [] },
    { conv: "sgc", hidden: 0, names: ["layers.0.weight"] },
    { conv: "appnp", over: { hidden: 5, k: 3 }, hidden: 5, names: [] },
    {
      conv: "gcn",
      over: { hidden: 5, layers: 3, norm: "pairnorm" },
      hidden: 5,
      names: ["layers.2.weight"],
    },
    {
      conv: "gcn",
      over: {
        hidden: 5,
        layers: 3,
        norm: "contranorm",
        normOptions: { layerNorm: true },
      },
      hidden: 5,
      names: ["norms.0.layerNorm.weight", "norms.1.layerNorm.weight"],
    },
    {
      conv: "gcn",
      over: { hidden: 5, layers: 3, jk: "cat" },
      hidden: 5,
      names: ["classifier.weight"],
    },
    {
      conv: "gin",
      over: { hidden: 5, layers: 3, jk: "attention" },
      hidden: 5,
      names: ["jk.att", "classifier.weight"],
    },
  ];
  for (const c of cases) {
    const label = `${c.conv} ${JSON.stringify(c.over ?? {})}`;
    it(`${label}: logits [N, C], hidden widths, names, no leaks`, () => {
      const rng = mulberry32(6);
      const graph = randomSymmetricGraph(rng, N, 0.3);
      const x = randomFeatures(rng, N, F);
      const config = modelConfig(c.conv, c.over);
      const model = buildModel(config, {
        inputDim: F,
        numClasses: C,
      });
      const names = model.parameters().map((p) => p.name);
      for (const name of c.names) {
        expect(names.some((n) => n.startsWith(name))).toBe(true);
      }
      expect(new Set(names).size).toBe(names.length);

      // NOTE: a first pass fills the caches some layers keep (SGC's
      // propagated features); the passes after it must free everything
      const warm = model.forward(x, graph, inference());
      tf.dispose([warm.logits, ...warm.hidden]);
      const before = tf.memory().numTensors;
      for (const training of [false, true]) {
        const out = model.forward(x, graph, {
          training,
          random: mulberry32(1),
        });
        expect(out.logits.shape).toEqual([N, C]);
        const expectedHidden = config.jk !== "none" ? 3 : config.layers - 1;
        expect(out.hidden).toHaveLength(expectedHidden);
        for (const h of out.hidden) expect(h.shape).toEqual([N, c.hidden]);
        expect(Array.from(out.logits.dataSync()).every(Number.isFinite)).toBe(
          true,
        );
        tf.dispose([out.logits, ...out.hidden]);
      }
      expect(tf.memory().numTensors).toBe(before);
      expect(model.summary()).toMatch(/total parameters: \d+/);
      model.dispose();
      x.dispose();
    });
  }

  it("a 64-layer GCN runs forward and backward with finite values", () => {
    const rng = mulberry32(7);
    const graph = randomSymmetricGraph(rng, N, 0.3);
    const x = randomFeatures(rng, N, F);
    const model = buildModel(
      modelConfig("gcn", { hidden: 4, layers: 64, dropout: 0.1 }),
      { inputDim: F, numClasses: C },
    );
    expect(model.depth).toBe(64);
    const variables = model.parameters().map((p) => p.variable);
    expect(variables).toHaveLength(128);
    const before = tf.memory().numTensors;
    let hiddenCount = 0;
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forward(x, graph, {
        training: true,
        random: mulberry32(1),
      });
      hiddenCount = out.hidden.length;
      tf.dispose(out.hidden);
      return tf.sum(tf.square(out.logits)) as tf.Scalar;
    }, variables);
    expect(hiddenCount).toBe(63);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    for (const g of Object.values(grads)) {
      expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    }
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    x.dispose();
  });
});

describe("errors", () => {
  it("rejects bad sizes and mismatched features", () => {
    const config = modelConfig("gcn");
    expect(() => buildModel(config, { inputDim: 0, numClasses: 2 })).toThrow(
      ConfigError,
    );
    expect(() => buildModel(config, { inputDim: 3, numClasses: 1.5 })).toThrow(
      ConfigError,
    );
    const model = buildModel(config, { inputDim: F, numClasses: C });
    const graph = Graph.fromEdges([], [], { numNodes: N });
    const x = tf.zeros([N, F + 1]) as tf.Tensor2D;
    expect(() => model.forward(x, graph, inference())).toThrow(ShapeError);
    const y = tf.zeros([N - 1, F]) as tf.Tensor2D;
    expect(() => model.forward(y, graph, inference())).toThrow(ShapeError);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("rejects an SGC stack deeper than one layer", () => {
    const config = { ...modelConfig("sgc"), layers: 2 };
    expect(() => buildModel(config, { inputDim: F, numClasses: C })).toThrow(
      ConfigError,
    );
  });
});
