/**
 * The node-classification trainer: metrics against hand-computed cases,
 * the masked cross-entropy and its gradient against the closed form
 * `(softmax(z) − onehot(y)) / |S|`, feature preparation, and training
 * runs on a small seeded three-class graph: accuracy, determinism, the
 * weights each stopping rule selects, NaN detection, weight-decay
 * selection and tensor leaks.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, NumericalError, ShapeError } from "../../src/errors.js";
import type { GraphDataset } from "../../src/graph/datasets/types.js";
import { Graph } from "../../src/graph/graph.js";
import { SparseFeatures } from "../../src/mp/linear.js";
import {
  type NodeClassificationConfig,
  parseConfig,
} from "../../src/nn/config.js";
import { buildModel } from "../../src/nn/model.js";
import type { Parameter } from "../../src/nn/module.js";
import {
  decayedParameters,
  type EpochEvent,
  maskedCrossEntropy,
  maskedTargets,
  type NodeClassificationData,
  nodeClassificationData,
  splitMetrics,
  trainNodeClassifier,
} from "../../src/nn/train.js";
import { mulberry32, type Rng } from "../helpers/random.js";

/** A resolved config for the small problem, with `model`/`train` overrides. */
function config(
  model: Record<string, unknown>,
  train: Record<string, unknown> = {},
): NodeClassificationConfig {
  return parseConfig({
    task: "node-classification",
    dataset: { name: "cora" },
    model: { hidden: 8, ...model },
    train: { epochs: 40, patience: 0, ...train },
  });
}

/** `k` draws from `[0, n)` (with repeats) excluding `self`. */
function pick(rng: Rng, pool: number[], self: number): number {
  let j = self;
  while (j === self) j = pool[Math.floor(rng() * pool.length)];
  return j;
}

/**
 * 90 nodes in 3 classes of 30; each node links to 3 nodes of its class
 * and 1 of another (symmetrized); 6 features: a weak class signal plus
 * uniform noise, so that neighbours help. Split 10 / 10 / 10 per class.
 */
function smallProblem(seed: number): NodeClassificationData {
  const rng = mulberry32(seed);
  const n = 90;
  const c = 3;
  const labels = Int32Array.from({ length: n }, (_, i) => i % c);
  const byClass = [0, 1, 2].map((k) =>
    Array.from({ length: n }, (_, i) => i).filter((i) => labels[i] === k),
  );
  const all = Array.from({ length: n }, (_, i) => i);
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < n; i++) {
    const targets = [
      pick(rng, byClass[labels[i]], i),
      pick(rng, byClass[labels[i]], i),
      pick(rng, byClass[labels[i]], i),
      pick(rng, all, i),
    ];
    for (const j of targets) {
      src.push(i, j);
      dst.push(j, i);
    }
  }
  const graph = Graph.fromEdges(src, dst, { numNodes: n });
  const f = 6;
  const x = new Float32Array(n * f);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) x[i * f + j] = rng();
    x[i * f + labels[i]] += 0.8;
  }
  const part = (lo: number) =>
    Int32Array.from(
      all.filter((i) => Math.floor(i / c) >= lo && Math.floor(i / c) < lo + 10),
    );
  return {
    graph,
    features: tf.tensor2d(x, [n, f]),
    labels,
    numClasses: c,
    split: { train: part(0), val: part(10), test: part(20) },
  };
}

function disposeData(data: NodeClassificationData): void {
  if (!(data.features instanceof SparseFeatures)) data.features.dispose();
}

