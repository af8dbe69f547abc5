/**
 * The kNN classifier against a brute-force float64 loop (every distance,
 * a stable sort by distance then index, the weighted vote written out),
 * on data built so that float32 products are exact and ties abound; a
 * hand-computed vote; the published 1-NN accuracy of optdigits; errors
 * and tensor leaks.
 */

import { afterEach, describe, expect, it } from "vitest";
import { tf } from "../../src/backend.js";
import { ConfigError, NumericalError, ShapeError } from "../../src/errors.js";
import { type KnnOptions, knnClassifier } from "../../src/eval/knn.js";
import { loadOptdigits } from "../../src/graph/datasets/index.js";
import { resetKernelSelection } from "../../src/graph/native.js";
import { mulberry32 } from "../../src/random.js";

/** Runs `f` with the TypeScript (TF.js) products instead of the addon. */
function withTypeScriptKernels<T>(f: () => T): T {
  const saved = process.env.MPCL_KERNELS;
  process.env.MPCL_KERNELS = "ts";
  resetKernelSelection();
  try {
    return f();
  } finally {
    if (saved === undefined) delete process.env.MPCL_KERNELS;
    else process.env.MPCL_KERNELS = saved;
    resetKernelSelection();
  }
}

afterEach(() => resetKernelSelection());

/**
 * Rows of d = 8 with entries in {−1, 0, 1}, exactly four non-zero: norm
 * 2, so unit rows have entries ±½ and every product is exact in float32.
 * Drawn from a pool of 12 rows, so many rows coincide (ties).
 */
function tiedRows(seed: number, count: number): Float64Array {
  const r = mulberry32(seed);
  const pool: number[][] = [];
  for (let p = 0; p < 12; p++) {
    const row = Array(8).fill(0);
    let placed = 0;
    while (placed < 4) {
      const a = Math.floor(r() * 8);
      if (row[a] === 0) {
        row[a] = r() < 0.5 ? -1 : 1;
        placed++;
      }
    }
    pool.push(row);
  }
  const out = new Float64Array(count * 8);
  for (let i = 0; i < count; i++) {
    out.set(pool[Math.floor(r() * 12)], i * 8);
  }
  return out;
}

/** The brute-force classifier: all distances in float64, stable sort. */
function bruteForce(
  train: Float64Array,
  trainLabels: Int32Array,
  test: Float64Array,
  d: number,
  options: Required<Pick<KnnOptions, "k" | "metric" | "weighting">> & {
    temperature: number;
  },
): { predictions: number[]; neighbors: number[][] } {
  const n = trainLabels.length;
  const m = test.length / d;
  const classes = Math.max(...trainLabels) + 1;
  const predictions: number[] = [];
  const neighbors: number[][] = [];
  for (let i = 0; i < m; i++) {
    const a = test.subarray(i * d, (i + 1) * d);
    const dist: number[] = [];
    const sim: number[] = [];
    for (let j = 0; j < n; j++) {
      const b = train.subarray(j * d, (j + 1) * d);
      let ab = 0;
      let aa = 0;
      let bb = 0;
      let sq = 0;
      for (let t = 0; t < d; t++) {
        ab += a[t] * b[t];
        aa += a[t] * a[t];
        bb += b[t] * b[t];
        sq += (a[t] - b[t]) ** 2;
      }
      const cos = ab / Math.sqrt(aa * bb);
      sim.push(options.metric === "cosine" ? cos : -Math.sqrt(sq));
      dist.push(options.metric === "cosine" ? 1 - cos : Math.sqrt(sq));
    }
    const ids = Array.from({ length: n }, (_, j) => j);
    ids.sort((p, q) => dist[p] - dist[q] || p - q);
    const near = ids.slice(0, options.k);
    neighbors.push(near);
    const votes = Array(classes).fill(0);
    const exact = near.filter((j) => dist[j] === 0);
    for (const j of near) {
      let w = 1;
      if (options.weighting === "temperature") {
        w = Math.exp(sim[j] / options.temperature);
      } else if (options.weighting === "distance") {
        w = exact.length > 0 ? (dist[j] === 0 ? 1 : 0) : 1 / dist[j];
      }
      votes[trainLabels[j]] += w;
    }
    let best = 0;
    for (let c = 1; c < classes; c++) if (votes[c] > votes[best]) best = c;
    predictions.push(best);
  }
  return { predictions, neighbors };
}

