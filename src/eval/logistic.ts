/**
 * Multinomial logistic regression on frozen features, the linear probe of
 * the contrastive-learning literature (SimCLR, DGI, GRACE all report it),
 * solved to convergence in float64 on typed arrays.
 *
 * The solver is limited-memory BFGS (J. Nocedal, "Updating quasi-Newton
 * matrices with limited storage", Math. Comp. 35, 1980) with a strong
 * Wolfe line search (J. Nocedal and S. Wright, "Numerical Optimization",
 * 2nd ed., algorithms 3.5, 3.6 and 7.4). The logits are linear in the
 * step length, so every trial step of the line search costs O(N·C) and
 * each iteration passes over the N × d features exactly twice.
 *
 * LIMITATION: those two passes are scalar float64 loops (register
 * blocked, one thread): about 0.1 s per iteration at N = 10,000, d = 512,
 * C = 10, so a solve takes 1-4 s (11-36 iterations) there. A float32
 * SIMD product (the native `gemm`) would be about ten times faster but
 * stops the gradient norm near 1e-5; it is not used.
 */

import { ConfigError, NumericalError, ShapeError } from "../errors.js";

/** Options of {@link logisticRegression}. */
export interface LogisticRegressionOptions {
  /**
   * L2 strength λ ≥ 0 of the objective `mean_i s_i CE_i + (λ/2) ‖W‖²`
   * (see {@link logisticRegression}). Default 1e-4, unless `C` is given.
   */
  l2?: number;
  /**
   * scikit-learn's inverse regularization C > 0, as an alternative to
   * `l2`: sklearn minimizes `C Σ_i s_i CE_i + ½ ‖W‖²`, which is N·C times
   * this objective with λ = 1 / (N·C). Giving both `l2` and `C` is a
   * ConfigError.
   */
  C?: number;
  /** Whether to fit an unpenalized bias b (default true). */
  fitIntercept?: boolean;
  /** Most L-BFGS iterations (default 1000). */
  maxIterations?: number;
  /**
   * Stop when the Euclidean norm of the gradient of the objective (over
   * W and b together) is at most this (default 1e-6).
   */
  tolerance?: number;
  /**
   * Weight s_c of every sample of class c in the data term: an array of
   * C positive numbers, or `"balanced"` for s_c = N / (C · N_c) as in
   * scikit-learn. Default: every s_c = 1.
   */
  classWeights?: ArrayLike<number> | "balanced";
  /** Number of classes C (default: the largest label plus one). */
  numClasses?: number;
  /** Number of correction pairs L-BFGS keeps (default 10). */
  memory?: number;
  /**
   * Starting point (default W = 0, b = 0), for warm starts along a
   * regularization path: `weights` `[C, d]` row-major, `bias` `[C]`.
   */
  initial?: { weights: ArrayLike<number>; bias: ArrayLike<number> };
}

/** A fitted {@link logisticRegression} model and how the solve went. */
export interface LogisticRegressionModel {
  /** Weights W, row-major `[C, d]` (one row per class, as sklearn). */
  weights: Float64Array;
  /** Bias b, `[C]`; all zero when `fitIntercept` is false. */
  bias: Float64Array;
  /** Number of classes C. */
  numClasses: number;
  /** Feature dimension d. */
  numFeatures: number;
  /** The λ that was used (after converting `C`). */
  l2: number;
  /** Objective value at the returned point. */
  objective: number;
  /** L-BFGS iterations taken. */
  iterations: number;
  /** Whether the gradient norm reached `tolerance`. */
  converged: boolean;
  /**
   * Euclidean norm of the gradient at the returned point, in the solver's
   * parametrization (features centred when `fitIntercept`, see the note
   * in {@link logisticRegression}).
   */
  gradientNorm: number;
}

/** The objective and its gradient, from {@link logisticObjective}. */
export interface LogisticObjective {
  /** `mean_i s_i CE_i + (λ/2) ‖W‖²`. */
  value: number;
  /** ∂/∂W, row-major `[C, d]`. */
  weightGradient: Float64Array;
  /** ∂/∂b, `[C]`. */
  biasGradient: Float64Array;
}

