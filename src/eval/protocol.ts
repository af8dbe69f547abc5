/**
 * Evaluation protocols for frozen embeddings, and the record a results
 * file carries so that a number can be traced to how it was measured.
 *
 * The linear probe follows the practice of the contrastive-learning
 * papers (SimCLR, T. Chen et al., ICML 2020; DGI, P. Veličković et al.,
 * ICLR 2019; GRACE, Y. Zhu et al., 2020): multinomial logistic regression
 * on the (normalized) embeddings of the training nodes, its L2 strength
 * chosen by accuracy on a validation split from a log-spaced grid, the
 * accuracy of the chosen model reported on the test split. The kNN
 * protocol is that of Z. Wu et al. (CVPR 2018) and DINO (M. Caron et al.,
 * ICCV 2021).
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import { mulberry32, shuffle } from "../random.js";
import { type KnnMetric, type KnnWeighting, knnClassifier } from "./knn.js";
import {
  type LogisticRegressionModel,
  logisticPredict,
  logisticRegression,
} from "./logistic.js";

/** Index sets of an evaluation; `val` may be missing or empty. */
export interface EvaluationSplit {
  /** Rows the classifier is fitted on (the kNN memory). */
  readonly train: ArrayLike<number>;
  /** Rows the L2 strength is chosen on. */
  readonly val?: ArrayLike<number>;
  /** Rows the reported accuracy is measured on. */
  readonly test: ArrayLike<number>;
}

/** How embeddings are rescaled before the probe. */
export type ProbeNormalization = "l2" | "standardize" | "none";

/** Options of {@link linearProbeEvaluation}. */
export interface LinearProbeEvaluationOptions {
  /**
   * λ values to try (the λ of {@link logisticRegression}, penalty
   * `(λ/2)‖W‖²` on a mean loss). Default {@link DEFAULT_L2_GRID}: 21
   * values log-spaced from 1e-6 to 1e2 (ratio 10^0.4 ≈ 2.5), which spans
   * scikit-learn's C from 2^-10 to 2^10 at 140 training nodes.
   */
  grid?: readonly number[];
  /**
   * `"l2"` (default): every row divided by its Euclidean norm (zero rows
   * stay zero). `"standardize"`: every column shifted and scaled to mean
   * 0, variance 1 over the fitting rows (a constant column becomes 0).
   * `"none"`: as given.
   *
   * LIMITATION: with `"none"` on features of large norm (raw pixel
   * counts 0..16) the problem is badly conditioned: weak λ values reach
   * `maxIterations` without converging (flagged in `grid`), and the whole
   * path costs tens of times longer than with `"l2"`.
   */
  normalize?: ProbeNormalization;
  /**
   * Where λ is chosen: `"split"` (default) on `split.val`, which must be
   * non-empty; `"holdout"`: on a seeded random `holdoutFraction` of
   * `split.train`, the rest being fitted on (for train/test-only data
   * such as MNIST).
   */
  validation?: "split" | "holdout";
  /** Fraction of the training rows held out (default 0.1). */
  holdoutFraction?: number;
  /** Seed of the holdout draw (default 0). */
  seed?: number;
  /**
   * What the reported test accuracy comes from: `"train"` (default, the
   * papers' practice) keeps the model fitted on the training rows at the
   * chosen λ; `"train+val"` refits at that λ on training and validation
   * rows together.
   */
  refit?: "train" | "train+val";
  /** Gradient-norm tolerance of every fit (default 1e-6). */
  tolerance?: number;
  /** Most L-BFGS iterations of every fit (default 1000). */
  maxIterations?: number;
  /**
   * Early end of the regularization path: stop once this many
   * consecutive λ values (walking from the strongest) fail to beat the
   * best validation accuracy so far, counting only after the accuracy
   * has first risen above that of the strongest λ (so the flat stretch
   * of near-constant predictions at strong λ never ends the path).
   * Default: none, the whole grid is fitted. The weak-λ end is where L-BFGS needs most iterations, so on
   * large training sets (MNIST's 9,000 fitting rows) a patience of 3
   * cuts the probe's time by more than half; the λ chosen is the same
   * whenever validation accuracy falls off monotonically past its peak.
   */
  pathPatience?: number;
  /** Names of the split for the protocol record (default "given"). */
  splitName?: string;
}

/**
 * The 21 default λ values of {@link linearProbeEvaluation}:
 * `10^(−6 + 0.4 j)`, j = 0 … 20, from 1e-6 to 1e2.
 */
