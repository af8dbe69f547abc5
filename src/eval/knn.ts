/**
 * The k-nearest-neighbour classifier on frozen features: the weighted kNN
 * of Z. Wu et al., "Unsupervised feature learning via non-parametric
 * instance discrimination" (CVPR 2018), reused by DINO (M. Caron et al.,
 * ICCV 2021) with k = 20 and τ = 0.07, plus the plain majority vote and
 * scikit-learn's inverse-distance weighting.
 *
 * Similarities are dense float32 products of blocks of test rows with
 * all the training rows, on the native addon of `graph/native.ts` when it
 * is loaded (threaded AVX2), else by TF.js `matMul`; the k best of every
 * row are then picked and weighted on typed arrays.
 */

import { tf } from "../backend.js";
import { ConfigError, NumericalError, ShapeError } from "../errors.js";
import { kernelThreads, NativeStatus, nativeKernels } from "../graph/native.js";

/** How neighbours are ranked. */
export type KnnMetric = "cosine" | "euclidean";

/** How the k neighbours vote. */
export type KnnWeighting = "uniform" | "distance" | "temperature";

/** Options of {@link knnClassifier}. */
export interface KnnOptions {
  /** Number of neighbours k ≥ 1 (default 20; capped at the train size). */
  k?: number;
  /**
   * `"cosine"` (default): rank by cosine similarity; distance 1 − cos.
   * `"euclidean"`: rank by Euclidean distance.
   */
  metric?: KnnMetric;
  /**
   * `"temperature"` (default, Wu et al. / DINO): neighbour j votes
   * `exp(−dist_j / τ)`, which for cosine is `exp(cos_j / τ)` up to a
   * factor common to all neighbours. `"uniform"`: one vote each.
   * `"distance"`: `1 / dist_j`, and when some neighbours are at distance
   * 0 only they vote, one vote each (scikit-learn's rule).
   */
  weighting?: KnnWeighting;
  /** τ > 0 of the temperature weighting (default 0.07). */
  temperature?: number;
  /** Number of classes C (default: the largest train label plus one). */
  numClasses?: number;
  /**
   * Test rows per similarity block (default: as many as keep a block at
   * about 4M entries, at least 1).
   */
  blockSize?: number;
}

/** What {@link knnClassifier} returns. */
export interface KnnResult {
  /** Predicted class of every test row. */
  predictions: Int32Array;
  /** Fraction of test rows predicted right; NaN without test labels. */
  accuracy: number;
  /** The k neighbours of every test row, nearest first, `[M, k]`. */
  neighbors: Int32Array;
  /** The k used (the option, capped at the train size). */
  k: number;
}

/**
 * Classifies every test row by the weighted vote of its k nearest
 * training rows: `ŷ = argmax_c Σ_{j ∈ N_k(x)} w_j [y_j = c]`.
 *
 * Ties: among equally near training rows the one with the smaller index
 * is nearer (so the neighbour list is a stable sort); among classes with
 * equal votes the smaller class wins.
 *
 * LIMITATION: similarities are float32 products, so two
 * training rows whose similarity to a test row differs by less than
 * about 1e-7 relative may be ranked in either order; data with small
 * integer entries (pixel counts) is exact. Euclidean ranking uses
 * `‖b‖² − 2 a·b` with the squared norms in float64.
 *
 * @param trainFeatures row-major `[N, d]`.
 * @param trainLabels N integer labels in [0, C).
 * @param testFeatures row-major `[M, d]`.
 * @param testLabels M labels to score the predictions against, or null.
 * @param d the feature dimension, d ≥ 1.
 * @param options see {@link KnnOptions}.
 * @throws ShapeError when a length does not fit N, M and d (naming the
 *   argument); ConfigError for bad options or labels; NumericalError for
 *   non-finite features.
 */
