/**
 * Every aggregator (built-ins, options, lists, a custom one) against the
 * float64 dense reference, on seeded random multigraphs with isolated
 * nodes, duplicate edges and self-loops; unweighted, with graph weights
 * and with tensor weights; with the default and with custom messages.
 *
 * Tolerance: |float32 − float64| ≤ 1e-5 · (|reference| + 1), a relative
 * error of 1e-5 with an absolute floor at the unit scale of the outputs.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import {
  MultiAggregator,
  PowerMeanAggregator,
  resolveAggregator,
  SoftmaxAggregator,
  StdAggregator,
  SumAggregator,
} from "../../src/mp/aggregators.js";
import { propagate } from "../../src/mp/propagate.js";
import {
  segmentMean,
  segmentSoftmax,
  segmentsFromRowPtr,
} from "../../src/mp/segment.js";
import {
  denseReference,
  type EdgeList,
  messyGraph,
  randomMatrix,
  toCSROrder,
  worstError,
} from "../helpers/dense.js";
import {
  AGGREGATOR_CASES,
  MESSAGE_CASES,
  tensorOf,
} from "../helpers/mp-cases.js";
import { mulberry32 } from "../helpers/random.js";

const RTOL = 1e-5;
const ATOL = 1e-5;

type Weighting = "unweighted" | "graph weights" | "tensor weights";
const WEIGHTINGS: Weighting[] = [
  "unweighted",
  "graph weights",
  "tensor weights",
];

describe.each(WEIGHTINGS)("aggregators, %s", (weighting) => {
  describe.each(MESSAGE_CASES)("$label", (messageCase) => {
    it.each(AGGREGATOR_CASES)("$label matches the reference", (aggCase) => {
      const rng = mulberry32(1000 + WEIGHTINGS.indexOf(weighting));
      const { edges, graph, csrOrder } = messyGraph(rng, {
        numNodes: 14,
        numEdges: 40,
        weighted: weighting !== "unweighted",
      });
      const x = randomMatrix(rng, 14, 4, aggCase.low ?? -1, 1);

      // tensor weights override the graph's own
      let used: EdgeList = edges;
      let weights: tf.Tensor1D | undefined;
      if (weighting === "tensor weights") {
        const w = edges.src.map(() => Math.fround(-0.5 + 2 * rng()));
        used = { ...edges, weights: w };
        weights = tf.tensor1d(toCSROrder(w, csrOrder));
      }

      const xt = tensorOf(x);
      const out = propagate(graph, xt, {
        aggregate: aggCase.spec,
        message: messageCase.message,
        weights,
      });
      const expected = denseReference(used, x, {
        aggregate: aggCase.dense,
        message: messageCase.dense,
      });
      expect(out.shape).toEqual([expected.rows, expected.cols]);
      const worst = worstError(out.dataSync(), expected.data, RTOL, ATOL);
      expect(worst.ratio, JSON.stringify(worst)).toBeLessThanOrEqual(1);
      tf.dispose([xt, out, weights as tf.Tensor1D]);
    });
  });
});

describe("aggregators on isolated nodes", () => {
  it("gives exactly 0 for a node without incoming edges", () => {
    // node 2 has no incoming edge; node 3 has no edge at all
    const rng = mulberry32(7);
    const { graph } = messyGraph(rng, {
      numNodes: 6,
      numEdges: 8,
      weighted: true,
    });
    const empty = [];
    for (let i = 0; i < 6; i++) {
      if (graph.rowPtr[i] === graph.rowPtr[i + 1]) empty.push(i);
    }
    expect(empty.length).toBeGreaterThanOrEqual(3);
    const x = tf.randomUniform([6, 3], -1, 1, "float32", 3) as tf.Tensor2D;
    for (const c of AGGREGATOR_CASES) {
      const out = propagate(graph, x, { aggregate: c.spec });
      const data = out.dataSync();
      const width = out.shape[1];
      for (const i of empty) {
        const rowValues = Array.from(data.slice(i * width, (i + 1) * width));
        expect(rowValues, c.label).toEqual(rowValues.map(() => 0));
      }
      out.dispose();
    }
    x.dispose();
  });
});

describe("resolveAggregator", () => {
  it("turns names, configs, lists and arrays into aggregators", () => {
    expect(resolveAggregator("sum")).toBeInstanceOf(SumAggregator);
    const std = resolveAggregator({ name: "std", eps: 0.5 });
    expect(std).toBeInstanceOf(StdAggregator);
    expect((std as StdAggregator).eps).toBe(0.5);
    const list = resolveAggregator({ list: ["sum", "max"], combine: "sum" });
    expect(list).toBeInstanceOf(MultiAggregator);
    expect((list as MultiAggregator).combine).toBe("sum");
    const arr = resolveAggregator(["mean", ["min", "max"]]);
    expect((arr as MultiAggregator).combine).toBe("concat");
    expect(arr.outputDim?.(5)).toBe(15);
  });

  it("raises ConfigError for unknown names, options and empty lists", () => {
    expect(() => resolveAggregator("median" as never)).toThrow(ConfigError);
    expect(() => resolveAggregator({ name: "nope" } as never)).toThrow(
      ConfigError,
    );
    expect(() =>
      resolveAggregator({ name: "sum", temperature: 2 } as never),
    ).toThrow(ConfigError);
    expect(() => resolveAggregator([])).toThrow(ConfigError);
    expect(() =>
      resolveAggregator({ list: ["sum"], combine: "max" } as never),
    ).toThrow(ConfigError);
    expect(() => resolveAggregator(42 as never)).toThrow(ConfigError);
    expect(() => new PowerMeanAggregator({ p: 0 })).toThrow(ConfigError);
    expect(() => new StdAggregator({ eps: -1 })).toThrow(ConfigError);
    expect(() => new SoftmaxAggregator({ temperature: Number.NaN })).toThrow(
      ConfigError,
    );
  });

  it("refuses a learnable inline config in propagate, not as an object", () => {
    const rng = mulberry32(11);
    const { graph } = messyGraph(rng, {
      numNodes: 5,
      numEdges: 6,
      weighted: false,
    });
    const x = tf.ones([5, 2]) as tf.Tensor2D;
    expect(() =>
      propagate(graph, x, {
        aggregate: { name: "softmax", learnable: true },
      }),
    ).toThrow(ConfigError);
    const agg = new SoftmaxAggregator({ learnable: true, temperature: 3 });
    expect(agg.variables).toHaveLength(1);
    expect(agg.temperature).toBeInstanceOf(tf.Variable);
    const out = propagate(graph, x, { aggregate: agg });
    expect(out.shape).toEqual([5, 2]);
    tf.dispose([x, out]);
    agg.dispose();
  });

  it("frees its learnable variables on dispose", () => {
    const before = tf.memory().numTensors;
    const softmax = new SoftmaxAggregator({ learnable: true });
    const power = new PowerMeanAggregator({ p: 2, learnable: true });
    const list = resolveAggregator([softmax, power, "sum"]);
    expect(list.variables).toEqual([softmax.temperature, power.p]);
    expect(tf.memory().numTensors).toBe(before + 2);
    softmax.dispose();
    power.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("raises ShapeError when a sum/mean combination mixes widths", () => {
    const rng = mulberry32(12);
    const { graph } = messyGraph(rng, {
      numNodes: 5,
      numEdges: 6,
      weighted: false,
    });
    const x = tf.ones([5, 2]) as tf.Tensor2D;
    const wide = {
      name: "wide",
      outputDim: (d: number) => 2 * d,
      aggregate: (m: tf.Tensor2D, s: Parameters<typeof segmentMean>[1]) =>
        tf.concat([segmentMean(m, s), segmentMean(m, s)], 1),
    };
    expect(() =>
      propagate(graph, x, {
        aggregate: { list: ["sum", wide], combine: "sum" },
      }),
    ).toThrow(ShapeError);
    x.dispose();
  });
});

describe("segment primitives", () => {
  it("segmentSoftmax sums to one per segment and channel", () => {
    const rowPtr = Int32Array.from([0, 3, 3, 5]);
    const segments = segmentsFromRowPtr(rowPtr);
    expect(Array.from(segments.segmentIds)).toEqual([0, 0, 0, 2, 2]);
    expect(Array.from(segments.counts)).toEqual([3, 0, 2]);
    const scores = tf.tensor2d([1, -2, 0.5, 3, 2, 2, 40, -40, 39, 41], [5, 2]);
    const alpha = segmentSoftmax(scores, segments).arraySync();
    for (const k of [0, 1]) {
      const s0 = alpha[0][k] + alpha[1][k] + alpha[2][k];
      const s2 = alpha[3][k] + alpha[4][k];
      expect(Math.abs(s0 - 1)).toBeLessThan(1e-6);
      expect(Math.abs(s2 - 1)).toBeLessThan(1e-6);
    }
    // exp(40 - 39) / (1 + e) without overflow
    expect(alpha[3][0]).toBeCloseTo(Math.E / (1 + Math.E), 6);
    scores.dispose();
  });

  it("raises ShapeError for edge tensors of the wrong length", () => {
    const segments = segmentsFromRowPtr(Int32Array.from([0, 2, 3]));
    const data = tf.zeros([4, 2]) as tf.Tensor2D;
    expect(() => segmentMean(data, segments)).toThrow(ShapeError);
    data.dispose();
  });
});