/** The validated problem: float64 features, labels, sample weights. */
interface Problem {
  x: Float64Array;
  n: number;
  d: number;
  numClasses: number;
  labels: Int32Array;
  /** s_{y_i} / N for every sample. */
  scale: Float64Array;
  /** Column means subtracted from x (zeros when not centred), `[d]`. */
  mean: Float64Array;
}

/**
 * Fits multinomial (softmax) logistic regression
 *
 *   min_{W, b}  (1/N) Σ_i s_{y_i} · CE(softmax(W x_i + b), y_i)
 *               + (λ/2) ‖W‖²_F,
 *
 * with CE(p, y) = −log p_y, W `[C, d]`, b `[C]` unpenalized, and s the
 * class weights (all 1 by default). The penalty does not grow with N:
 * scikit-learn's C corresponds to λ = 1 / (N·C) (option `C`). Solved by
 * L-BFGS to `‖∇‖₂ ≤ tolerance` in float64; the result is a deterministic
 * function of the inputs.
 *
 * With λ > 0 the weights are unique; the bias is unique up to a constant
 * added to every class, and the returned one has mean zero when it starts
 * at zero (every gradient step keeps Σ_c b_c).
 *
 * @param features X, row-major `[N, d]` (any numeric array; copied to
 *   float64).
 * @param n N ≥ 1, the number of samples.
 * @param d d ≥ 1, the feature dimension.
 * @param labels N integer labels in [0, C).
 * @param options see {@link LogisticRegressionOptions}.
 * @throws ShapeError when the lengths do not match n and d (naming the
 *   argument); ConfigError for a bad option or label; NumericalError for
 *   non-finite features.
 */
export function logisticRegression(
  features: ArrayLike<number>,
  n: number,
  d: number,
  labels: ArrayLike<number>,
  options: LogisticRegressionOptions = {},
): LogisticRegressionModel {
  const fn = "logisticRegression";
  const fitIntercept = options.fitIntercept ?? true;
  const problem = makeProblem(fn, features, n, d, labels, options, {
    center: fitIntercept,
  });
  const l2 = resolveL2(fn, n, options);
  const maxIterations = options.maxIterations ?? 1000;
  const tolerance = options.tolerance ?? 1e-6;
  const memory = options.memory ?? 10;
  if (!Number.isInteger(maxIterations) || maxIterations < 0) {
    throw new ConfigError(
      `${fn}: maxIterations must be an integer >= 0, got ${maxIterations}`,
    );
  }
  if (!(tolerance >= 0)) {
    throw new ConfigError(`${fn}: tolerance must be >= 0, got ${tolerance}`);
  }
  if (!Number.isInteger(memory) || memory < 1) {
    throw new ConfigError(
      `${fn}: memory must be an integer >= 1, got ${memory}`,
    );
  }
  const numClasses = problem.numClasses;
  const size = numClasses * d + numClasses;
  const theta = new Float64Array(size);
  if (options.initial !== undefined) {
    const { weights, bias } = options.initial;
    if (weights.length !== numClasses * d) {
      throw new ShapeError(
        `${fn}: expected initial.weights of length C·d = ` +
          `${numClasses * d}, got ${weights.length}`,
      );
    }
    if (bias.length !== numClasses) {
      throw new ShapeError(
        `${fn}: expected initial.bias of length C = ${numClasses}, ` +
          `got ${bias.length}`,
      );
    }
    for (let j = 0; j < numClasses * d; j++) theta[j] = weights[j];
    if (fitIntercept) {
      for (let c = 0; c < numClasses; c++) {
        theta[numClasses * d + c] = bias[c];
      }
    }
  }

  // NOTE: the solver sees centred features x − μ, with bias b' = b + W μ
  // (the same model and the same penalty); centring removes the
  // correlation between b and W that slows L-BFGS on features of
  // nonzero mean (pixels, ReLU outputs)
  shiftBias(problem, theta, 1);
  const result = minimize(problem, theta, {
    l2,
    fitIntercept,
    maxIterations,
    tolerance,
    memory,
  });
  shiftBias(problem, theta, -1);
  return {
    weights: theta.slice(0, numClasses * d),
    bias: theta.slice(numClasses * d),
    numClasses,
    numFeatures: d,
    l2,
    ...result,
  };
}