export const DEFAULT_L2_GRID: readonly number[] = Object.freeze(
  Array.from({ length: 21 }, (_, j) => 10 ** (-6 + 0.4 * j)),
);

/** How one split size and origin are recorded. */
export interface ProtocolSplit {
  /** A name for where the split comes from ("planetoid-public", …). */
  name: string;
  /** Rows fitted on. */
  train: number;
  /** Rows λ was chosen on (0 for kNN). */
  val: number;
  /** Rows scored. */
  test: number;
  /** `"split"`: val given; `"holdout"`: carved from train (seeded). */
  validation: "split" | "holdout" | "none";
  /** Fraction held out, for `"holdout"`. */
  holdoutFraction?: number;
}

/** The record of a linear-probe evaluation. */
export interface LinearProbeProtocol {
  kind: "linear-probe";
  /** Multinomial logistic regression solved by L-BFGS. */
  classifier: "logistic-lbfgs";
  normalization: ProbeNormalization;
  /** The λ values tried, in the order given. */
  grid: number[];
  /** The λ of the reported model. */
  chosenL2: number;
  /** What the reported model was fitted on. */
  refit: "train" | "train+val";
  /** Gradient-norm tolerance and iteration cap of the fits. */
  tolerance: number;
  maxIterations: number;
  /** The early end of the path (null: the whole grid was fitted). */
  pathPatience: number | null;
  split: ProtocolSplit;
  /** Seed of the holdout draw (recorded even when unused). */
  seed: number;
}

/** The record of a kNN evaluation. */
export interface KnnProtocol {
  kind: "knn";
  k: number;
  metric: KnnMetric;
  weighting: KnnWeighting;
  /** τ of the temperature weighting (recorded whatever the weighting). */
  temperature: number;
  split: ProtocolSplit;
}

/** What a results file must carry about how an accuracy was measured. */
export type EvaluationProtocol = LinearProbeProtocol | KnnProtocol;

/** One grid point of {@link linearProbeEvaluation}. */
export interface GridPoint {
  l2: number;
  valAccuracy: number;
  /** L-BFGS iterations of this fit, and whether it converged. */
  iterations: number;
  converged: boolean;
}

/** What {@link linearProbeEvaluation} returns. */
export interface LinearProbeEvaluation {
  testAccuracy: number;
  /** Validation accuracy of the chosen λ. */
  valAccuracy: number;
  /** Accuracy of the reported model on the rows it was fitted on. */
  trainAccuracy: number;
  chosenL2: number;
  /** Every λ tried, from the strongest to the weakest. */
  grid: GridPoint[];
  /** The reported model (weights over the normalized embeddings). */
  model: LogisticRegressionModel;
  protocol: LinearProbeProtocol;
}

/**
 * The linear probe: normalize the embeddings, fit logistic regression
 * on `split.train` for every λ of the grid (from the strongest, each fit
 * warm-started from the previous one), choose the λ of best validation
 * accuracy (ties go to the stronger λ), and report the test accuracy of
 * that model (or of a refit, see `refit`).
 *
 * @param embeddings row-major `[N, d]` (any numeric array, or a 2-D
 *   tensor, read once), N = `labels.length`.
 * @param labels N class labels; rows outside the split may carry −1.
 * @param split index sets into the N rows.
 * @param options see {@link LinearProbeEvaluationOptions}.
 * @throws ShapeError when the embeddings are not N × d; ConfigError for
 *   a bad split (out-of-range, unlabelled or empty sets, no validation
 *   rows) or option.
 */