export function knnClassifier(
  trainFeatures: ArrayLike<number>,
  trainLabels: ArrayLike<number>,
  testFeatures: ArrayLike<number>,
  testLabels: ArrayLike<number> | null,
  d: number,
  options: KnnOptions = {},
): KnnResult {
  const fn = "knnClassifier";
  if (!Number.isInteger(d) || d < 1) {
    throw new ShapeError(`${fn}: expected an integer d >= 1, got ${d}`);
  }
  const n = trainLabels.length;
  if (n < 1 || trainFeatures.length !== n * d) {
    throw new ShapeError(
      `${fn}: expected trainFeatures of length (train labels = ${n}) · ` +
        `d = ${n * d} with at least one row, got ${trainFeatures.length}`,
    );
  }
  if (testFeatures.length % d !== 0) {
    throw new ShapeError(
      `${fn}: expected testFeatures of length a multiple of d = ${d}, got ` +
        `${testFeatures.length}`,
    );
  }
  const m = testFeatures.length / d;
  if (testLabels !== null && testLabels.length !== m) {
    throw new ShapeError(
      `${fn}: expected testLabels of length ${m} (test rows), got ` +
        `${testLabels.length}`,
    );
  }
  const metric = options.metric ?? "cosine";
  const weighting = options.weighting ?? "temperature";
  const temperature = options.temperature ?? 0.07;
  if (metric !== "cosine" && metric !== "euclidean") {
    throw new ConfigError(
      `${fn}: metric must be "cosine" or "euclidean", got "${metric}"`,
    );
  }
  if (
    weighting !== "uniform" &&
    weighting !== "distance" &&
    weighting !== "temperature"
  ) {
    throw new ConfigError(
      `${fn}: weighting must be "uniform", "distance" or "temperature", ` +
        `got "${weighting}"`,
    );
  }
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new ConfigError(
      `${fn}: temperature must be a finite number > 0, got ${temperature}`,
    );
  }
  const kOption = options.k ?? 20;
  if (!Number.isInteger(kOption) || kOption < 1) {
    throw new ConfigError(`${fn}: k must be an integer >= 1, got ${kOption}`);
  }
  const k = Math.min(kOption, n);
  const labels = checkLabels(fn, "trainLabels", trainLabels, options);
  let numClasses = options.numClasses ?? 0;
  for (const y of labels) numClasses = Math.max(numClasses, y + 1);
  if (testLabels !== null) checkLabels(fn, "testLabels", testLabels, {});
  const blockSize = options.blockSize ?? Math.max(1, Math.floor(4_194_304 / n));
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new ConfigError(
      `${fn}: blockSize must be an integer >= 1, got ${blockSize}`,
    );
  }

  // rows as float32 (unit rows for cosine), train transposed to [d, N]
  // so that the block product needs no transpose flag
  const train = rowsForMetric(fn, "trainFeatures", trainFeatures, n, d, metric);
  const test = rowsForMetric(fn, "testFeatures", testFeatures, m, d, metric);
  const trainNorms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let a = 0; a < d; a++) s += train[j * d + a] * train[j * d + a];
    trainNorms[j] = s;
  }
  const product = blockProduct(train, n, d);

  const neighbors = new Int32Array(m * k);
  const predictions = new Int32Array(m);
  const order = new Int32Array(k);
  const keys = new Float64Array(k);
  const votes = new Float64Array(numClasses);
  try {
    for (let start = 0; start < m; start += blockSize) {
      const rows = Math.min(blockSize, m - start);

      // similarities of this block with every training row, [rows, N]
      const dots = product.run(
        test.subarray(start * d, (start + rows) * d),
        rows,
      );

      for (let r = 0; r < rows; r++) {
        const i = start + r;
        const o = r * n;

        // the k smallest keys by insertion: key = −cos, or ‖b‖² − 2 a·b
        // (the squared distance less ‖a‖²); strict comparisons keep the
        // smaller index first among equal keys
        let filled = 0;
        for (let j = 0; j < n; j++) {
          const key =
            metric === "cosine"
              ? -dots[o + j]
              : trainNorms[j] - 2 * dots[o + j];
          if (filled === k && !(key < keys[k - 1])) continue;
          let p = filled < k ? filled++ : k - 1;
          while (p > 0 && key < keys[p - 1]) {
            keys[p] = keys[p - 1];
            order[p] = order[p - 1];
            p--;
          }
          keys[p] = key;
          order[p] = j;
        }
        neighbors.set(order, i * k);

        // distances, then the weighted vote
        let testNorm = 0;
        for (let a = 0; a < d; a++) testNorm += test[i * d + a] ** 2;
        votes.fill(0);
        let zeros = 0;
        for (let q = 0; q < k; q++) {
          const dist =
            metric === "cosine"
              ? Math.max(0, 1 + keys[q])
              : Math.sqrt(Math.max(0, testNorm + keys[q]));
          keys[q] = dist;
          if (dist === 0) zeros++;
        }
        for (let q = 0; q < k; q++) {
          const dist = keys[q];
          let weight = 1;
          if (weighting === "temperature") {
            weight = Math.exp(-(dist - keys[0]) / temperature);
          } else if (weighting === "distance") {
            weight = zeros > 0 ? (dist === 0 ? 1 : 0) : 1 / dist;
          }
          votes[labels[order[q]]] += weight;
        }
        let best = 0;
        for (let c = 1; c < numClasses; c++) {
          if (votes[c] > votes[best]) best = c;
        }
        predictions[i] = best;
      }
    }
  } finally {
    product.dispose();
  }

  let accuracy = Number.NaN;
  if (testLabels !== null && m > 0) {
    let correct = 0;
    for (let i = 0; i < m; i++) if (predictions[i] === testLabels[i]) correct++;
    accuracy = correct / m;
  }
  return { predictions, accuracy, neighbors, k };
}