/**
 * The objective of {@link logisticRegression} and its exact gradient at
 * given weights, `[C, d]`, and bias, `[C]`, computed in float64 (for
 * checks and for custom solvers). Options `l2`, `C`, `classWeights` and
 * `numClasses` as in {@link LogisticRegressionOptions}.
 *
 * Gradient: with P the softmax probabilities `[N, C]`, Y the one-hot
 * labels and R_i = s_{y_i} (P_i − Y_i) / N, ∂/∂W = Rᵀ X + λ W and
 * ∂/∂b = Σ_i R_i.
 */
export function logisticObjective(
  features: ArrayLike<number>,
  n: number,
  d: number,
  labels: ArrayLike<number>,
  weights: ArrayLike<number>,
  bias: ArrayLike<number>,
  options: Pick<
    LogisticRegressionOptions,
    "l2" | "C" | "classWeights" | "numClasses"
  > = {},
): LogisticObjective {
  const fn = "logisticObjective";
  const problem = makeProblem(fn, features, n, d, labels, options);
  const l2 = resolveL2(fn, n, options);
  const numClasses = problem.numClasses;
  if (weights.length !== numClasses * d) {
    throw new ShapeError(
      `${fn}: expected weights of length C·d = ${numClasses * d}, got ` +
        `${weights.length}`,
    );
  }
  if (bias.length !== numClasses) {
    throw new ShapeError(
      `${fn}: expected bias of length C = ${numClasses}, got ${bias.length}`,
    );
  }
  const theta = new Float64Array(numClasses * d + numClasses);
  for (let j = 0; j < numClasses * d; j++) theta[j] = weights[j];
  for (let c = 0; c < numClasses; c++) theta[numClasses * d + c] = bias[c];
  const logits = new Float64Array(n * numClasses);
  computeLogits(problem, theta, logits);
  const gradient = new Float64Array(theta.length);
  const value = valueAndGradient(problem, theta, logits, l2, true, gradient);
  return {
    value,
    weightGradient: gradient.slice(0, numClasses * d),
    biasGradient: gradient.slice(numClasses * d),
  };
}

/**
 * The class scores `W x_i + b` of a fitted model, row-major `[N, C]`.
 *
 * @param model a model from {@link logisticRegression}.
 * @param features X, row-major `[N, d]` with d = `model.numFeatures`.
 * @param n N, the number of samples.
 * @throws ShapeError when the length is not n·d.
 */
export function logisticScores(
  model: LogisticRegressionModel,
  features: ArrayLike<number>,
  n: number,
): Float64Array {
  const { numClasses, numFeatures: d, weights, bias } = model;
  if (!Number.isInteger(n) || n < 0 || features.length !== n * d) {
    throw new ShapeError(
      `logisticScores: expected features of length n·d = ${n}·${d}, got ` +
        `${features.length}`,
    );
  }
  const scores = new Float64Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < numClasses; c++) {
      let s = bias[c];
      for (let a = 0; a < d; a++) s += features[i * d + a] * weights[c * d + a];
      scores[i * numClasses + c] = s;
    }
  }
  return scores;
}

/**
 * The predicted class `argmax_c (W x_i + b)_c` of every sample; ties go
 * to the smaller class. Arguments as for {@link logisticScores}.
 */
export function logisticPredict(
  model: LogisticRegressionModel,
  features: ArrayLike<number>,
  n: number,
): Int32Array {
  const scores = logisticScores(model, features, n);
  const numClasses = model.numClasses;
  const predictions = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) {
      if (scores[i * numClasses + c] > scores[i * numClasses + best]) best = c;
    }
    predictions[i] = best;
  }
  return predictions;
}

