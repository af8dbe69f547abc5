/**
 * A linear probe in closed form: ridge regression of one-hot labels on the
 * features with a bias, solved exactly in float64 from the normal
 * equations, and the accuracy of its argmax prediction. It is the cheap
 * stand-in for the logistic probe of the contrastive-learning literature,
 * used to score the feature panels of the theory checks.
 */

import { ConfigError, NumericalError, ShapeError } from "../errors.js";

/** Options of {@link linearProbe}. */
export interface LinearProbeOptions {
  /**
   * Ridge penalty λ ≥ 0 on the weights (not on the bias), default 1e-6
   * times the trace of XᵀX / k, so that collapsed (rank-deficient)
   * features still give a unique solution.
   */
  ridge?: number;
}

/** What {@link linearProbe} returns. */
export interface LinearProbe {
  /** Fraction of samples whose argmax prediction is their label. */
  accuracy: number;
  /** Number of classes C (the largest label plus one). */
  numClasses: number;
  /** Weights, row-major `[k + 1, C]`; the last row is the bias. */
  weights: Float64Array;
  /** Predicted class of each sample (ties go to the smaller class). */
  predictions: Int32Array;
}

/**
 * Fits `W = argmin ‖X̃ W − Y‖²_F + λ ‖W_{1..k}‖²_F` with `X̃ = [X, 1]`
 * (features and a bias column) and Y the one-hot labels `[N, C]`, by
 * solving `(X̃ᵀX̃ + λ I') W = X̃ᵀY` (I' the identity without the bias
 * entry) with a Cholesky factorization in float64, then predicts
 * `argmax_c (X̃ W)_c` for every sample and scores it against the labels
 * it was fitted on (a training accuracy, as a probe of linear
 * separability).
 *
 * @param features X, row-major `[N, k]` (any numeric array).
 * @param n N ≥ 1, the number of samples.
 * @param k k ≥ 1, the feature dimension.
 * @param labels N integer labels in [0, C).
 * @param options `ridge` (see {@link LinearProbeOptions}).
 * @throws ShapeError when the lengths do not match n and k; ConfigError
 *   for a bad label or ridge; NumericalError when the system is singular
 *   or the features are not finite.
 */
export function linearProbe(
  features: ArrayLike<number>,
  n: number,
  k: number,
  labels: ArrayLike<number>,
  options: LinearProbeOptions = {},
): LinearProbe {
  const fn = "linearProbe";
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(k) || k < 1) {
    throw new ShapeError(
      `${fn}: expected integers n >= 1 and k >= 1, got n = ${n}, k = ${k}`,
    );
  }
  if (features.length !== n * k) {
    throw new ShapeError(
      `${fn}: expected ${n * k} features (n × k), got ${features.length}`,
    );
  }
  if (labels.length !== n) {
    throw new ShapeError(`${fn}: expected ${n} labels, got ${labels.length}`);
  }
  let numClasses = 0;
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0) {
      throw new ConfigError(
        `${fn}: labels must be integers >= 0, got ${c} at ${i}`,
      );
    }
    numClasses = Math.max(numClasses, c + 1);
  }
  for (let i = 0; i < n * k; i++) {
    if (!Number.isFinite(features[i])) {
      throw new NumericalError(
        `${fn}: expected finite features, got ${features[i]} at ${i}`,
      );
    }
  }

  // the normal equations G W = B with G = X̃ᵀX̃, B = X̃ᵀY, m = k + 1
  const m = k + 1;
  const g = new Float64Array(m * m);
  const b = new Float64Array(m * numClasses);
  const row = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) row[a] = features[i * k + a];
    row[k] = 1;
    for (let a = 0; a < m; a++) {
      for (let c = 0; c < m; c++) g[a * m + c] += row[a] * row[c];
      b[a * numClasses + labels[i]] += row[a];
    }
  }
  let trace = 0;
  for (let a = 0; a < k; a++) trace += g[a * m + a];
  const ridge = options.ridge ?? (1e-6 * trace) / k;
  if (!(ridge >= 0) || !Number.isFinite(ridge)) {
    throw new ConfigError(
      `${fn}: ridge must be a finite number >= 0, got ${ridge}`,
    );
  }
  for (let a = 0; a < k; a++) g[a * m + a] += ridge;

  // Cholesky G = L Lᵀ, then the two triangular solves per class
  const l = cholesky(fn, g, m);
  const weights = new Float64Array(m * numClasses);
  const y = new Float64Array(m);
  for (let c = 0; c < numClasses; c++) {
    for (let a = 0; a < m; a++) {
      let s = b[a * numClasses + c];
      for (let j = 0; j < a; j++) s -= l[a * m + j] * y[j];
      y[a] = s / l[a * m + a];
    }
    for (let a = m - 1; a >= 0; a--) {
      let s = y[a];
      for (let j = a + 1; j < m; j++) {
        s -= l[j * m + a] * weights[j * numClasses + c];
      }
      weights[a * numClasses + c] = s / l[a * m + a];
    }
  }

  // argmax predictions and the accuracy
  const predictions = new Int32Array(n);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < numClasses; c++) {
      let s = weights[k * numClasses + c];
      for (let a = 0; a < k; a++) {
        s += features[i * k + a] * weights[a * numClasses + c];
      }
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    predictions[i] = best;
    if (best === labels[i]) correct++;
  }
  return { accuracy: correct / n, numClasses, weights, predictions };
}

/** The lower Cholesky factor of the SPD m × m matrix g (row-major). */
function cholesky(fn: string, g: Float64Array, m: number): Float64Array {
  const l = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = g[i * m + j];
      for (let p = 0; p < j; p++) s -= l[i * m + p] * l[j * m + p];
      if (i === j) {
        if (!(s > 0)) {
          throw new NumericalError(
            `${fn}: the normal equations are singular (pivot ${s} at ` +
              `${i}); use a ridge > 0`,
          );
        }
        l[i * m + i] = Math.sqrt(s);
      } else {
        l[i * m + j] = s / l[j * m + j];
      }
    }
  }
  return l;
}