describe("metrics and the loss", () => {
  it("splitMetrics: hand-computed loss and accuracy, ties to the lower class", () => {
    const logits = Float32Array.from([2, 1, 0, 0, 0, 0, 5, 5, 5]);
    const labels = Int32Array.from([0, 2, 1]);
    const m = splitMetrics(logits, 3, labels, Int32Array.from([0, 1]));
    const expected =
      (Math.log(Math.exp(2) + Math.exp(1) + 1) - 2 + Math.log(3)) / 2;
    expect(m.loss).toBeCloseTo(expected, 12);
    expect(m.accuracy).toBe(0.5);
    const only2 = splitMetrics(logits, 3, labels, Int32Array.from([2]));
    expect(only2.accuracy).toBe(0);
    expect(only2.loss).toBeCloseTo(Math.log(3), 12);
  });

  it("maskedCrossEntropy: value and gradient match the closed form", () => {
    const rng = mulberry32(3);
    const n = 7;
    const c = 4;
    const z = Float32Array.from({ length: n * c }, () => 4 * rng() - 2);
    const labels = Int32Array.from({ length: n }, () => Math.floor(rng() * c));
    const train = Int32Array.from([0, 2, 5]);
    const logits = tf.tensor2d(z, [n, c]);
    const targets = maskedTargets(labels, train, c);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.valueAndGrads((t: tf.Tensor) =>
      maskedCrossEntropy(t as tf.Tensor2D, targets),
    )([logits]);
    const loss = value.dataSync()[0];
    expect(
      Math.abs(loss - splitMetrics(z, c, labels, train).loss),
    ).toBeLessThanOrEqual(1e-6);

    // dL/dz_i = (softmax(z_i) − e_{y_i}) / |S| for i in S, else 0
    const g = grads[0].dataSync();
    const inTrain = new Set(train);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < c; j++) sum += Math.exp(z[i * c + j]);
      for (let j = 0; j < c; j++) {
        const p = Math.exp(z[i * c + j]) / sum;
        const e = inTrain.has(i)
          ? (p - (labels[i] === j ? 1 : 0)) / train.length
          : 0;
        worst = Math.max(worst, Math.abs(g[i * c + j] - e));
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-6);
    tf.dispose([value, ...grads]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, targets]);
  });
});

describe("feature preparation", () => {
  const csr = {
    rowPtr: Int32Array.from([0, 2, 2, 5]),
    colIdx: Int32Array.from([0, 3, 1, 2, 3]),
  };
  const dataset = {
    kind: "graph",
    name: "tiny",
    graph: Graph.fromEdges([0, 1], [1, 0], { numNodes: 3 }),
    numNodes: 3,
    numUndirectedEdges: 1,
    numFeatures: 4,
    features: null,
    featureCSR: csr,
    labels: Int32Array.from([0, 1, 0]),
    numClasses: 2,
    split: {
      train: Int32Array.from([0]),
      val: Int32Array.from([1]),
      test: Int32Array.from([2]),
    },
  } as GraphDataset;

  it("row-normalizes (an empty row stays zero); sparse equals dense", () => {
    const sparse = nodeClassificationData(dataset, {
      featureNorm: "row",
      sparseFeatures: true,
    });
    expect(sparse.features).toBeInstanceOf(SparseFeatures);
    const dense = nodeClassificationData(dataset, {
      featureNorm: "row",
      sparseFeatures: false,
    });
    const t = dense.features as tf.Tensor2D;
    expect(Array.from(t.dataSync())).toEqual([
      0.5,
      0,
      0,
      0.5,
      0,
      0,
      0,
      0,
      0,
      Math.fround(1 / 3),
      Math.fround(1 / 3),
      Math.fround(1 / 3),
    ]);
    const fromSparse = (sparse.features as SparseFeatures).toDense();
    expect(Array.from(fromSparse.dataSync())).toEqual(Array.from(t.dataSync()));
    const raw = nodeClassificationData(dataset, {
      featureNorm: "none",
      sparseFeatures: true,
    });
    expect(Array.from((raw.features as SparseFeatures).values)).toEqual([
      1, 1, 1, 1, 1,
    ]);
    tf.dispose([t, fromSparse]);
  });

  it("rejects a dataset without features", () => {
    expect(() =>
      nodeClassificationData({ ...dataset, featureCSR: null, numFeatures: 0 }),
    ).toThrow(ConfigError);
  });
});