/** The λ that `options` ask for: `l2`, or 1 / (N·C), default 1e-4. */
function resolveL2(
  fn: string,
  n: number,
  options: Pick<LogisticRegressionOptions, "l2" | "C">,
): number {
  if (options.l2 !== undefined && options.C !== undefined) {
    throw new ConfigError(
      `${fn}: give either l2 or C, got l2 = ${options.l2} and ` +
        `C = ${options.C}`,
    );
  }
  if (options.C !== undefined) {
    if (!(options.C > 0) || !Number.isFinite(options.C)) {
      throw new ConfigError(
        `${fn}: C must be a finite number > 0, got ${options.C}`,
      );
    }
    return 1 / (n * options.C);
  }
  const l2 = options.l2 ?? 1e-4;
  if (!(l2 >= 0) || !Number.isFinite(l2)) {
    throw new ConfigError(`${fn}: l2 must be a finite number >= 0, got ${l2}`);
  }
  return l2;
}

/**
 * Checks shapes, labels and class weights; copies X to float64, minus
 * its column means when `centering.center`.
 */
function makeProblem(
  fn: string,
  features: ArrayLike<number>,
  n: number,
  d: number,
  labels: ArrayLike<number>,
  options: Pick<LogisticRegressionOptions, "classWeights" | "numClasses">,
  centering: { center: boolean } = { center: false },
): Problem {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(d) || d < 1) {
    throw new ShapeError(
      `${fn}: expected integers n >= 1 and d >= 1, got n = ${n}, d = ${d}`,
    );
  }
  if (features.length !== n * d) {
    throw new ShapeError(
      `${fn}: expected features of length n·d = ${n * d}, got ` +
        `${features.length}`,
    );
  }
  if (labels.length !== n) {
    throw new ShapeError(
      `${fn}: expected labels of length n = ${n}, got ${labels.length}`,
    );
  }

  // labels: integers in [0, C)
  let largest = -1;
  const intLabels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0) {
      throw new ConfigError(
        `${fn}: labels must be integers >= 0, got ${y} at ${i}`,
      );
    }
    intLabels[i] = y;
    largest = Math.max(largest, y);
  }
  const numClasses = options.numClasses ?? largest + 1;
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ConfigError(
      `${fn}: numClasses must be an integer >= 1, got ${numClasses}`,
    );
  }
  if (largest >= numClasses) {
    throw new ConfigError(
      `${fn}: labels must lie in [0, numClasses = ${numClasses}), got ` +
        `${largest}`,
    );
  }

  // class weights, folded with 1/N into one scale per sample
  const classWeight = new Float64Array(numClasses).fill(1);
  const cw = options.classWeights;
  if (cw === "balanced") {
    const counts = new Float64Array(numClasses);
    for (let i = 0; i < n; i++) counts[intLabels[i]]++;
    for (let c = 0; c < numClasses; c++) {
      classWeight[c] = counts[c] > 0 ? n / (numClasses * counts[c]) : 0;
    }
  } else if (cw !== undefined) {
    if (typeof cw === "string" || cw.length !== numClasses) {
      throw new ConfigError(
        `${fn}: classWeights must be "balanced" or ${numClasses} numbers, ` +
          `got ${typeof cw === "string" ? `"${cw}"` : `${cw.length}`}`,
      );
    }
    for (let c = 0; c < numClasses; c++) {
      if (!(cw[c] > 0) || !Number.isFinite(cw[c])) {
        throw new ConfigError(
          `${fn}: classWeights must be finite and > 0, got ${cw[c]} at ${c}`,
        );
      }
      classWeight[c] = cw[c];
    }
  }
  const scale = new Float64Array(n);
  for (let i = 0; i < n; i++) scale[i] = classWeight[intLabels[i]] / n;

  const x = new Float64Array(n * d);
  for (let j = 0; j < n * d; j++) {
    const v = features[j];
    if (!Number.isFinite(v)) {
      throw new NumericalError(
        `${fn}: expected finite features, got ${v} at row ` +
          `${Math.floor(j / d)}, column ${j % d}`,
      );
    }
    x[j] = v;
  }

  // centring: subtract the column means
  const mean = new Float64Array(d);
  if (centering.center) {
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < d; a++) mean[a] += x[i * d + a];
    }
    for (let a = 0; a < d; a++) mean[a] /= n;
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < d; a++) x[i * d + a] -= mean[a];
    }
  }
  return { x, n, d, numClasses, labels: intLabels, scale, mean };
}

