/**
 * propagate / propagateCSR: a hand-computed example, bit-for-bit
 * determinism, the fused and gathered paths against each other, empty
 * graphs, argument errors, tensor leaks, rectangular CSRs, the affinity
 * hand-over, and the CPU backend.
 *
 * Tolerances: 1e-5 · (|reference| + 1) against the float64 reference (as
 * in aggregators.test.ts); fused against gathered path and CPU against
 * WASM, both float32: 1e-6 · (|value| + 1).
 */

import { afterAll, describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import type { AggregateSpec } from "../../src/mp/aggregators.js";
import {
  type AffinityGraphLike,
  type BipartiteCSR,
  type EdgeBatch,
  type MessageFn,
  type PropagateOptions,
  propagate,
  propagateCSR,
} from "../../src/mp/propagate.js";
import { transposeCSR } from "../../src/mp/segment.js";
import {
  centralDifference,
  denseReference,
  dot,
  type EdgeList,
  messyGraph,
  randomMatrix,
  worstError,
} from "../helpers/dense.js";
import {
  AGGREGATOR_CASES,
  MESSAGE_CASES,
  tensorOf,
} from "../helpers/mp-cases.js";
import { mulberry32 } from "../helpers/random.js";

/** The default message written out, to force the gathered path. */
const explicitLinear: MessageFn = (b) =>
  b.weight === null
    ? b.src
    : (b.src.mul(b.weight.reshape([b.numEdges, 1])) as tf.Tensor2D);

/** Forward and gradients (x, and weights when given) of `Σ out ⊙ r`. */
function forwardAndGrads(
  graph: Graph,
  x: tf.Tensor2D,
  weights: tf.Tensor1D | null,
  options: PropagateOptions,
): Float32Array[] {
  const r = tf.randomUniform(
    [x.shape[0], 1],
    -1,
    1,
    "float32",
    5,
  ) as tf.Tensor2D;
  const f = (...args: tf.Tensor[]) => {
    const out = propagate(graph, args[0] as tf.Tensor2D, {
      ...options,
      weights: (args[1] as tf.Tensor1D | undefined) ?? undefined,
    });
    return out.mul(r).sum() as tf.Scalar;
  };
  const inputs = weights === null ? [x] : [x, weights];
  const out = propagate(graph, x, {
    ...options,
    weights: weights ?? undefined,
  });
  const grads = tf.grads(f)(inputs);
  const result = [out, ...grads].map((t) => t.dataSync() as Float32Array);
  tf.dispose([r, out, ...grads]);
  return result;
}

describe("propagate by hand", () => {
  // edges into 1: 0 (w 2), 2 (w 0.5), 1 (self-loop, w 1), 0 again (w 3);
  // into 0: 2 (w 1). Node 3 has no edge.
  const graph = Graph.fromEdges([0, 2, 1, 0, 2], [1, 1, 1, 1, 0], {
    numNodes: 4,
    weights: [2, 0.5, 1, 3, 1],
  });
  const x = tf.tensor2d([
    [1, -1],
    [2, 4],
    [-2, 6],
    [9, 9],
  ]);
  afterAll(() => x.dispose());

  it.each([
    // messages into 1: [2, -2], [-1, 3], [2, 4], [3, -3]
    [
      "sum",
      [
        [-2, 6],
        [6, 2],
        [0, 0],
        [0, 0],
      ],
    ],
    [
      "mean",
      [
        [-2, 6],
        [1.5, 0.5],
        [0, 0],
        [0, 0],
      ],
    ],
    [
      "max",
      [
        [-2, 6],
        [3, 4],
        [0, 0],
        [0, 0],
      ],
    ],
    [
      "min",
      [
        [-2, 6],
        [-1, -3],
        [0, 0],
        [0, 0],
      ],
    ],
    [
      "var",
      [
        [0, 0],
        [2.25, 9.25],
        [0, 0],
        [0, 0],
      ],
    ],
  ] as [AggregateSpec, number[][]][])("%s", (aggregate, expected) => {
    const out = propagate(graph, x, { aggregate });
    const got = out.arraySync();
    for (let i = 0; i < 4; i++) {
      for (let k = 0; k < 2; k++) {
        expect(got[i][k]).toBeCloseTo(expected[i][k], 5);
      }
    }
    out.dispose();
  });

  it("hands the edge batch over in CSR order", () => {
    let seen: EdgeBatch | null = null;
    const out = propagate(graph, x, {
      message: (b) => {
        seen = b;
        return b.src;
      },
    });
    const b = seen as unknown as EdgeBatch;
    expect(b.numEdges).toBe(5);
    expect(Array.from(b.dstIndex)).toEqual([0, 1, 1, 1, 1]);
    expect(Array.from(b.srcIndex)).toEqual([2, 0, 0, 1, 2]);
    out.dispose();
  });

  it("gives a null weight for an unweighted graph", () => {
    const plain = Graph.fromEdges([0, 1], [1, 0], { numNodes: 4 });
    let weight: tf.Tensor1D | null | undefined;
    const out = propagate(plain, x, {
      message: (b) => {
        weight = b.weight;
        return b.src;
      },
    });
    expect(weight).toBeNull();
    out.dispose();
  });
});

describe("determinism", () => {
  it.each([
    { label: "sum, fused", aggregate: "sum", message: 0 },
    { label: "mean, fused", aggregate: "mean", message: 0 },
    { label: "max, fused", aggregate: "max", message: 0 },
    {
      label: "softmax + std, custom message",
      aggregate: ["softmax", "std"],
      message: 1,
    },
    { label: "sum, gathered", aggregate: "sum", message: -1 },
  ] as { label: string; aggregate: AggregateSpec; message: number }[])(
    "$label: identical bits forward and backward",
    ({ aggregate, message }) => {
      const rng = mulberry32(2024);
      const { graph } = messyGraph(rng, {
        numNodes: 300,
        numEdges: 3000,
        weighted: true,
      });
      const x = tensorOf(randomMatrix(rng, 300, 16));
      const w = tf.randomUniform([graph.numEdges], 0, 2, "float32", 9);
      const options: PropagateOptions = {
        aggregate,
        message: message < 0 ? explicitLinear : MESSAGE_CASES[message].message,
      };
      const first = forwardAndGrads(graph, x, w as tf.Tensor1D, options);
      const second = forwardAndGrads(graph, x, w as tf.Tensor1D, options);
      expect(first).toHaveLength(3);
      for (let j = 0; j < first.length; j++) {
        const a = new Uint32Array(first[j].buffer, first[j].byteOffset);
        const b = new Uint32Array(second[j].buffer, second[j].byteOffset);
        expect(b.length).toBe(a.length);
        expect(
          Buffer.compare(
            Buffer.from(a.buffer, a.byteOffset, a.byteLength),
            Buffer.from(b.buffer, b.byteOffset, b.byteLength),
          ),
        ).toBe(0);
      }
      tf.dispose([x, w]);
    },
  );
});

describe("fused and gathered paths", () => {
  it.each([
    "sum",
    "mean",
    "max",
    "min",
    ["sum", "var", "max"],
  ] as AggregateSpec[])("%s: the same values and gradients", (aggregate) => {
    const rng = mulberry32(55);
    const { graph } = messyGraph(rng, {
      numNodes: 40,
      numEdges: 200,
      weighted: false,
    });
    const x = tensorOf(randomMatrix(rng, 40, 5));
    const w = tf.randomUniform([graph.numEdges], -1, 2, "float32", 4);
    const fused = forwardAndGrads(graph, x, w as tf.Tensor1D, {
      aggregate,
    });
    const gathered = forwardAndGrads(graph, x, w as tf.Tensor1D, {
      aggregate,
      message: explicitLinear,
    });
    for (let j = 0; j < fused.length; j++) {
      const worst = worstError(fused[j], gathered[j], 1e-6, 1e-6);
      expect(worst.ratio, JSON.stringify(worst)).toBeLessThanOrEqual(1);
    }
    tf.dispose([x, w]);
  });
});

describe("empty graphs", () => {
  it.each(AGGREGATOR_CASES)("$label: zeros without edges", (c) => {
    const graph = Graph.empty(5);
    const x = tf.randomUniform([5, 3], -1, 1, "float32", 1) as tf.Tensor2D;
    const w = tf.zeros([0]) as tf.Tensor1D;
    for (const m of MESSAGE_CASES) {
      const [out, dx, dw] = forwardAndGrads(graph, x, w, {
        aggregate: c.spec,
        message: m.message,
      });
      expect(Array.from(out).every((v) => v === 0)).toBe(true);
      expect(out.length % 5).toBe(0);
      expect(Array.from(dx)).toEqual(new Array(15).fill(0));
      expect(dw.length).toBe(0);
    }
    tf.dispose([x, w]);
  });

  it.each(AGGREGATOR_CASES)("$label: a graph without nodes", (c) => {
    const graph = Graph.empty(0);
    const x = tf.zeros([0, 3]) as tf.Tensor2D;
    for (const m of MESSAGE_CASES) {
      const out = propagate(graph, x, {
        aggregate: c.spec,
        message: m.message,
      });
      expect(out.shape[0]).toBe(0);
      out.dispose();
    }
    x.dispose();
  });
});

describe("argument errors", () => {
  const graph = Graph.fromEdges([0, 1, 2], [1, 2, 0], { numNodes: 3 });
  const x = tf.ones([3, 2]) as tf.Tensor2D;
  afterAll(() => x.dispose());

  it("raises ShapeError for features of the wrong rows, rank, dtype", () => {
    const wrongRows = tf.ones([4, 2]) as tf.Tensor2D;
    const rank1 = tf.ones([3]) as unknown as tf.Tensor2D;
    const ints = tf.ones([3, 2], "int32") as tf.Tensor2D;
    expect(() => propagate(graph, wrongRows)).toThrow(ShapeError);
    expect(() => propagate(graph, rank1)).toThrow(ShapeError);
    expect(() => propagate(graph, ints)).toThrow(ShapeError);
    tf.dispose([wrongRows, rank1, ints]);
  });

  it("raises ShapeError for weights that are not [E]", () => {
    const short = tf.ones([2]) as tf.Tensor1D;
    const matrix = tf.ones([3, 1]) as unknown as tf.Tensor1D;
    expect(() => propagate(graph, x, { weights: short })).toThrow(ShapeError);
    expect(() => propagate(graph, x, { weights: matrix })).toThrow(ShapeError);
    expect(() =>
      propagate(graph, x, { weights: short, message: (b) => b.src }),
    ).toThrow(ShapeError);
    tf.dispose([short, matrix]);
  });

  it("raises ShapeError for a message or aggregator of the wrong shape", () => {
    expect(() =>
      propagate(graph, x, { message: () => tf.ones([2, 2]) as tf.Tensor2D }),
    ).toThrow(ShapeError);
    expect(() =>
      propagate(graph, x, {
        aggregate: {
          name: "bad",
          aggregate: () => tf.ones([5, 2]) as tf.Tensor2D,
        },
      }),
    ).toThrow(ShapeError);
  });

  it("raises ConfigError for unknown aggregators and non-graphs", () => {
    expect(() => propagate(graph, x, { aggregate: "median" as never })).toThrow(
      ConfigError,
    );
    expect(() =>
      propagate(graph, x, { aggregate: ["sum", "mode" as never] }),
    ).toThrow(ConfigError);
    expect(() => propagate({} as never, x)).toThrow(ConfigError);
    expect(() => propagate(null as never, x)).toThrow(ConfigError);
  });

  it("leaks no tensor when it raises", () => {
    const before = tf.memory().numTensors;
    expect(() =>
      propagate(graph, x, {
        message: (b) => b.src.add(b.dst).slice([0, 0], [1, 2]) as tf.Tensor2D,
      }),
    ).toThrow(ShapeError);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("tensor leaks", () => {
  const rng = mulberry32(321);
  const { graph } = messyGraph(rng, {
    numNodes: 30,
    numEdges: 90,
    weighted: true,
  });
  const x = tensorOf(randomMatrix(rng, 30, 4));
  const w = tf.randomUniform([graph.numEdges], 0, 1, "float32", 2);
  afterAll(() => tf.dispose([x, w]));

  const configs: { label: string; options: PropagateOptions }[] = [
    { label: "fused sum", options: {} },
    {
      label: "fused mean, tensor weights",
      options: { aggregate: "mean", weights: w as tf.Tensor1D },
    },
    { label: "fused max", options: { aggregate: "max" } },
    {
      label: "list with fused and gathered parts",
      options: { aggregate: ["min", "softmax", "std", "powermean"] },
    },
    {
      label: "custom message",
      options: { aggregate: "var", message: MESSAGE_CASES[1].message },
    },
    {
      label: "update",
      options: {
        aggregate: { list: ["sum", "mean"], combine: "mean" },
        update: (a, h) => a.add(h).relu() as tf.Tensor2D,
      },
    },
  ];

  it.each(configs)("$label: forward and backward", ({ options }) => {
    const before = tf.memory().numTensors;
    const out = propagate(graph, x, options);
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);

    const grads = tf.grads((h: tf.Tensor) =>
      propagate(graph, h as tf.Tensor2D, options).sum(),
    )([x]);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("propagateCSR on a rectangular CSR", () => {
  // 4 destinations read 7 sources; destination 2 has no entry
  const rowPtr = Int32Array.from([0, 3, 5, 5, 9]);
  const colIdx = Int32Array.from([0, 4, 4, 1, 6, 2, 3, 3, 5]);
  const weights = Float32Array.from([0.5, 1, 2, -1, 0.25, 1.5, 1, 0.75, 2]);
  const dstOf = [0, 0, 0, 1, 1, 3, 3, 3, 3];
  const edges: EdgeList = {
    src: Array.from(colIdx),
    dst: dstOf,
    weights: Array.from(weights),
    numSrc: 7,
    numDst: 4,
  };
  const withTransposed: BipartiteCSR = {
    rowPtr,
    colIdx,
    weights,
    numSrc: 7,
    numDst: 4,
    transposed: () => transposeCSR(rowPtr, colIdx, 7),
  };
  const plain: BipartiteCSR = { rowPtr, colIdx, weights, numSrc: 7, numDst: 4 };

  const rng = mulberry32(8);
  const x = randomMatrix(rng, 7, 3);
  const xDst = randomMatrix(rng, 4, 3);
  const r = randomMatrix(rng, 4, 12);

  it.each([
    { label: "sum", spec: "sum", message: 0 },
    { label: "mean", spec: "mean", message: 0 },
    { label: "max", spec: "max", message: 0 },
    { label: "softmax, custom message", spec: "softmax", message: 1 },
    { label: "[sum, min], widening message", spec: ["sum", "min"], message: 2 },
  ] as { label: string; spec: AggregateSpec; message: number }[])(
    "$label: values and gradients match the reference",
    ({ spec, message }) => {
      const c = AGGREGATOR_CASES.find(
        (a) => JSON.stringify(a.spec) === JSON.stringify(spec),
      );
      const dense = c?.dense ?? {
        list: [{ name: "sum" as const }, { name: "min" as const }],
        combine: "concat" as const,
      };
      const m = MESSAGE_CASES[message];
      for (const csr of [withTransposed, plain]) {
        const xt = tensorOf(x);
        const xd = tensorOf(xDst);
        const out = propagateCSR(csr, xt, xd, {
          aggregate: spec,
          message: m.message,
        });
        const expected = denseReference(
          edges,
          x,
          { aggregate: dense, message: m.dense },
          xDst,
        );
        expect(out.shape).toEqual([4, expected.cols]);
        const fw = worstError(out.dataSync(), expected.data, 1e-5, 1e-5);
        expect(fw.ratio, JSON.stringify(fw)).toBeLessThanOrEqual(1);

        // gradient with respect to the source features
        const rt = tensorOf({
          ...r,
          cols: expected.cols,
          data: r.data.subarray(0, 4 * expected.cols),
        });
        const [dx] = tf.grads((h: tf.Tensor) =>
          propagateCSR(csr, h as tf.Tensor2D, xd, {
            aggregate: spec,
            message: m.message,
          })
            .mul(rt)
            .sum(),
        )([xt]);
        const fd = centralDifference((v) => {
          const out64 = denseReference(
            edges,
            { rows: 7, cols: 3, data: v },
            { aggregate: dense, message: m.dense },
            xDst,
          );
          return dot(out64.data, rt.dataSync());
        }, Float64Array.from(x.data));
        const gw = worstError(dx.dataSync(), fd, 2e-5, 2e-5);
        expect(gw.ratio, JSON.stringify(gw)).toBeLessThanOrEqual(1);
        tf.dispose([xt, xd, out, rt, dx]);
      }
    },
  );

  it("raises ShapeError for mismatched features", () => {
    const xt = tf.ones([6, 3]) as tf.Tensor2D;
    const xd = tf.ones([4, 3]) as tf.Tensor2D;
    const xs = tf.ones([7, 3]) as tf.Tensor2D;
    expect(() => propagateCSR(plain, xt, xd)).toThrow(ShapeError);
    expect(() => propagateCSR(plain, xs, xt)).toThrow(ShapeError);
    expect(() => propagateCSR({ ...plain, numDst: 5 }, xs, xd)).toThrow(
      ShapeError,
    );
    tf.dispose([xt, xd, xs]);
  });
});

describe("affinity graphs", () => {
  it("hands propagate over to a graph that propagates by itself", () => {
    const calls: unknown[][] = [];
    const affinity: AffinityGraphLike = {
      kind: "affinity",
      propagate: (x, options) => {
        calls.push([x, options]);
        return x.mul(2) as tf.Tensor2D;
      },
    };
    const x = tf.ones([3, 2]) as tf.Tensor2D;
    const options: PropagateOptions = { aggregate: "mean" };
    const out = propagate(affinity, x, options);
    expect(calls).toEqual([[x, options]]);
    expect(Array.from(out.dataSync())).toEqual([2, 2, 2, 2, 2, 2]);
    tf.dispose([x, out]);
  });
});

describe("on the CPU backend", () => {
  it("gives the WASM backend's values and gradients", async () => {
    const rng = mulberry32(9);
    const { graph } = messyGraph(rng, {
      numNodes: 25,
      numEdges: 80,
      weighted: true,
    });
    const xData = randomMatrix(rng, 25, 3);
    const cases: PropagateOptions[] = [
      { aggregate: "sum" },
      { aggregate: "max" },
      {
        aggregate: ["softmax", "std", "powermean"],
        message: MESSAGE_CASES[1].message,
      },
    ];
    const run = () =>
      cases.map((options) => {
        const x = tensorOf(xData);
        const w = tf.tensor1d(graph.weights as Float32Array);
        const result = forwardAndGrads(graph, x, w, options);
        tf.dispose([x, w]);
        return result;
      });
    const original = tf.getBackend();
    const onOriginal = run();
    await tf.setBackend("cpu");
    try {
      const onCpu = run();
      for (let c = 0; c < cases.length; c++) {
        for (let j = 0; j < 3; j++) {
          const worst = worstError(onCpu[c][j], onOriginal[c][j], 1e-6, 1e-6);
          expect(worst.ratio, JSON.stringify(worst)).toBeLessThanOrEqual(1);
        }
      }
    } finally {
      await tf.setBackend(original);
    }
  });
});
