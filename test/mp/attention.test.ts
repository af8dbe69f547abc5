/**
 * The fused multi-head attention ops of src/mp/attention.ts against a
 * float64 reference written from GAT's equations on the plain edge list
 * (neighbourhoods found by scanning every edge, in input order): outputs,
 * coefficients (which sum to 1 per node and head), masks, gradients of
 * every input against central finite differences, determinism, errors
 * and tensor leaks.
 *
 * Tolerances: forward |y − y_ref| ≤ 1e-5 · |y_ref| + 1e-6 (float32
 * against float64 on O(1) values); gradients 2e-5 · |g_fd| + 2e-5 with
 * float64 central differences of step 1e-6.
 */

import { describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ShapeError } from "../../src/errors.js";
import {
  attentionAggregate,
  attentionCoefficients,
  headScores,
  multiHeadAggregate,
} from "../../src/mp/attention.js";
import {
  centralDifference,
  dot,
  fromCSROrder,
  type MessyGraph,
  messyGraph,
  randomMatrix,
  toCSROrder,
  worstError,
} from "../helpers/dense.js";
import { mulberry32 } from "../helpers/random.js";

const N = 10;
const HEADS = 3;
const UNITS = 2;
const WIDTH = HEADS * UNITS;
const SLOPE = 0.2;

/** A messy graph with features, scores, a mask and a loss projection. */
function problem(seed: number) {
  const rng = mulberry32(seed);
  const messy = messyGraph(rng, { numNodes: N, numEdges: 24, weighted: true });
  const numEdges = messy.edges.src.length;
  const h = randomMatrix(rng, N, WIDTH).data;
  const sSrc = randomMatrix(rng, N, HEADS, -2, 2).data;
  const sDst = randomMatrix(rng, N, HEADS, -2, 2).data;

  // an inverted-dropout mask in input edge order (e · HEADS + k)
  const mask = new Float64Array(numEdges * HEADS).map(() =>
    rng() < 0.4 ? 0 : 2.5,
  );
  const r = randomMatrix(rng, N, WIDTH).data;
  return { messy, numEdges, h, sSrc, sDst, mask, r };
}

/**
 * The float64 reference: `alpha` `[E, HEADS]` in input edge order and
 * `out` `[N, WIDTH]`, with `mask` (input order) or none.
 */
function reference(
  messy: MessyGraph,
  h: Float64Array,
  sSrc: Float64Array,
  sDst: Float64Array,
  mask: Float64Array | null,
): { out: Float64Array; alpha: Float64Array } {
  const { src, dst } = messy.edges;
  const numEdges = src.length;
  const alpha = new Float64Array(numEdges * HEADS);
  const out = new Float64Array(N * WIDTH);
  for (let i = 0; i < N; i++) {
    const mine: number[] = [];
    for (let e = 0; e < numEdges; e++) if (dst[e] === i) mine.push(e);
    for (let k = 0; k < HEADS; k++) {
      const score = (e: number) => {
        const v = sSrc[src[e] * HEADS + k] + sDst[i * HEADS + k];
        return v > 0 ? v : SLOPE * v;
      };
      let total = 0;
      for (const e of mine) total += Math.exp(score(e));
      for (const e of mine) {
        const a = Math.exp(score(e)) / total;
        alpha[e * HEADS + k] = a;
        const m = mask === null ? 1 : mask[e * HEADS + k];
        for (let c = 0; c < UNITS; c++) {
          const col = k * UNITS + c;
          out[i * WIDTH + col] += a * m * h[src[e] * WIDTH + col];
        }
      }
    }
  }
  return { out, alpha };
}

/** Per-edge rows (`width` values each) from input order to CSR order. */
function rowsToCSR(
  values: Float64Array,
  csrOrder: Int32Array,
  width: number,
): Float32Array {
  const out = new Float32Array(values.length);
  for (let p = 0; p < csrOrder.length; p++) {
    for (let k = 0; k < width; k++) {
      out[p * width + k] = values[csrOrder[p] * width + k];
    }
  }
  return out;
}