/** `b += sign · W μ` in θ = [W, b], between b and the centred b'. */
function shiftBias(problem: Problem, theta: Float64Array, sign: number) {
  const { d, numClasses: k, mean } = problem;
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let a = 0; a < d; a++) s += theta[c * d + a] * mean[a];
    theta[k * d + c] += sign * s;
  }
}

/**
 * `out[i, c] = Σ_a X[i, a] W[c, a] + b[c]` for θ = [W, b]. Register
 * blocked: four rows and two classes share every load.
 */
function computeLogits(
  problem: Problem,
  theta: Float64Array,
  out: Float64Array,
): void {
  const { x, n, d, numClasses: k } = problem;
  const bias = k * d;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o0 = i * d;
    const o1 = o0 + d;
    const o2 = o1 + d;
    const o3 = o2 + d;
    let c = 0;
    for (; c + 2 <= k; c += 2) {
      const w0 = c * d;
      const w1 = w0 + d;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let a = 0; a < d; a++) {
        const v0 = theta[w0 + a];
        const v1 = theta[w1 + a];
        const x0 = x[o0 + a];
        const x1 = x[o1 + a];
        const x2 = x[o2 + a];
        const x3 = x[o3 + a];
        s00 += x0 * v0;
        s01 += x0 * v1;
        s10 += x1 * v0;
        s11 += x1 * v1;
        s20 += x2 * v0;
        s21 += x2 * v1;
        s30 += x3 * v0;
        s31 += x3 * v1;
      }
      const b0 = theta[bias + c];
      const b1 = theta[bias + c + 1];
      const z = i * k + c;
      out[z] = s00 + b0;
      out[z + 1] = s01 + b1;
      out[z + k] = s10 + b0;
      out[z + k + 1] = s11 + b1;
      out[z + 2 * k] = s20 + b0;
      out[z + 2 * k + 1] = s21 + b1;
      out[z + 3 * k] = s30 + b0;
      out[z + 3 * k + 1] = s31 + b1;
    }
    for (; c < k; c++) {
      for (let r = 0; r < 4; r++) {
        out[(i + r) * k + c] = rowDot(x, (i + r) * d, theta, c * d, d);
        out[(i + r) * k + c] += theta[bias + c];
      }
    }
  }
  for (; i < n; i++) {
    for (let c = 0; c < k; c++) {
      out[i * k + c] = rowDot(x, i * d, theta, c * d, d) + theta[bias + c];
    }
  }
}

/** `Σ_a u[p + a] v[q + a]` over a < d. */
function rowDot(
  u: Float64Array,
  p: number,
  v: Float64Array,
  q: number,
  d: number,
): number {
  let s = 0;
  for (let a = 0; a < d; a++) s += u[p + a] * v[q + a];
  return s;
}

/**
 * `out[c, a] = Σ_i R[i, c] X[i, a]` (the weight part of the gradient,
 * `[C, d]`), four rows and two classes at a time.
 */
