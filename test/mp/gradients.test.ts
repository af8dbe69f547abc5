/**
 * Gradients of propagate against central finite differences of the float64
 * dense reference: with respect to the features x, the edge weights (as a
 * tensor option), a learnable softmax temperature and a learnable
 * power-mean p, for every aggregator case, the default and custom
 * messages, and a custom update.
 *
 * The loss is `L = Σ out ⊙ R` with a fixed random R. The finite
 * differences run in float64 (step 1e-6, so their own error is ~1e-9);
 * the float32 autodiff gradient must satisfy
 * |g − g_fd| ≤ 2e-5 · (|g_fd| + 1); the largest error seen was 7e-7 at
 * that scale (float32 rounding), a wrong derivative is off by O(1). The
 * loss itself must match the reference to 1e-5 · (|L| + 1).
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import {
  type AggregateSpec,
  PowerMeanAggregator,
  SoftmaxAggregator,
} from "../../src/mp/aggregators.js";
import {
  type MessageFn,
  propagate,
  type UpdateFn,
} from "../../src/mp/propagate.js";
import {
  centralDifference,
  type DenseAggregate,
  type DenseMessage,
  type DenseOptions,
  denseReference,
  denseWidth,
  dot,
  type EdgeList,
  fromCSROrder,
  type Matrix,
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
import { mulberry32, type Rng } from "../helpers/random.js";

const RTOL = 2e-5;
const ATOL = 2e-5;
const N = 10;
const D = 3;

/** Which weights a gradient test uses. */
type Weighting = "unweighted" | "graph weights" | "tensor weights";

/** One gradient check. */
interface GradientProblem {
  seed: number;
  weighting: Weighting;
  aggregate: AggregateSpec;
  dense: DenseAggregate;
  message?: MessageFn;
  denseMessage?: DenseMessage;
  update?: UpdateFn;
  denseUpdate?: DenseOptions["update"];
  /** Lower end of the feature range. */
  low?: number;
  /** A learnable scalar of the aggregator, and how the reference uses it. */
  scalar?: {
    variable: tf.Variable;
    dense: (value: number) => DenseAggregate;
  };
}

/** Float64 vector of a scalar loss's parameters: x, then w, then θ. */
interface Layout {
  x: Matrix;
  w: number[] | null;
  theta: number | null;
}

function pack(l: Layout): Float64Array {
  return Float64Array.from([
    ...l.x.data,
    ...(l.w ?? []),
    ...(l.theta === null ? [] : [l.theta]),
  ]);
}

/**
 * Run one problem: autodiff of propagate against finite differences of
 * the reference; returns the worst error ratio (≤ 1 passes) and where.
 */
function check(problem: GradientProblem): {
  ratio: number;
  detail: string;
} {
  const rng: Rng = mulberry32(problem.seed);
  const { edges, graph, csrOrder } = messyGraph(rng, {
    numNodes: N,
    numEdges: 24,
    weighted: problem.weighting === "graph weights",
  });
  const x = randomMatrix(rng, N, D, problem.low ?? -1, 1);
  const w =
    problem.weighting === "tensor weights"
      ? edges.src.map(() => Math.fround(-0.5 + 2 * rng()))
      : null;

  // the loss's projection, as wide as the output
  const msgWidth =
    problem.denseMessage === undefined
      ? D
      : problem.denseMessage([0, 0, 0], [0, 0, 0], 1).length;
  const width0 = denseWidth(problem.dense, msgWidth);
  const outWidth =
    problem.denseUpdate === undefined
      ? width0
      : problem.denseUpdate(new Array(width0).fill(0), [0, 0, 0]).length;
  const r = randomMatrix(rng, N, outWidth);

  // float64: the reference loss as a function of the packed parameters
  const theta =
    problem.scalar === undefined
      ? null
      : (problem.scalar.variable.dataSync()[0] as number);
  const layout: Layout = { x, w, theta };
  const loss64 = (v: Float64Array): number => {
    const xv: Matrix = { rows: N, cols: D, data: v.subarray(0, N * D) };
    let used: EdgeList = edges;
    if (w !== null) {
      used = {
        ...edges,
        weights: Array.from(v.subarray(N * D, N * D + w.length)),
      };
    }
    const dense =
      problem.scalar === undefined
        ? problem.dense
        : problem.scalar.dense(v[v.length - 1]);
    const out = denseReference(used, xv, {
      aggregate: dense,
      message: problem.denseMessage,
      update: problem.denseUpdate,
    });
    return dot(out.data, r.data);
  };
  const expected = centralDifference(loss64, pack(layout));

  // float32: autodiff through propagate, with the inputs as variables
  const xv = tf.variable(tensorOf(x));
  const wv =
    w === null ? null : tf.variable(tf.tensor1d(toCSROrder(w, csrOrder)));
  const rt = tensorOf(r);
  const vars: tf.Variable[] = [xv];
  if (wv !== null) vars.push(wv);
  if (problem.scalar !== undefined) vars.push(problem.scalar.variable);
  const { value, grads } = tf.variableGrads(() => {
    const out = propagate(graph, xv as tf.Tensor2D, {
      aggregate: problem.aggregate,
      message: problem.message,
      update: problem.update,
      weights: (wv ?? undefined) as tf.Tensor1D | undefined,
    });
    return out.mul(rt).sum() as tf.Scalar;
  }, vars);
  const actual: number[] = [...grads[xv.name].dataSync()];
  if (wv !== null) {
    actual.push(...fromCSROrder(grads[wv.name].dataSync(), csrOrder));
  }
  if (problem.scalar !== undefined) {
    actual.push(grads[problem.scalar.variable.name].dataSync()[0]);
  }

  // the loss values agree too
  const loss = loss64(pack(layout));
  const lossError =
    Math.abs(value.dataSync()[0] - loss) / (1e-5 * (Math.abs(loss) + 1));
  tf.dispose([value, rt, xv, ...Object.values(grads)]);
  if (wv !== null) wv.dispose();

  const worst = worstError(actual, expected, RTOL, ATOL);
  const ratio = Math.max(worst.ratio, lossError);
  return { ratio, detail: JSON.stringify({ ...worst, lossError }) };
}