/** Per-edge rows from CSR order back to input order. */
function rowsFromCSR(
  values: ArrayLike<number>,
  csrOrder: Int32Array,
  width: number,
): Float64Array {
  const out = new Float64Array(values.length);
  for (let p = 0; p < csrOrder.length; p++) {
    for (let k = 0; k < width; k++) {
      out[csrOrder[p] * width + k] = values[p * width + k];
    }
  }
  return out;
}

const matrix = (v: Float64Array, rows: number, cols: number) =>
  tf.tensor2d(Float32Array.from(v), [rows, cols]);

describe("attentionAggregate against the float64 reference", () => {
  for (const masked of [false, true]) {
    const label = masked ? "with a mask" : "without a mask";

    it(`${label}: output`, () => {
      const { messy, h, sSrc, sDst, mask } = problem(masked ? 1 : 2);
      const ref = reference(messy, h, sSrc, sDst, masked ? mask : null);
      const ht = matrix(h, N, WIDTH);
      const st = matrix(sSrc, N, HEADS);
      const dt = matrix(sDst, N, HEADS);
      const out = attentionAggregate(messy.graph, ht, st, dt, {
        negativeSlope: SLOPE,
        mask: masked ? rowsToCSR(mask, messy.csrOrder, HEADS) : null,
      });
      expect(out.shape).toEqual([N, WIDTH]);
      const got = out.dataSync();
      expect(worstError(got, ref.out, 1e-5, 1e-6).ratio).toBeLessThanOrEqual(1);

      // the isolated nodes and the source-only node receive nothing
      for (const i of [N - 3, N - 2, N - 1]) {
        expect(Array.from(got.subarray(i * WIDTH, (i + 1) * WIDTH))).toEqual(
          new Array(WIDTH).fill(0),
        );
      }
      tf.dispose([ht, st, dt, out]);
    });

    it(`${label}: gradients of h, sSrc and sDst`, () => {
      const { messy, h, sSrc, sDst, mask, r } = problem(masked ? 3 : 4);
      const m = masked ? mask : null;
      const ht = matrix(h, N, WIDTH);
      const st = matrix(sSrc, N, HEADS);
      const dt = matrix(sDst, N, HEADS);
      const rt = matrix(r, N, WIDTH);
      const csrMask = masked ? rowsToCSR(mask, messy.csrOrder, HEADS) : null;
      const grads = tf.grads((a, b, c) =>
        tf.sum(
          tf.mul(
            attentionAggregate(
              messy.graph,
              a as tf.Tensor2D,
              b as tf.Tensor2D,
              c as tf.Tensor2D,
              { negativeSlope: SLOPE, mask: csrMask },
            ),
            rt,
          ),
        ),
      )([ht, st, dt]);
      const loss = (hh: Float64Array, ss: Float64Array, dd: Float64Array) =>
        dot(reference(messy, hh, ss, dd, m).out, r);
      const fd = [
        centralDifference((v) => loss(v, sSrc, sDst), h),
        centralDifference((v) => loss(h, v, sDst), sSrc),
        centralDifference((v) => loss(h, sSrc, v), sDst),
      ];
      for (const [j, name] of ["h", "sSrc", "sDst"].entries()) {
        const worst = worstError(grads[j].dataSync(), fd[j], 2e-5, 2e-5);
        expect(worst.ratio, `gradient of ${name}`).toBeLessThanOrEqual(1);
      }

      // the score gradients are not trivially zero
      expect(Math.max(...fd[1].map(Math.abs))).toBeGreaterThan(1e-2);
      tf.dispose([ht, st, dt, rt, ...grads]);
    });
  }
});