function accumulateGradient(
  problem: Problem,
  residual: Float64Array,
  out: Float64Array,
): void {
  const { x, n, d, numClasses: k } = problem;
  out.fill(0, 0, k * d);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o0 = i * d;
    const o1 = o0 + d;
    const o2 = o1 + d;
    const o3 = o2 + d;
    let c = 0;
    for (; c + 2 <= k; c += 2) {
      const q = i * k + c;
      const r00 = residual[q];
      const r10 = residual[q + k];
      const r20 = residual[q + 2 * k];
      const r30 = residual[q + 3 * k];
      const r01 = residual[q + 1];
      const r11 = residual[q + k + 1];
      const r21 = residual[q + 2 * k + 1];
      const r31 = residual[q + 3 * k + 1];
      const g0 = c * d;
      const g1 = g0 + d;
      for (let a = 0; a < d; a++) {
        const x0 = x[o0 + a];
        const x1 = x[o1 + a];
        const x2 = x[o2 + a];
        const x3 = x[o3 + a];
        out[g0 + a] += r00 * x0 + r10 * x1 + r20 * x2 + r30 * x3;
        out[g1 + a] += r01 * x0 + r11 * x1 + r21 * x2 + r31 * x3;
      }
    }
    for (; c < k; c++) {
      const q = i * k + c;
      const r0 = residual[q];
      const r1 = residual[q + k];
      const r2 = residual[q + 2 * k];
      const r3 = residual[q + 3 * k];
      const g = c * d;
      for (let a = 0; a < d; a++) {
        out[g + a] +=
          r0 * x[o0 + a] + r1 * x[o1 + a] + r2 * x[o2 + a] + r3 * x[o3 + a];
      }
    }
  }
  for (; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const r = residual[i * k + c];
      const g = c * d;
      for (let a = 0; a < d; a++) out[g + a] += r * x[i * d + a];
    }
  }
}

/**
 * The objective at θ given its logits, and its gradient into `gradient`
 * (the bias part zero when `fitIntercept` is false).
 */
function valueAndGradient(
  problem: Problem,
  theta: Float64Array,
  logits: Float64Array,
  l2: number,
  fitIntercept: boolean,
  gradient: Float64Array,
): number {
  const { n, d, numClasses: k, labels, scale } = problem;

  // the data term and the residuals R_i = s_i (P_i − Y_i) / N, in place of
  // a scratch copy of the logits
  const residual = new Float64Array(n * k);
  let value = 0;
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, logits[o + c]);
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(logits[o + c] - max);
      residual[o + c] = e;
      sum += e;
    }
    value += scale[i] * (max + Math.log(sum) - logits[o + labels[i]]);
    for (let c = 0; c < k; c++) residual[o + c] *= scale[i] / sum;
    residual[o + labels[i]] -= scale[i];
  }

  // ∂/∂W = Rᵀ X + λ W, ∂/∂b = Σ_i R_i
  accumulateGradient(problem, residual, gradient);
  let norm = 0;
  for (let j = 0; j < k * d; j++) {
    norm += theta[j] * theta[j];
    gradient[j] += l2 * theta[j];
  }
  for (let c = 0; c < k; c++) {
    let s = 0;
    if (fitIntercept) {
      for (let i = 0; i < n; i++) s += residual[i * k + c];
    }
    gradient[k * d + c] = s;
  }
  return value + 0.5 * l2 * norm;
}

/** Settings of {@link minimize}, resolved. */
interface SolverSettings {
  l2: number;
  fitIntercept: boolean;
  maxIterations: number;
  tolerance: number;
  memory: number;
}

/** What {@link minimize} reports besides the point. */
interface SolverResult {
  objective: number;
  iterations: number;
  converged: boolean;
  gradientNorm: number;
}

/**
 * L-BFGS from θ (updated in place). The two-loop recursion gives the
 * direction p; the logits along it are `Z + t Zp`, so the line search
 * evaluates φ(t) and φ'(t) in O(N·C) per trial and the features are read
 * once for Zp and once for the gradient at the accepted step.
 */