const CONFIGS: {
  label: string;
  weighting: Weighting;
  message: (typeof MESSAGE_CASES)[number];
}[] = [
  {
    label: "default message, unweighted",
    weighting: "unweighted",
    message: MESSAGE_CASES[0],
  },
  {
    label: "default message, graph weights",
    weighting: "graph weights",
    message: MESSAGE_CASES[0],
  },
  {
    label: "default message, tensor weights",
    weighting: "tensor weights",
    message: MESSAGE_CASES[0],
  },
  {
    label: "w·tanh(src + dst/2), tensor weights",
    weighting: "tensor weights",
    message: MESSAGE_CASES[1],
  },
  {
    label: "[src, w·dst], unweighted",
    weighting: "unweighted",
    message: MESSAGE_CASES[2],
  },
];

describe.each(CONFIGS)("gradients, $label", (config) => {
  it.each(AGGREGATOR_CASES)("$label matches finite differences", (c) => {
    const { ratio, detail } = check({
      seed: 77 + CONFIGS.indexOf(config),
      weighting: config.weighting,
      aggregate: c.spec,
      dense: c.dense,
      message: config.message.message,
      denseMessage: config.message.dense,
      low: c.low,
    });
    expect(ratio, detail).toBeLessThanOrEqual(1);
  });
});

describe("gradients of learnable aggregators", () => {
  it("softmax temperature, with tensor weights", () => {
    const agg = new SoftmaxAggregator({ temperature: 1.7, learnable: true });
    const { ratio, detail } = check({
      seed: 5,
      weighting: "tensor weights",
      aggregate: agg,
      dense: { name: "softmax", temperature: 1.7 },
      scalar: {
        variable: agg.temperature as tf.Variable,
        dense: (t) => ({ name: "softmax", temperature: t }),
      },
    });
    agg.dispose();
    expect(ratio, detail).toBeLessThanOrEqual(1);
  });

  it("softmax temperature inside a list, custom message", () => {
    const agg = new SoftmaxAggregator({ temperature: -0.8, learnable: true });
    const { ratio, detail } = check({
      seed: 6,
      weighting: "tensor weights",
      aggregate: ["max", agg],
      dense: {
        list: [{ name: "max" }, { name: "softmax", temperature: -0.8 }],
        combine: "concat",
      },
      message: MESSAGE_CASES[1].message,
      denseMessage: MESSAGE_CASES[1].dense,
      scalar: {
        variable: agg.temperature as tf.Variable,
        dense: (t) => ({
          list: [{ name: "max" }, { name: "softmax", temperature: t }],
          combine: "concat",
        }),
      },
    });
    agg.dispose();
    expect(ratio, detail).toBeLessThanOrEqual(1);
  });

  for (const [p, low] of [
    [2.2, 0.1],
    [0.6, 0.1],
    [1.5, -1],
    [1, -1],
  ]) {
    it(`powermean p = ${p}, features from ${low}`, () => {
      const agg = new PowerMeanAggregator({ p, learnable: true });
      const { ratio, detail } = check({
        seed: 8,
        weighting: low > 0 ? "graph weights" : "tensor weights",
        aggregate: agg,
        dense: { name: "powermean", p, alwaysClamp: true },
        low,
        scalar: {
          variable: agg.p as tf.Variable,
          dense: (q) => ({ name: "powermean", p: q, alwaysClamp: true }),
        },
      });
      agg.dispose();
      expect(ratio, detail).toBeLessThanOrEqual(1);
    });
  }
});

describe("gradients with a custom update", () => {
  // update: tanh(aggregated · W) + x², with W a fixed [d', d] matrix
  const rng = mulberry32(99);
  const wMatrix = randomMatrix(rng, 2 * D, D);
  const denseUpdate = (agg: number[], own: number[]): number[] =>
    own.map((v, k) => {
      let s = 0;
      for (let j = 0; j < agg.length; j++) {
        s += agg[j] * wMatrix.data[j * D + k];
      }
      return Math.tanh(s) + v * v;
    });

  it.each([
    { label: "mean, default message", spec: ["mean", "sum"], msg: 0 },
    { label: "std, custom message", spec: ["std", "min"], msg: 1 },
  ])("$label", ({ spec, msg }) => {
    const wt = tensorOf(wMatrix);
    const update: UpdateFn = (agg, x) =>
      tf.tanh(agg.matMul(wt)).add(x.square()) as tf.Tensor2D;
    const names = spec as ("mean" | "sum" | "std" | "min")[];
    const { ratio, detail } = check({
      seed: 31,
      weighting: "tensor weights",
      aggregate: names,
      dense: {
        list: names.map((name) => ({ name })),
        combine: "concat",
      },
      message: MESSAGE_CASES[msg].message,
      denseMessage: MESSAGE_CASES[msg].dense,
      update,
      denseUpdate,
    });
    wt.dispose();
    expect(ratio, detail).toBeLessThanOrEqual(1);
  });
});