describe("attentionCoefficients", () => {
  it("match the reference, sum to 1 per node and head, and differentiate", () => {
    const { messy, numEdges, h, sSrc, sDst } = problem(5);
    const ref = reference(messy, h, sSrc, sDst, null);
    const st = matrix(sSrc, N, HEADS);
    const dt = matrix(sDst, N, HEADS);
    const alpha = attentionCoefficients(messy.graph, st, dt);
    expect(alpha.shape).toEqual([numEdges, HEADS]);
    const got = alpha.dataSync();
    const inInput = rowsFromCSR(got, messy.csrOrder, HEADS);
    expect(
      worstError(inInput, ref.alpha, 1e-5, 1e-7).ratio,
    ).toBeLessThanOrEqual(1);

    // each destination's coefficients sum to 1 per head
    const { rowPtr } = messy.graph;
    for (let i = 0; i < N; i++) {
      if (rowPtr[i + 1] === rowPtr[i]) continue;
      for (let k = 0; k < HEADS; k++) {
        let total = 0;
        for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
          total += got[e * HEADS + k];
        }
        expect(Math.abs(total - 1)).toBeLessThan(1e-6);
      }
    }

    // gradients against finite differences of a projection of α
    const rng = mulberry32(6);
    const q = new Float64Array(numEdges * HEADS).map(() => 2 * rng() - 1);
    const qt = tf.tensor2d(rowsToCSR(q, messy.csrOrder, HEADS), [
      numEdges,
      HEADS,
    ]);
    const [gs, gd] = tf.grads((a, b) =>
      tf.sum(
        tf.mul(
          attentionCoefficients(
            messy.graph,
            a as tf.Tensor2D,
            b as tf.Tensor2D,
          ),
          qt,
        ),
      ),
    )([st, dt]);
    const fs = centralDifference(
      (v) => dot(reference(messy, h, v, sDst, null).alpha, q),
      sSrc,
    );
    const fdd = centralDifference(
      (v) => dot(reference(messy, h, sSrc, v, null).alpha, q),
      sDst,
    );
    expect(worstError(gs.dataSync(), fs, 2e-5, 2e-5).ratio).toBeLessThanOrEqual(
      1,
    );
    expect(
      worstError(gd.dataSync(), fdd, 2e-5, 2e-5).ratio,
    ).toBeLessThanOrEqual(1);
    tf.dispose([st, dt, alpha, qt, gs, gd]);
  });

  it("subtract the maximum: scores of 1000 give finite coefficients", () => {
    const { messy } = problem(7);
    const rng = mulberry32(8);
    const big = new Float64Array(N * HEADS).map(() =>
      Math.fround(1000 + rng()),
    );
    const st = matrix(big, N, HEADS);
    const dt = matrix(big, N, HEADS);
    const alpha = attentionCoefficients(messy.graph, st, dt).dataSync();
    expect(alpha.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);

    // every score is positive, so the softmax is that of the scores minus
    // 2000, which the naive reference can exponentiate; the float32 sum
    // of two scores near 1000 is exact to 6e-5, hence the tolerance
    const shifted = big.map((v) => v - 1000);
    const ref = reference(
      messy,
      new Float64Array(N * WIDTH),
      shifted,
      shifted,
      null,
    );
    const inInput = rowsFromCSR(alpha, messy.csrOrder, HEADS);
    expect(
      worstError(inInput, ref.alpha, 3e-4, 1e-7).ratio,
    ).toBeLessThanOrEqual(1);
    tf.dispose([st, dt]);
  });
});