function minimize(
  problem: Problem,
  theta: Float64Array,
  settings: SolverSettings,
): SolverResult {
  const { l2, fitIntercept, maxIterations, tolerance, memory } = settings;
  const { n, d, numClasses: k } = problem;
  const size = theta.length;
  const logits = new Float64Array(n * k);
  const logitStep = new Float64Array(n * k);
  const gradient = new Float64Array(size);
  const direction = new Float64Array(size);
  computeLogits(problem, theta, logits);
  let value = valueAndGradient(
    problem,
    theta,
    logits,
    l2,
    fitIntercept,
    gradient,
  );
  let gradientNorm = Math.sqrt(dot(gradient, gradient));

  // the correction pairs s = Δθ, y = Δ∇ in a ring buffer
  const steps: Float64Array[] = [];
  const changes: Float64Array[] = [];
  const rhos: number[] = [];
  const alphas = new Float64Array(memory);

  let iterations = 0;
  while (gradientNorm > tolerance && iterations < maxIterations) {
    if (!Number.isFinite(value) || !Number.isFinite(gradientNorm)) {
      throw new NumericalError(
        `logisticRegression: the objective became ${value} at iteration ` +
          `${iterations}`,
      );
    }

    // two-loop recursion: direction = −H ∇ with H₀ = γ I
    for (let j = 0; j < size; j++) direction[j] = -gradient[j];
    for (let m = steps.length - 1; m >= 0; m--) {
      alphas[m] = rhos[m] * dot(steps[m], direction);
      axpy(-alphas[m], changes[m], direction);
    }
    let gamma = 1 / Math.max(gradientNorm, 1);
    if (steps.length > 0) {
      const last = steps.length - 1;
      gamma = 1 / (rhos[last] * dot(changes[last], changes[last]));
    }
    for (let j = 0; j < size; j++) direction[j] *= gamma;
    for (let m = 0; m < steps.length; m++) {
      const beta = rhos[m] * dot(changes[m], direction);
      axpy(alphas[m] - beta, steps[m], direction);
    }
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // NOTE: not a descent direction (a curvature pair gone stale):
      // restart from the steepest descent direction
      steps.length = 0;
      changes.length = 0;
      rhos.length = 0;
      for (let j = 0; j < size; j++) direction[j] = -gradient[j] * gamma;
      slope = dot(gradient, direction);
    }
    if (!fitIntercept) direction.fill(0, k * d);

    // the logits move along Zp = X Pᵀ + p_b
    computeLogits(problem, direction, logitStep);
    const line = lineFunction(problem, theta, direction, logits, logitStep, l2);
    const t = wolfeSearch(line, value, slope);
    if (t === 0) break;

    // accept the step, then the gradient there and the new pair
    const step = new Float64Array(size);
    const change = new Float64Array(size);
    for (let j = 0; j < size; j++) {
      step[j] = t * direction[j];
      theta[j] += step[j];
      change[j] = -gradient[j];
    }
    for (let j = 0; j < n * k; j++) logits[j] += t * logitStep[j];
    value = valueAndGradient(
      problem,
      theta,
      logits,
      l2,
      fitIntercept,
      gradient,
    );
    gradientNorm = Math.sqrt(dot(gradient, gradient));
    for (let j = 0; j < size; j++) change[j] += gradient[j];
    iterations++;
    const curvature = dot(step, change);
    if (curvature > 1e-12 * Math.sqrt(dot(change, change) * dot(step, step))) {
      if (steps.length === memory) {
        steps.shift();
        changes.shift();
        rhos.shift();
      }
      steps.push(step);
      changes.push(change);
      rhos.push(1 / curvature);
    }
  }
  return {
    objective: value,
    iterations,
    converged: gradientNorm <= tolerance,
    gradientNorm,
  };
}

/** φ along one direction: `[φ(t), φ'(t)]` for a step length t. */
type LineFunction = (t: number) => [number, number];

/**
 * φ(t) = f(θ + t p) and φ'(t) along the direction p, from the logits
 * `Z + t Zp` in O(N·C) and the penalty in closed form.
 */