export function linearProbeEvaluation(
  embeddings: ArrayLike<number> | tf.Tensor2D,
  labels: ArrayLike<number>,
  split: EvaluationSplit,
  options: LinearProbeEvaluationOptions = {},
): LinearProbeEvaluation {
  const fn = "linearProbeEvaluation";
  const { values, n, d } = readEmbeddings(fn, embeddings, labels);
  const normalization = options.normalize ?? "l2";
  const validation = options.validation ?? "split";
  const holdoutFraction = options.holdoutFraction ?? 0.1;
  const seed = options.seed ?? 0;
  const refit = options.refit ?? "train";
  const tolerance = options.tolerance ?? 1e-6;
  const maxIterations = options.maxIterations ?? 1000;
  const grid = [...(options.grid ?? DEFAULT_L2_GRID)];
  const pathPatience = options.pathPatience ?? null;
  if (
    pathPatience !== null &&
    !(Number.isInteger(pathPatience) && pathPatience >= 1)
  ) {
    throw new ConfigError(
      `${fn}: pathPatience must be an integer >= 1, got ${pathPatience}`,
    );
  }
  if (!["l2", "standardize", "none"].includes(normalization)) {
    throw new ConfigError(
      `${fn}: normalize must be "l2", "standardize" or "none", got ` +
        `"${normalization}"`,
    );
  }
  if (refit !== "train" && refit !== "train+val") {
    throw new ConfigError(
      `${fn}: refit must be "train" or "train+val", got "${refit}"`,
    );
  }
  if (
    grid.length === 0 ||
    grid.some((l2) => !(l2 >= 0) || !Number.isFinite(l2))
  ) {
    throw new ConfigError(
      `${fn}: grid must hold finite numbers >= 0, got [${grid.join(", ")}]`,
    );
  }

  // the index sets: given, or a seeded holdout carved from train
  let train = checkIndices(fn, "split.train", split.train, labels, n, true);
  const test = checkIndices(fn, "split.test", split.test, labels, n, true);
  let val: Int32Array;
  if (validation === "holdout") {
    if (!(holdoutFraction > 0 && holdoutFraction < 1)) {
      throw new ConfigError(
        `${fn}: holdoutFraction must lie in (0, 1), got ${holdoutFraction}`,
      );
    }
    const size = Math.round(holdoutFraction * train.length);
    if (size < 1 || size >= train.length) {
      throw new ConfigError(
        `${fn}: a holdout of ${holdoutFraction} of ${train.length} ` +
          `training rows leaves an empty set`,
      );
    }
    const shuffled = shuffle(Int32Array.from(train), mulberry32(seed));
    val = shuffled.slice(0, size).sort();
    train = shuffled.slice(size).sort();
  } else if (validation === "split") {
    val = checkIndices(fn, "split.val", split.val ?? [], labels, n, false);
    if (val.length === 0) {
      throw new ConfigError(
        `${fn}: validation "split" needs a non-empty split.val; use ` +
          `validation "holdout" for train/test-only data`,
      );
    }
  } else {
    throw new ConfigError(
      `${fn}: validation must be "split" or "holdout", got "${validation}"`,
    );
  }
  let numClasses = 0;
  for (const set of [train, val, test]) {
    for (const i of set) numClasses = Math.max(numClasses, labels[i] + 1);
  }

  // normalize (column statistics from the fitting rows only)
  const fitRows = refit === "train" ? train : concat(train, val);
  const x = normalizeRows(values, n, d, normalization, fitRows);

  // the regularization path from the strongest λ, warm-started
  const order = grid
    .map((l2, j) => ({ l2, j }))
    .sort((a, b) => b.l2 - a.l2 || a.j - b.j);
  const trainX = gatherRows(x, d, train);
  const trainY = gatherLabels(labels, train);
  const valX = gatherRows(x, d, val);
  const points: GridPoint[] = [];
  let best: { point: GridPoint; model: LogisticRegressionModel } | null = null;
  let previous: LogisticRegressionModel | undefined;
  let sinceBest = 0;
  let risen = false;
  for (const { l2 } of order) {
    if (pathPatience !== null && sinceBest >= pathPatience) break;
    const model = logisticRegression(trainX, train.length, d, trainY, {
      l2,
      numClasses,
      tolerance,
      maxIterations,
      initial: previous,
    });
    previous = model;
    const point: GridPoint = {
      l2,
      valAccuracy: accuracy(
        logisticPredict(model, valX, val.length),
        labels,
        val,
      ),
      iterations: model.iterations,
      converged: model.converged,
    };
    points.push(point);
    if (best === null || point.valAccuracy > best.point.valAccuracy) {
      risen = best !== null;
      best = { point, model };
      sinceBest = 0;
    } else if (risen) {
      sinceBest++;
    }
  }
  if (best === null) throw new Error(`${fn}: unreachable, empty grid`);

  // the reported model: as fitted on train, or refitted on train ∪ val
  let model = best.model;
  if (refit === "train+val") {
    model = logisticRegression(
      gatherRows(x, d, fitRows),
      fitRows.length,
      d,
      gatherLabels(labels, fitRows),
      {
        l2: best.point.l2,
        numClasses,
        tolerance,
        maxIterations,
        initial: best.model,
      },
    );
  }
  const predictFor = (rows: Int32Array) =>
    accuracy(
      logisticPredict(model, gatherRows(x, d, rows), rows.length),
      labels,
      rows,
    );
  return {
    testAccuracy: predictFor(test),
    valAccuracy: best.point.valAccuracy,
    trainAccuracy: predictFor(fitRows),
    chosenL2: best.point.l2,
    grid: points,
    model,
    protocol: {
      kind: "linear-probe",
      classifier: "logistic-lbfgs",
      normalization,
      grid,
      chosenL2: best.point.l2,
      refit,
      tolerance,
      maxIterations,
      pathPatience,
      split: {
        name: options.splitName ?? "given",
        train: train.length,
        val: val.length,
        test: test.length,
        validation,
        ...(validation === "holdout" ? { holdoutFraction } : {}),
      },
      seed,
    },
  };
}