describe("multiHeadAggregate and headScores", () => {
  it("multiHeadAggregate: Σ_j w[e, k] h[j, head k] and its gradients", () => {
    const { messy, numEdges, h, r } = problem(9);
    const rng = mulberry32(10);
    const w = new Float64Array(numEdges * HEADS).map(() =>
      Math.fround(2 * rng() - 1),
    );

    // reference in input order, by scanning every edge
    const ref = (hh: Float64Array, ww: Float64Array) => {
      const out = new Float64Array(N * WIDTH);
      const { src, dst } = messy.edges;
      for (let e = 0; e < numEdges; e++) {
        for (let c = 0; c < WIDTH; c++) {
          const k = Math.floor(c / UNITS);
          out[dst[e] * WIDTH + c] += ww[e * HEADS + k] * hh[src[e] * WIDTH + c];
        }
      }
      return out;
    };
    const ht = matrix(h, N, WIDTH);
    const wt = tf.tensor2d(rowsToCSR(w, messy.csrOrder, HEADS), [
      numEdges,
      HEADS,
    ]);
    const out = multiHeadAggregate(messy.graph, ht, wt);
    expect(
      worstError(out.dataSync(), ref(h, w), 1e-5, 1e-6).ratio,
    ).toBeLessThanOrEqual(1);

    const rt = matrix(r, N, WIDTH);
    const [gh, gw] = tf.grads((a, b) =>
      tf.sum(
        tf.mul(
          multiHeadAggregate(messy.graph, a as tf.Tensor2D, b as tf.Tensor2D),
          rt,
        ),
      ),
    )([ht, wt]);
    const fh = centralDifference((v) => dot(ref(v, w), r), h);
    const fw = centralDifference((v) => dot(ref(h, v), r), w);
    expect(worstError(gh.dataSync(), fh, 2e-5, 2e-5).ratio).toBeLessThanOrEqual(
      1,
    );
    const gwInput = rowsFromCSR(gw.dataSync(), messy.csrOrder, HEADS);
    expect(worstError(gwInput, fw, 2e-5, 2e-5).ratio).toBeLessThanOrEqual(1);
    tf.dispose([ht, wt, out, rt, gh, gw]);
  });

  it("headScores: s[i, k] = h[i, head k] · att[k] and its gradients", () => {
    const rng = mulberry32(11);
    const h = randomMatrix(rng, N, WIDTH).data;
    const att = randomMatrix(rng, HEADS, UNITS).data;
    const r = randomMatrix(rng, N, HEADS).data;
    const ref = (hh: Float64Array, aa: Float64Array) => {
      const s = new Float64Array(N * HEADS);
      for (let i = 0; i < N; i++) {
        for (let k = 0; k < HEADS; k++) {
          for (let c = 0; c < UNITS; c++) {
            s[i * HEADS + k] +=
              hh[i * WIDTH + k * UNITS + c] * aa[k * UNITS + c];
          }
        }
      }
      return s;
    };
    const ht = matrix(h, N, WIDTH);
    const at = matrix(att, HEADS, UNITS);
    const rt = matrix(r, N, HEADS);
    const s = headScores(ht, at);
    expect(s.shape).toEqual([N, HEADS]);
    expect(
      worstError(s.dataSync(), ref(h, att), 1e-6, 1e-7).ratio,
    ).toBeLessThanOrEqual(1);
    const [gh, ga] = tf.grads((a, b) =>
      tf.sum(tf.mul(headScores(a as tf.Tensor2D, b as tf.Tensor2D), rt)),
    )([ht, at]);
    const fh = centralDifference((v) => dot(ref(v, att), r), h);
    const fa = centralDifference((v) => dot(ref(h, v), r), att);
    expect(worstError(gh.dataSync(), fh, 2e-5, 2e-5).ratio).toBeLessThanOrEqual(
      1,
    );
    expect(worstError(ga.dataSync(), fa, 2e-5, 2e-5).ratio).toBeLessThanOrEqual(
      1,
    );
    tf.dispose([ht, at, rt, s, gh, ga]);
  });
});