function lineFunction(
  problem: Problem,
  theta: Float64Array,
  direction: Float64Array,
  logits: Float64Array,
  logitStep: Float64Array,
  l2: number,
): LineFunction {
  const { n, d, numClasses: k, labels, scale } = problem;
  let weightDot = 0;
  let weightNorm = 0;
  let stepNorm = 0;
  for (let j = 0; j < k * d; j++) {
    weightDot += theta[j] * direction[j];
    weightNorm += theta[j] * theta[j];
    stepNorm += direction[j] * direction[j];
  }
  return (t) => {
    let value = 0;
    let slope = 0;
    for (let i = 0; i < n; i++) {
      const o = i * k;
      let max = -Infinity;
      for (let c = 0; c < k; c++) {
        max = Math.max(max, logits[o + c] + t * logitStep[o + c]);
      }
      let sum = 0;
      let weighted = 0;
      for (let c = 0; c < k; c++) {
        const e = Math.exp(logits[o + c] + t * logitStep[o + c] - max);
        sum += e;
        weighted += e * logitStep[o + c];
      }
      const y = o + labels[i];
      value += scale[i] * (max + Math.log(sum) - logits[y] - t * logitStep[y]);
      slope += scale[i] * (weighted / sum - logitStep[y]);
    }
    value += 0.5 * l2 * (weightNorm + 2 * t * weightDot + t * t * stepNorm);
    slope += l2 * (weightDot + t * stepNorm);
    return [value, slope];
  };
}

/**
 * A step length t satisfying the strong Wolfe conditions
 * `φ(t) ≤ φ(0) + c₁ t φ'(0)` and `|φ'(t)| ≤ c₂ |φ'(0)|` (c₁ = 1e-4,
 * c₂ = 0.9), with the decrease condition relaxed by 1e-12·|φ(0)| so that
 * steps below the rounding of φ are judged by φ' alone (W. Hager and
 * H. Zhang's approximate Wolfe conditions, SIAM J. Optim. 16, 2005).
 *
 * φ is convex here, so φ' is nondecreasing and the sign of φ' brackets
 * the minimizer: the search expands by 4 from t = 1 until a step is too
 * long, then takes safeguarded secant steps on φ'. Returns the last step
 * known to be too short (0 when none) after 60 trials.
 */
function wolfeSearch(
  line: LineFunction,
  value0: number,
  slope0: number,
): number {
  const c1 = 1e-4;
  const c2 = 0.9;
  const slack = 1e-12 * Math.abs(value0);
  let lo = 0;
  let loSlope = slope0;
  let hi = Number.POSITIVE_INFINITY;
  let hiSlope = Number.NaN;
  let t = 1;
  for (let trial = 0; trial < 60; trial++) {
    const [value, slope] = line(t);
    const decrease = value <= value0 + c1 * t * slope0 + slack;
    if (!Number.isFinite(value) || !decrease || slope > -c2 * slope0) {
      // too long: past the minimizer, or not enough decrease
      hi = t;
      hiSlope = Number.isFinite(value) ? slope : Number.NaN;
    } else if (slope >= c2 * slope0) {
      return t;
    } else {
      lo = t;
      loSlope = slope;
    }

    // next trial: expand while unbracketed, else a secant step on φ'
    // kept 10% inside the bracket (a short step after an overflow)
    if (hi === Number.POSITIVE_INFINITY) {
      t *= 4;
      continue;
    }
    if (hi - lo <= 1e-15 * hi) break;
    let next = lo + 0.1 * (hi - lo);
    if (Number.isFinite(hiSlope)) {
      next = 0.5 * (lo + hi);
      if (hiSlope > loSlope) {
        const secant = lo - (loSlope * (hi - lo)) / (hiSlope - loSlope);
        const margin = 0.1 * (hi - lo);
        if (secant >= lo + margin && secant <= hi - margin) next = secant;
      }
    }
    t = next;
  }
  return lo;
}

/** `Σ u_j v_j`. */
function dot(u: Float64Array, v: Float64Array): number {
  let s = 0;
  for (let j = 0; j < u.length; j++) s += u[j] * v[j];
  return s;
}

/** `v += alpha · u`. */
function axpy(alpha: number, u: Float64Array, v: Float64Array): void {
  for (let j = 0; j < u.length; j++) v[j] += alpha * u[j];
}
