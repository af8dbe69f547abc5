/**
 * The aggregators and message functions the src/mp suites run, each paired
 * with its float64 counterpart from `dense.ts`.
 */

import { tf } from "../../src/backend.js";
import type { AggregateSpec, Aggregator } from "../../src/mp/aggregators.js";
import type { EdgeBatch, MessageFn } from "../../src/mp/propagate.js";
import { segmentMax, segmentSum } from "../../src/mp/segment.js";
import type { DenseAggregate, DenseMessage, Matrix } from "./dense.js";

/** A float64 reference matrix as a float32 tensor. */
export function tensorOf(m: Matrix): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(m.data), [m.rows, m.cols]);
}

/** One aggregator under test. */
export interface AggregatorCase {
  readonly label: string;
  readonly spec: AggregateSpec;
  readonly dense: DenseAggregate;
  /** Lower end of the feature range (default −1; > 0 keeps powers real). */
  readonly low?: number;
}

/** A user-defined aggregator: `[Σ m², max m]` (width 2d). */
export const sumSquaresAndMax: Aggregator = {
  name: "sumSquaresAndMax",
  outputDim: (d) => 2 * d,
  aggregate: (m, segments) =>
    tf.tidy(() =>
      tf.concat(
        [
          segmentSum(m.square() as tf.Tensor2D, segments),
          segmentMax(m, segments),
        ],
        1,
      ),
    ),
};

/** The float64 counterpart of {@link sumSquaresAndMax}. */
const sumSquaresAndMax64: DenseAggregate = {
  name: "custom",
  width: (d) => 2 * d,
  reduce: (msgs, d) => {
    const out: number[] = [];
    for (let k = 0; k < d; k++) {
      out.push(msgs.reduce((s, m) => s + m[k] * m[k], 0));
    }
    for (let k = 0; k < d; k++) {
      out.push(msgs.length === 0 ? 0 : Math.max(...msgs.map((m) => m[k])));
    }
    return out;
  },
};

/** Every built-in, with options, in lists, and a custom aggregator. */
export const AGGREGATOR_CASES: readonly AggregatorCase[] = [
  { label: "sum", spec: "sum", dense: { name: "sum" } },
  { label: "mean", spec: "mean", dense: { name: "mean" } },
  { label: "max", spec: "max", dense: { name: "max" } },
  { label: "min", spec: "min", dense: { name: "min" } },
  { label: "var", spec: "var", dense: { name: "var" } },
  { label: "std", spec: "std", dense: { name: "std" } },
  {
    label: "std eps=1e-2",
    spec: { name: "std", eps: 1e-2 },
    dense: { name: "std", eps: 1e-2 },
  },
  { label: "softmax", spec: "softmax", dense: { name: "softmax" } },
  {
    label: "softmax t=2.5",
    spec: { name: "softmax", temperature: 2.5 },
    dense: { name: "softmax", temperature: 2.5 },
  },
  {
    label: "softmax t=-1.5",
    spec: { name: "softmax", temperature: -1.5 },
    dense: { name: "softmax", temperature: -1.5 },
  },
  { label: "powermean p=1", spec: "powermean", dense: { name: "powermean" } },
  {
    label: "powermean p=2",
    spec: { name: "powermean", p: 2 },
    dense: { name: "powermean", p: 2 },
  },
  {
    label: "powermean p=0.5",
    spec: { name: "powermean", p: 0.5 },
    dense: { name: "powermean", p: 0.5 },
  },
  {
    label: "powermean p=3, positive features",
    spec: { name: "powermean", p: 3 },
    dense: { name: "powermean", p: 3 },
    low: 0.1,
  },
  {
    label: "[sum, max] (concat)",
    spec: ["sum", "max"],
    dense: { list: [{ name: "sum" }, { name: "max" }], combine: "concat" },
  },
  {
    label: "mean + softmax t=2 (sum)",
    spec: {
      list: ["mean", { name: "softmax", temperature: 2 }],
      combine: "sum",
    },
    dense: {
      list: [{ name: "mean" }, { name: "softmax", temperature: 2 }],
      combine: "sum",
    },
  },
  {
    label: "min, std, var (mean)",
    spec: { list: ["min", "std", "var"], combine: "mean" },
    dense: {
      list: [{ name: "min" }, { name: "std" }, { name: "var" }],
      combine: "mean",
    },
  },
  {
    label: "[[mean, min], powermean p=2, custom] (nested concat)",
    spec: [["mean", "min"], { name: "powermean", p: 2 }, sumSquaresAndMax],
    dense: {
      list: [
        { list: [{ name: "mean" }, { name: "min" }], combine: "concat" },
        { name: "powermean", p: 2 },
        sumSquaresAndMax64,
      ],
      combine: "concat",
    },
  },
  { label: "custom", spec: sumSquaresAndMax, dense: sumSquaresAndMax64 },
];

/** One message function under test (undefined: the default message). */
export interface MessageCase {
  readonly label: string;
  readonly message: MessageFn | undefined;
  readonly dense: DenseMessage | undefined;
}

/** The edge weight as an `[E, 1]` column, or null. */
function weightColumn(b: EdgeBatch): tf.Tensor2D | null {
  return b.weight === null
    ? null
    : (b.weight.reshape([b.numEdges, 1]) as tf.Tensor2D);
}

/** Every message kind: default, a nonlinear one, one that widens. */
export const MESSAGE_CASES: readonly MessageCase[] = [
  { label: "default message", message: undefined, dense: undefined },
  {
    label: "message w·tanh(src + dst/2)",
    message: (b) => {
      const m = tf.tanh(b.src.add(b.dst.mul(0.5))) as tf.Tensor2D;
      const w = weightColumn(b);
      return w === null ? m : (m.mul(w) as tf.Tensor2D);
    },
    dense: (xs, xd, w) => xs.map((v, k) => w * Math.tanh(v + 0.5 * xd[k])),
  },
  {
    label: "message [src, w·dst] (width 2d)",
    message: (b) => {
      const w = weightColumn(b);
      const dst = w === null ? b.dst : (b.dst.mul(w) as tf.Tensor2D);
      return tf.concat([b.src, dst], 1);
    },
    dense: (xs, xd, w) => [...xs, ...xd.map((v) => w * v)],
  },
];