/** Options of {@link knnEvaluation}. */
export interface KnnEvaluationOptions {
  /** Neighbours (default 20). */
  k?: number;
  /** Default `"cosine"`. */
  metric?: KnnMetric;
  /** Default `"temperature"`. */
  weighting?: KnnWeighting;
  /** τ (default 0.07). */
  temperature?: number;
  /** Name of the split for the protocol record (default "given"). */
  splitName?: string;
}

/** What {@link knnEvaluation} returns. */
export interface KnnEvaluation {
  testAccuracy: number;
  protocol: KnnProtocol;
}

/**
 * The kNN protocol: the training rows are the memory, every test row is
 * classified by {@link knnClassifier}; `split.val` is not used. Arguments
 * and errors as for {@link linearProbeEvaluation}.
 */
export function knnEvaluation(
  embeddings: ArrayLike<number> | tf.Tensor2D,
  labels: ArrayLike<number>,
  split: EvaluationSplit,
  options: KnnEvaluationOptions = {},
): KnnEvaluation {
  const fn = "knnEvaluation";
  const { values, n, d } = readEmbeddings(fn, embeddings, labels);
  const train = checkIndices(fn, "split.train", split.train, labels, n, true);
  const test = checkIndices(fn, "split.test", split.test, labels, n, true);
  const k = options.k ?? 20;
  const metric = options.metric ?? "cosine";
  const weighting = options.weighting ?? "temperature";
  const temperature = options.temperature ?? 0.07;
  const result = knnClassifier(
    gatherRows(values, d, train),
    gatherLabels(labels, train),
    gatherRows(values, d, test),
    gatherLabels(labels, test),
    d,
    { k, metric, weighting, temperature },
  );
  return {
    testAccuracy: result.accuracy,
    protocol: {
      kind: "knn",
      k: result.k,
      metric,
      weighting,
      temperature,
      split: {
        name: options.splitName ?? "given",
        train: train.length,
        val: 0,
        test: test.length,
        validation: "none",
      },
    },
  };
}

/**
 * A one-line description of a protocol for table captions and logs, e.g.
 * `linear probe (logistic, L-BFGS), l2-normalized, λ = 1.0e-3 chosen on
 * val from 21 values in [1.0e-6, 1.0e+2], fitted on train; split
 * planetoid-public: train 140 / val 500 / test 1000` or `kNN (k = 20,
 * cosine, temperature τ = 0.07); split mnist: train 60000 / test 10000`.
 */
export function formatProtocol(protocol: EvaluationProtocol): string {
  const s = protocol.split;
  const sizes =
    s.validation === "none"
      ? `train ${s.train} / test ${s.test}`
      : `train ${s.train} / val ${s.val} / test ${s.test}`;
  const holdout =
    s.validation === "holdout"
      ? ` (val held out from train: ${s.holdoutFraction}, seed ` +
        `${protocol.kind === "linear-probe" ? protocol.seed : 0})`
      : "";
  const splitText = `split ${s.name}: ${sizes}${holdout}`;
  if (protocol.kind === "knn") {
    const votes =
      protocol.weighting === "temperature"
        ? `temperature τ = ${protocol.temperature}`
        : protocol.weighting;
    const knn = `kNN (k = ${protocol.k}, ${protocol.metric}, ${votes})`;
    return `${knn}; ${splitText}`;
  }
  const norm = {
    l2: "l2-normalized",
    standardize: "standardized",
    none: "raw",
  }[protocol.normalization];
  const lo = Math.min(...protocol.grid).toExponential(1);
  const hi = Math.max(...protocol.grid).toExponential(1);
  return (
    `linear probe (logistic, L-BFGS), ${norm}, λ = ` +
    `${protocol.chosenL2.toExponential(1)} chosen on val from ` +
    `${protocol.grid.length} values in [${lo}, ${hi}]` +
    (protocol.pathPatience === null || protocol.pathPatience === undefined
      ? ""
      : ` (path stopped after ${protocol.pathPatience} without gain)`) +
    `, fitted on ${protocol.refit}; ${splitText}`
  );
}