describe("attention ops: determinism, errors, leaks", () => {
  it("give bit-identical outputs and gradients on repeated calls", () => {
    const { messy, h, sSrc, sDst, mask } = problem(12);
    const ht = matrix(h, N, WIDTH);
    const st = matrix(sSrc, N, HEADS);
    const dt = matrix(sDst, N, HEADS);
    const csrMask = rowsToCSR(mask, messy.csrOrder, HEADS);
    const run = () =>
      tf.grads((a, b, c) =>
        tf.sum(
          tf.square(
            attentionAggregate(
              messy.graph,
              a as tf.Tensor2D,
              b as tf.Tensor2D,
              c as tf.Tensor2D,
              { mask: csrMask },
            ),
          ),
        ),
      )([ht, st, dt]);
    const a = run();
    const b = run();
    for (let j = 0; j < 3; j++) {
      expect(Array.from(a[j].dataSync())).toEqual(Array.from(b[j].dataSync()));
    }
    tf.dispose([ht, st, dt, ...a, ...b]);
  });

  it("raise ShapeError on shapes that do not match the graph", () => {
    const { messy, numEdges } = problem(13);
    const g = messy.graph;
    const before = tf.memory().numTensors;
    const h = tf.zeros([N, WIDTH]) as tf.Tensor2D;
    const s = tf.zeros([N, HEADS]) as tf.Tensor2D;
    const shortRows = tf.zeros([N - 1, HEADS]) as tf.Tensor2D;
    const otherHeads = tf.zeros([N, HEADS + 1]) as tf.Tensor2D;
    const oddWidth = tf.zeros([N, WIDTH + 1]) as tf.Tensor2D;
    const att = tf.zeros([HEADS, UNITS + 1]) as tf.Tensor2D;
    const badWeights = tf.zeros([numEdges + 1, HEADS]) as tf.Tensor2D;
    expect(() => attentionAggregate(g, h, shortRows, s)).toThrow(ShapeError);
    expect(() => attentionAggregate(g, h, s, otherHeads)).toThrow(ShapeError);
    expect(() => attentionAggregate(g, oddWidth, s, s)).toThrow(ShapeError);
    expect(() =>
      attentionAggregate(g, h, s, s, { mask: new Float32Array(3) }),
    ).toThrow(ShapeError);
    expect(() => attentionCoefficients(g, s, shortRows)).toThrow(ShapeError);
    expect(() => multiHeadAggregate(g, h, badWeights)).toThrow(ShapeError);
    expect(() => headScores(h, att)).toThrow(ShapeError);
    tf.dispose([h, s, shortRows, otherHeads, oddWidth, att, badWeights]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("leak no tensor in forward and backward passes", () => {
    const { messy, numEdges, h, sSrc, sDst } = problem(14);
    const ht = matrix(h, N, WIDTH);
    const st = matrix(sSrc, N, HEADS);
    const dt = matrix(sDst, N, HEADS);
    const at = tf.ones([HEADS, UNITS]) as tf.Tensor2D;
    const wt = tf.ones([numEdges, HEADS]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const grads = tf.grads((a, b, c, d, w) =>
      tf
        .sum(
          tf.add(
            attentionAggregate(
              messy.graph,
              a as tf.Tensor2D,
              headScores(a as tf.Tensor2D, d as tf.Tensor2D),
              c as tf.Tensor2D,
            ),
            multiHeadAggregate(messy.graph, a as tf.Tensor2D, w as tf.Tensor2D),
          ),
        )
        .add(
          tf.sum(
            attentionCoefficients(
              messy.graph,
              b as tf.Tensor2D,
              c as tf.Tensor2D,
            ),
          ),
        ),
    )([ht, st, dt, at, wt]);
    expect(grads).toHaveLength(5);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([ht, st, dt, at, wt]);
  });
});

// the CSR helpers of this file are checked once, so that a bug in them
// cannot hide one in the ops
it("rowsToCSR and rowsFromCSR invert each other and match toCSROrder", () => {
  const { messy, numEdges } = problem(15);
  const v = new Float64Array(numEdges).map((_, e) => e + 0.5);
  expect(Array.from(rowsToCSR(v, messy.csrOrder, 1))).toEqual(
    Array.from(toCSROrder(v, messy.csrOrder)),
  );
  expect(
    Array.from(rowsFromCSR(rowsToCSR(v, messy.csrOrder, 1), messy.csrOrder, 1)),
  ).toEqual(
    Array.from(fromCSROrder(toCSROrder(v, messy.csrOrder), messy.csrOrder)),
  );
});