/** Products `[rows, d] · trainᵀ` of test blocks with the train rows. */
interface BlockProduct {
  /** The `[rows, N]` similarities of one block (valid until next run). */
  run(block: Float32Array, rows: number): Float32Array;
  /** Frees the train tensor, if any. */
  dispose(): void;
}

/**
 * The native addon's `gemm` with B transposed when it is loaded, else a
 * TF.js `matMul` against the train rows transposed once to `[d, N]` (the
 * WASM backend's transpose flags are slow).
 */
function blockProduct(train: Float32Array, n: number, d: number): BlockProduct {
  const native = nativeKernels();
  if (native !== null) {
    let out = new Float32Array(0);
    return {
      run(block, rows) {
        if (out.length < rows * n) out = new Float32Array(rows * n);
        const c = out.subarray(0, rows * n);
        const status = native.gemm(
          block,
          train,
          c,
          rows,
          n,
          d,
          0,
          1,
          0,
          kernelThreads(),
        );
        if (status !== NativeStatus.ok) {
          throw new NumericalError(
            `knnClassifier: the native product failed with status ${status}`,
          );
        }
        return c;
      },
      dispose() {},
    };
  }
  const transposed = tf.tidy(() => tf.transpose(tf.tensor2d(train, [n, d])));
  return {
    run(block, rows) {
      const x = tf.tensor2d(block, [rows, d]);
      const product = tf.matMul(x, transposed);
      const dots = product.dataSync() as Float32Array;
      x.dispose();
      product.dispose();
      return dots;
    },
    dispose() {
      transposed.dispose();
    },
  };
}

/** Integer labels ≥ 0 (and < numClasses when given), as an Int32Array. */
function checkLabels(
  fn: string,
  name: string,
  labels: ArrayLike<number>,
  options: { numClasses?: number },
): Int32Array {
  const out = new Int32Array(labels.length);
  const limit = options.numClasses ?? Number.POSITIVE_INFINITY;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= limit) {
      throw new ConfigError(
        `${fn}: ${name} must be integers in [0, ${limit}), got ${y} at ${i}`,
      );
    }
    out[i] = y;
  }
  return out;
}

/**
 * The rows as float32, divided by their norms (computed in float64) for
 * the cosine metric; a zero row stays zero.
 */
function rowsForMetric(
  fn: string,
  name: string,
  features: ArrayLike<number>,
  rows: number,
  d: number,
  metric: KnnMetric,
): Float32Array {
  const out = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let a = 0; a < d; a++) {
      const v = features[i * d + a];
      if (!Number.isFinite(v)) {
        throw new NumericalError(
          `${fn}: expected finite ${name}, got ${v} at row ${i}, column ${a}`,
        );
      }
      s += v * v;
    }
    const scale = metric === "cosine" && s > 0 ? 1 / Math.sqrt(s) : 1;
    for (let a = 0; a < d; a++) out[i * d + a] = features[i * d + a] * scale;
  }
  return out;
}