describe("training", () => {
  it("learns the small problem, deterministically per seed, without leaks", () => {
    const data = smallProblem(1);
    const c = config({ conv: "gcn", dropout: 0.2 }, { epochs: 60 });
    const before = tf.memory().numTensors;
    const events: EpochEvent[] = [];
    const a = trainNodeClassifier(c, data, {
      seed: 4,
      onEpoch: (e) => events.push(e),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(a.testAcc).toBeGreaterThanOrEqual(0.9);
    expect(a.epochs).toBe(60);
    expect(events).toEqual(a.history);
    expect(a.history[59].loss).toBeLessThan(0.7 * a.history[0].loss);

    const b = trainNodeClassifier(c, data, { seed: 4 });
    expect(b.history).toEqual(a.history);
    expect(b.testAcc).toBe(a.testAcc);
    const other = trainNodeClassifier(c, data, { seed: 5 });
    expect(other.history).not.toEqual(a.history);
    disposeData(data);
  });

  it("val_loss: keeps the weights of the lowest validation loss", () => {
    const data = smallProblem(2);
    const c = config(
      { conv: "mlp", dropout: 0.5 },
      { epochs: 150, patience: 15, lr: 0.05, stopOn: "val_loss" },
    );
    const r = trainNodeClassifier(c, data, { seed: 1 });
    const losses = r.history.map((e) => e.valLoss);
    const best = losses.indexOf(Math.min(...losses)) + 1;
    expect(r.bestEpoch).toBe(best);
    expect(r.valLoss).toBe(losses[best - 1]);
    expect(r.valAcc).toBe(r.history[best - 1].valAcc);
    if (r.stoppedEarly) expect(r.epochs).toBe(best + 15);
    disposeData(data);
  });

  it("val_acc and both: the selected epoch fits its rule", () => {
    const data = smallProblem(3);
    for (const stopOn of ["val_acc", "both"] as const) {
      const c = config(
        { conv: "gcn", dropout: 0.5 },
        { epochs: 80, patience: 20, stopOn },
      );
      const r = trainNodeClassifier(c, data, { seed: 2 });
      const h = r.history;
      const b = r.bestEpoch - 1;
      expect(r.valAcc).toBe(h[b].valAcc);
      expect(r.valLoss).toBe(h[b].valLoss);
      for (let e = 0; e < b; e++) {
        expect(h[b].valAcc).toBeGreaterThanOrEqual(h[e].valAcc);
        if (stopOn === "both") {
          expect(h[b].valLoss).toBeLessThanOrEqual(h[e].valLoss);
        }
      }
      if (stopOn === "val_acc") {
        const maxAcc = Math.max(...h.map((e) => e.valAcc));
        expect(h[b].valAcc).toBe(maxAcc);
      }
    }
    disposeData(data);
  });

  it("stops with NumericalError naming the epoch, weights untouched", () => {
    const data = smallProblem(4);
    const x = (data.features as tf.Tensor2D).arraySync();
    x[5][2] = Number.NaN;
    const bad = { ...data, features: tf.tensor2d(x) };
    // NOTE: without dropout the NaN reaches the loss at the first epoch
    const c = config({ conv: "gcn", dropout: 0 });
    const model = buildModel(c.model, { inputDim: 6, numClasses: 3 });
    const weights = model.parameters().map((p) => p.variable.arraySync());
    const before = tf.memory().numTensors;
    expect(() => trainNodeClassifier(c, bad, { model })).toThrow(
      NumericalError,
    );
    try {
      trainNodeClassifier(c, bad, { model });
    } catch (err) {
      expect((err as Error).message).toMatch(/epoch 1: loss is not finite/);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(model.parameters().map((p) => p.variable.arraySync())).toEqual(
      weights,
    );
    model.dispose();
    bad.features.dispose();
    disposeData(data);
  });

  it("rejects labels outside the classes and mismatched sizes", () => {
    const data = smallProblem(5);
    const labels = Int32Array.from(data.labels);
    labels[data.split.test[0]] = -1;
    const c = config({ conv: "mlp" }, { epochs: 1 });
    expect(() => trainNodeClassifier(c, { ...data, labels })).toThrow(
      ShapeError,
    );
    expect(() =>
      trainNodeClassifier(c, { ...data, labels: labels.subarray(1) }),
    ).toThrow(ShapeError);
    disposeData(data);
  });
});

describe("weight decay selection", () => {
  it("'first' decays the first layer only; decay: false always wins", () => {
    const v = {} as tf.Variable;
    const params: Parameter[] = [
      { name: "layers.0.weight", variable: v },
      { name: "layers.0.bias", variable: v, decay: false },
      { name: "layers.1.weight", variable: v },
      { name: "layers.10.weight", variable: v },
    ];
    expect(decayedParameters(params, "first").map((p) => p.decay)).toEqual([
      true,
      false,
      false,
      false,
    ]);
    expect(decayedParameters(params, "all").map((p) => p.decay)).toEqual([
      true,
      false,
      true,
      true,
    ]);
  });
});