/** The embeddings as an array with N = labels.length rows of d values. */
function readEmbeddings(
  fn: string,
  embeddings: ArrayLike<number> | tf.Tensor2D,
  labels: ArrayLike<number>,
): { values: ArrayLike<number>; n: number; d: number } {
  const n = labels.length;
  const values =
    embeddings instanceof tf.Tensor
      ? (embeddings.dataSync() as Float32Array)
      : embeddings;
  const d = n > 0 ? values.length / n : 0;
  if (n < 1 || !Number.isInteger(d) || d < 1) {
    throw new ShapeError(
      `${fn}: expected embeddings of N × d values with N = labels.length ` +
        `= ${n} and d >= 1, got ${values.length} values`,
    );
  }
  if (embeddings instanceof tf.Tensor && embeddings.shape[0] !== n) {
    throw new ShapeError(
      `${fn}: expected embeddings of shape [${n}, d], got ` +
        `[${embeddings.shape}]`,
    );
  }
  return { values, n, d };
}

/** Distinct in-range indices of labelled rows (sorted as given). */
function checkIndices(
  fn: string,
  name: string,
  indices: ArrayLike<number>,
  labels: ArrayLike<number>,
  n: number,
  nonEmpty: boolean,
): Int32Array {
  if (nonEmpty && indices.length === 0) {
    throw new ConfigError(`${fn}: ${name} must not be empty`);
  }
  const seen = new Uint8Array(n);
  const out = new Int32Array(indices.length);
  for (let t = 0; t < indices.length; t++) {
    const i = indices[t];
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new ConfigError(
        `${fn}: ${name} must hold row indices in [0, ${n}), got ${i} at ${t}`,
      );
    }
    if (seen[i]) {
      throw new ConfigError(`${fn}: ${name} repeats row ${i}`);
    }
    seen[i] = 1;
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0) {
      throw new ConfigError(
        `${fn}: ${name} holds row ${i}, whose label is ${y} (expected an ` +
          `integer >= 0)`,
      );
    }
    out[t] = i;
  }
  return out;
}

/**
 * The rows rescaled as `normalize` asks; column statistics for
 * `"standardize"` come from `fitRows` (population variance).
 */
function normalizeRows(
  values: ArrayLike<number>,
  n: number,
  d: number,
  normalize: ProbeNormalization,
  fitRows: Int32Array,
): Float64Array {
  const x = Float64Array.from(values as ArrayLike<number>);
  if (normalize === "l2") {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let a = 0; a < d; a++) s += x[i * d + a] ** 2;
      if (s > 0) {
        const scale = 1 / Math.sqrt(s);
        for (let a = 0; a < d; a++) x[i * d + a] *= scale;
      }
    }
  } else if (normalize === "standardize") {
    const mean = new Float64Array(d);
    const variance = new Float64Array(d);
    for (const i of fitRows) {
      for (let a = 0; a < d; a++) mean[a] += x[i * d + a] / fitRows.length;
    }
    for (const i of fitRows) {
      for (let a = 0; a < d; a++) {
        variance[a] += (x[i * d + a] - mean[a]) ** 2 / fitRows.length;
      }
    }
    for (let a = 0; a < d; a++) {
      const scale = variance[a] > 0 ? 1 / Math.sqrt(variance[a]) : 0;
      for (let i = 0; i < n; i++) {
        x[i * d + a] = (x[i * d + a] - mean[a]) * scale;
      }
    }
  }
  return x;
}

/** Rows `rows` of a row-major `[N, d]` array, as a new float64 array. */
function gatherRows(
  x: ArrayLike<number>,
  d: number,
  rows: Int32Array,
): Float64Array {
  const out = new Float64Array(rows.length * d);
  for (let t = 0; t < rows.length; t++) {
    for (let a = 0; a < d; a++) out[t * d + a] = x[rows[t] * d + a];
  }
  return out;
}

/** The labels of `rows`. */
function gatherLabels(labels: ArrayLike<number>, rows: Int32Array) {
  return Int32Array.from(rows, (i) => labels[i]);
}

/** Fraction of `rows` whose prediction (in row order) is their label. */
function accuracy(
  predictions: Int32Array,
  labels: ArrayLike<number>,
  rows: Int32Array,
): number {
  let correct = 0;
  for (let t = 0; t < rows.length; t++) {
    if (predictions[t] === labels[rows[t]]) correct++;
  }
  return correct / rows.length;
}

/** Two index sets one after the other. */
function concat(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