describe("knnClassifier", () => {
  it("matches the brute-force loop, ties included, on both products", () => {
    const n = 150;
    const m = 60;
    const train = tiedRows(1, n);
    const test = tiedRows(2, m);
    const r = mulberry32(3);
    const labels = Int32Array.from({ length: n }, () => Math.floor(r() * 4));
    let checked = 0;
    for (const metric of ["cosine", "euclidean"] as const) {
      for (const weighting of ["uniform", "distance", "temperature"] as const) {
        for (const k of [1, 7, 20]) {
          const options = { k, metric, weighting, temperature: 0.5 };
          const want = bruteForce(train, labels, test, 8, options);
          const native = knnClassifier(train, labels, test, null, 8, options);
          const ts = withTypeScriptKernels(() =>
            knnClassifier(train, labels, test, null, 8, {
              ...options,
              blockSize: 16,
            }),
          );
          for (const got of [native, ts]) {
            expect(Array.from(got.predictions)).toEqual(want.predictions);
            expect(Array.from(got.neighbors)).toEqual(want.neighbors.flat());
          }
          checked++;
        }
      }
    }
    expect(checked).toBe(18);
  });

  it("weights the vote as computed by hand", () => {
    // one feature; test point at 0; train at 0.1 (class 1) and at 0.3,
    // 0.35 (class 0). Uniform k = 3: class 0 (2 votes to 1). Temperature
    // τ = 0.07 on −distance: e^{−0.1/τ} = 0.2397 against e^{−0.3/τ} +
    // e^{−0.35/τ} = 0.01376 + 0.00674: class 1. Distance weights: 10
    // against 3.33 + 2.86: class 1.
    const train = [0.1, 0.3, 0.35, 5];
    const labels = [1, 0, 0, 0];
    const run = (weighting: KnnOptions["weighting"]) =>
      knnClassifier(train, labels, [0], [0], 1, {
        k: 3,
        metric: "euclidean",
        weighting,
      });
    expect(run("uniform").predictions[0]).toBe(0);
    expect(run("uniform").accuracy).toBe(1);
    expect(run("temperature").predictions[0]).toBe(1);
    expect(run("distance").predictions[0]).toBe(1);
    expect(Array.from(run("distance").neighbors)).toEqual([0, 1, 2]);
  });

  it("lets only exact matches vote under distance weighting", () => {
    // the test point equals train row 2 (class 1); rows 0 and 1 (class 0)
    // are close but not equal: only row 2 votes
    const train = [0.01, -0.01, 0, 3];
    const labels = [0, 0, 1, 0];
    const got = knnClassifier(train, labels, [0], null, 1, {
      k: 3,
      metric: "euclidean",
      weighting: "distance",
    });
    expect(got.predictions[0]).toBe(1);
    expect(Number.isNaN(got.accuracy)).toBe(true);
  });

  it("caps k at the train size and breaks class ties to the smaller", () => {
    // two train rows at equal distance, classes 1 and 0: a 1-1 tie → 0
    const got = knnClassifier([1, -1], [1, 0], [0], null, 1, {
      k: 50,
      metric: "euclidean",
      weighting: "uniform",
    });
    expect(got.k).toBe(2);
    expect(got.predictions[0]).toBe(0);
    expect(Array.from(got.neighbors)).toEqual([0, 1]);
  });

  it("reproduces optdigits' published 1-NN accuracy of 98.00 %", () => {
    // optdigits.names: 1-NN, Euclidean, train → test: 98.00 % (1761 of
    // 1797); the pixel counts are small integers, so float32 is exact
    const ds = loadOptdigits();
    const got = knnClassifier(
      ds.train.images,
      ds.train.labels,
      ds.test.images,
      ds.test.labels,
      64,
      { k: 1, metric: "euclidean", weighting: "uniform" },
    );
    expect(Math.round(got.accuracy * ds.test.count)).toBe(1761);
  });

  it("frees every tensor on the TF.js path", () => {
    const train = tiedRows(4, 40);
    const labels = Int32Array.from({ length: 40 }, (_, i) => i % 3);
    const before = tf.memory().numTensors;
    withTypeScriptKernels(() =>
      knnClassifier(train, labels, tiedRows(5, 9), null, 8, { blockSize: 4 }),
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it("raises typed errors naming the argument", () => {
    const train = new Float64Array(12);
    const labels = [0, 1, 2];
    const shape = (f: () => unknown, word: string) => {
      expect(f).toThrow(ShapeError);
      expect(f).toThrow(word);
    };
    shape(
      () => knnClassifier(train, [0, 1], [0, 0, 0, 0], null, 4),
      "trainFeatures",
    );
    shape(
      () => knnClassifier(train, labels, [0, 0, 0], null, 4),
      "testFeatures",
    );
    shape(
      () => knnClassifier(train, labels, [0, 0, 0, 0], [0, 1], 4),
      "testLabels",
    );
    const config = (f: () => unknown) => expect(f).toThrow(ConfigError);
    const test = [0, 0, 0, 0];
    config(() => knnClassifier(train, labels, test, null, 4, { k: 0 }));
    config(() => knnClassifier(train, [0, -1, 2], test, null, 4));
    config(() =>
      knnClassifier(train, labels, test, null, 4, { numClasses: 2 }),
    );
    config(() =>
      knnClassifier(train, labels, test, null, 4, { temperature: 0 }),
    );
    config(() =>
      knnClassifier(train, labels, test, null, 4, {
        metric: "manhattan" as "cosine",
      }),
    );
    const bad = new Float64Array(12);
    bad[7] = Number.POSITIVE_INFINITY;
    expect(() => knnClassifier(bad, labels, test, null, 4)).toThrow(
      NumericalError,
    );
  });
});
