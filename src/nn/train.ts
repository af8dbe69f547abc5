/**
 * Supervised node classification: full-batch training of a
 * {@link GnnModel} on the labelled training nodes of one graph, with the
 * protocol of Kipf & Welling (ICLR 2017) and Veličković et al. (ICLR
 * 2018): row-normalized features, masked softmax cross-entropy on the
 * training split, Adam with L2 weight decay, early stopping on the
 * validation split, and the test accuracy of the weights the stopping
 * rule selected.
 *
 * The library never prints: progress is handed to `onEpoch` as data, and
 * the command line turns it into a progress bar.
 */

import { tf } from "../backend.js";
import { ConfigError, NumericalError, ShapeError } from "../errors.js";
import type { GraphDataset, NodeSplit } from "../graph/datasets/types.js";
import type { Graph } from "../graph/graph.js";
import {
  featureShape,
  type NodeFeatures,
  SparseFeatures,
} from "../mp/linear.js";
import { mulberry32 } from "../random.js";
import type { DatasetConfig, NodeClassificationConfig } from "./config.js";
import { buildModel, type GnnModel } from "./model.js";
import type { Parameter } from "./module.js";
import { createOptimizer, type OptimizerSpec } from "./optim.js";

// ---------------------------------------------------------------------------
// data
// ---------------------------------------------------------------------------

/** A node-classification problem on one graph. */
export interface NodeClassificationData {
  /** The graph (both directions of every undirected edge). */
  readonly graph: Graph;
  /** Node features `[N, F]`, dense or sparse. */
  readonly features: NodeFeatures;
  /** Class of every node in `0 .. numClasses − 1` (−1: unlabelled). */
  readonly labels: Int32Array;
  /** Number of classes C. */
  readonly numClasses: number;
  /** Train / validation / test node ids. */
  readonly split: NodeSplit;
}

/**
 * The training data of a loaded graph dataset, prepared as `options`
 * say: features divided by their row sum (`featureNorm: "row"`, Kipf &
 * Welling's `preprocess_features`; an all-zero row stays zero) or raw,
 * kept as {@link SparseFeatures} (`sparseFeatures: true`) or dense.
 *
 * @throws ConfigError for a dataset without node features.
 */
export function nodeClassificationData(
  dataset: GraphDataset,
  options: Pick<DatasetConfig, "featureNorm" | "sparseFeatures"> = {
    featureNorm: "row",
    sparseFeatures: true,
  },
): NodeClassificationData {
  const { featureCSR, numNodes: n, numFeatures: f } = dataset;
  if (featureCSR === null || f === 0) {
    throw new ConfigError(
      `nodeClassificationData: dataset ${dataset.name} has no node features`,
    );
  }

  // values of the binary CSR: 1, or 1 / (row's count) when row-normalized
  const values = new Float32Array(featureCSR.colIdx.length);
  for (let i = 0; i < n; i++) {
    const start = featureCSR.rowPtr[i];
    const end = featureCSR.rowPtr[i + 1];
    const v = options.featureNorm === "row" ? 1 / (end - start) : 1;
    values.fill(v, start, end);
  }
  const sparse = new SparseFeatures(
    featureCSR.rowPtr,
    featureCSR.colIdx,
    values,
    n,
    f,
  );
  return {
    graph: dataset.graph,
    features: options.sparseFeatures ? sparse : sparse.toDense(),
    labels: dataset.labels,
    numClasses: dataset.numClasses,
    split: dataset.split,
  };
}

// ---------------------------------------------------------------------------
// metrics
// ---------------------------------------------------------------------------

/** Mean cross-entropy and accuracy of some nodes' predictions. */
export interface SplitMetrics {
  /** `−(1/|S|) Σ_{i∈S} log softmax(z_i)[y_i]`, in float64. */
  loss: number;
  /** Fraction of nodes whose arg-max class is their label, in [0, 1]. */
  accuracy: number;
}

/**
 * Cross-entropy and accuracy over `nodes`, from logits `z` `[N, C]`
 * (row-major) computed in float64 with a max-shifted log-sum-exp. Ties in
 * the arg-max go to the lower class. An empty set gives NaN for both.
 */
export function splitMetrics(
  logits: Float32Array,
  numClasses: number,
  labels: Int32Array,
  nodes: Int32Array,
): SplitMetrics {
  let loss = 0;
  let correct = 0;
  const c = numClasses;
  for (let k = 0; k < nodes.length; k++) {
    const i = nodes[k];
    let max = -Infinity;
    let argmax = 0;
    for (let j = 0; j < c; j++) {
      const z = logits[i * c + j];
      if (z > max) {
        max = z;
        argmax = j;
      }
    }
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(logits[i * c + j] - max);
    loss += max + Math.log(sum) - logits[i * c + labels[i]];
    if (argmax === labels[i]) correct++;
  }
  return { loss: loss / nodes.length, accuracy: correct / nodes.length };
}

/**
 * Masked softmax cross-entropy as a differentiable scalar:
 * `L = −Σ_{i,c} T_ic · log softmax(z_i)_c` with `T` `[N, C]` holding
 * `1/|S|` at `(i, y_i)` for i in the training set S, 0 elsewhere (so the
 * loss is the mean over S, as in Kipf & Welling's masked loss). No gather
 * is needed, so the gradient runs on every backend.
 */
export function maskedCrossEntropy(
  logits: tf.Tensor2D,
  targets: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(
    () => tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)))) as tf.Scalar,
  );
}

/** The `[N, C]` target weights of {@link maskedCrossEntropy}. */
export function maskedTargets(
  labels: Int32Array,
  nodes: Int32Array,
  numClasses: number,
): tf.Tensor2D {
  const n = labels.length;
  const out = new Float32Array(n * numClasses);
  for (let k = 0; k < nodes.length; k++) {
    const i = nodes[k];
    out[i * numClasses + labels[i]] += 1 / nodes.length;
  }
  return tf.tensor2d(out, [n, numClasses]);
}

// ---------------------------------------------------------------------------
// the trainer
// ---------------------------------------------------------------------------

/** What {@link trainNodeClassifier} reports after each epoch. */
export interface EpochEvent {
  /** Epoch number, from 1. */
  epoch: number;
  /** Training loss of the training-mode pass (before the update). */
  loss: number;
  /** Training accuracy of that pass (dropout active), in [0, 1]. */
  trainAcc: number;
  /** Validation loss in inference mode (after the update). */
  valLoss: number;
  /** Validation accuracy in inference mode, in [0, 1]. */
  valAcc: number;
}

/** Options of {@link trainNodeClassifier}. */
export interface TrainNodeClassifierOptions {
  /**
   * Seed of the run (default 0): it fixes the initial weights, every
   * dropout mask and every DropEdge draw.
   */
  seed?: number;
  /** Called after every epoch; must not throw. */
  onEpoch?: (event: EpochEvent) => void;
  /**
   * A model to train in place (the caller keeps and disposes it); by
   * default one is built from the config and disposed at the end.
   */
  model?: GnnModel;
}

/** The outcome of {@link trainNodeClassifier}. */
export interface TrainResult {
  /** Test accuracy of the selected weights, in [0, 1]. */
  testAcc: number;
  /** Validation accuracy of the selected weights, in [0, 1]. */
  valAcc: number;
  /** Validation loss of the selected weights. */
  valLoss: number;
  /** Epoch (from 1) whose weights were selected. */
  bestEpoch: number;
  /** Epochs run. */
  epochs: number;
  /** Whether the patience rule stopped the run before `train.epochs`. */
  stoppedEarly: boolean;
  /** Wall-clock seconds of the whole run (data on the device included). */
  seconds: number;
  /** One event per epoch. */
  history: EpochEvent[];
}

/**
 * The parameters with their decay rule: all of them, or with
 * `weightDecayOn: "first"` only those of the first layer (Kipf & Welling
 * regularize the first layer's weights only); a parameter a layer marks
 * `decay: false` is never decayed.
 */
export function decayedParameters(
  parameters: readonly Parameter[],
  on: "all" | "first",
): Parameter[] {
  return parameters.map((p) => ({
    ...p,
    decay:
      p.decay === false
        ? false
        : on === "all" || p.name.startsWith("layers.0."),
  }));
}

/** Whether epoch metrics improve on the best so far. */
interface Best {
  loss: number;
  acc: number;
}

/**
 * Train a node classifier as `config` says and evaluate it on the test
 * split.
 *
 * Each epoch: one training-mode forward pass over the whole graph, the
 * masked cross-entropy of the training nodes, its gradient
 * (`tf.variableGrads`), one optimizer step with weight decay (coupled L2
 * by default, i.e. the gradient of `(λ/2)‖θ‖²`), then an inference pass
 * for the validation loss and accuracy.
 *
 * Stopping (`train.stopOn`, `train.patience`):
 * - `val_loss`: an epoch improves when its validation loss is lower than
 *   every earlier one; its weights are kept.
 * - `val_acc`: when its accuracy is higher, or equal with a lower loss.
 * - `both` (GAT): when the accuracy is at least the best or the loss at
 *   most the best; the weights are kept only when both hold.
 * After `patience` epochs without improvement the run stops (never with
 * patience 0), and the kept weights are loaded back for the test.
 *
 * LIMITATION: training is full-batch: every epoch runs the whole graph
 * (two forward passes and one backward pass), so memory grows with
 * N × width and there is no neighbour sampling for graphs that do not fit.
 * LIMITATION: with `both`, as in the GAT authors' code, the kept weights
 * can be much older than the last improvement: when accuracy and loss
 * never again improve together, the run continues on either one while the
 * weights of that earlier epoch are the ones tested.
 *
 * @throws NumericalError naming the epoch when the loss or a gradient is
 *   NaN or infinite; the model keeps the weights of the last finite
 *   epoch (no update is applied).
 * @throws ShapeError when the data do not fit together.
 */
export function trainNodeClassifier(
  config: NodeClassificationConfig,
  data: NodeClassificationData,
  options: TrainNodeClassifierOptions = {},
): TrainResult {
  const fn = "trainNodeClassifier";
  const start = performance.now();
  const seed = options.seed ?? 0;
  const { graph, features, labels, numClasses, split } = data;
  const [rows, inputDim] = featureShape(features);
  if (rows !== graph.numNodes || labels.length !== graph.numNodes) {
    throw new ShapeError(
      `${fn}: expected ${graph.numNodes} feature rows and labels (one per node), got ${rows} and ${labels.length}`,
    );
  }
  for (const part of ["train", "val", "test"] as const) {
    for (const i of split[part]) {
      if (!(labels[i] >= 0 && labels[i] < numClasses)) {
        throw new ShapeError(
          `${fn}: ${part} node ${i} must have a label in [0, ${numClasses}), got ${labels[i]}`,
        );
      }
    }
  }

  // the model, its optimizer and two independent seeded streams
  const owned = options.model === undefined;
  const model =
    options.model ??
    buildModel(config.model, { inputDim, numClasses, seed: 2 * seed });
  const forwardRandom = mulberry32(2 * seed + 1);
  const t = config.train;
  const parameters = decayedParameters(model.parameters(), t.weightDecayOn);
  const spec: OptimizerSpec =
    t.optimizer === "sgd"
      ? {
          kind: "sgd",
          lr: t.lr,
          weightDecay: t.weightDecay,
          momentum: t.momentum,
        }
      : { kind: t.optimizer, lr: t.lr, weightDecay: t.weightDecay };
  const optimizer = createOptimizer(parameters, spec);
  const variables = parameters.map((p) => p.variable);
  const targets = maskedTargets(labels, split.train, numClasses);

  const history: EpochEvent[] = [];
  let best: Best = { loss: Infinity, acc: -Infinity };
  let snapshot: tf.Tensor[] | null = null;
  let bestEpoch = 0;
  let sinceImprovement = 0;
  let stoppedEarly = false;

  const evaluate = (): Float32Array => {
    const { logits, hidden } = model.forward(features, graph, {
      training: false,
      random: forwardRandom,
    });
    tf.dispose(hidden);
    const out = logits.dataSync() as Float32Array;
    logits.dispose();
    return out;
  };

  try {
    for (let epoch = 1; epoch <= t.epochs; epoch++) {
      // training pass: loss, gradients and the training accuracy
      // NOTE: the hidden outputs are freed only after the backward pass
      let kept: { logits: tf.Tensor2D; hidden: tf.Tensor2D[] } | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forward(features, graph, {
          training: true,
          random: forwardRandom,
        });
        kept = { logits: tf.keep(out.logits), hidden: out.hidden };
        return maskedCrossEntropy(out.logits, targets);
      }, variables);
      const pass = kept as unknown as {
        logits: tf.Tensor2D;
        hidden: tf.Tensor2D[];
      };
      tf.dispose(pass.hidden);
      const loss = value.dataSync()[0];
      const gradNorm = tf.tidy(() =>
        tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))),
      );
      const squared = gradNorm.dataSync()[0];
      gradNorm.dispose();
      value.dispose();
      const trainOut = pass.logits.dataSync() as Float32Array;
      pass.logits.dispose();
      if (!Number.isFinite(loss) || !Number.isFinite(squared)) {
        tf.dispose(grads);
        throw new NumericalError(
          `${fn}: epoch ${epoch}: ${Number.isFinite(loss) ? "gradient" : "loss"} is not finite (loss ${loss}, squared gradient norm ${squared}); the weights of epoch ${epoch - 1} are kept`,
        );
      }
      optimizer.step(grads);
      tf.dispose(grads);

      // inference pass: validation metrics
      const z = evaluate();
      const train = splitMetrics(trainOut, numClasses, labels, split.train);
      const val = splitMetrics(z, numClasses, labels, split.val);
      const event: EpochEvent = {
        epoch,
        loss,
        trainAcc: train.accuracy,
        valLoss: val.loss,
        valAcc: val.accuracy,
      };
      history.push(event);
      options.onEpoch?.(event);

      // early stopping: improvement, snapshot, patience
      const { improved, save } = judge(t.stopOn, best, val);
      if (improved) {
        sinceImprovement = 0;
        if (t.stopOn === "both") {
          best = {
            loss: Math.min(best.loss, val.loss),
            acc: Math.max(best.acc, val.accuracy),
          };
        } else {
          best = { loss: val.loss, acc: val.accuracy };
        }
      } else {
        sinceImprovement++;
      }
      if (save || snapshot === null) {
        if (snapshot !== null) tf.dispose(snapshot);
        snapshot = variables.map((v) => tf.keep(v.clone()));
        bestEpoch = epoch;
      }
      if (t.patience > 0 && sinceImprovement >= t.patience) {
        stoppedEarly = epoch < t.epochs;
        break;
      }
    }

    // the selected weights, then the test
    if (snapshot !== null) {
      const saved: tf.Tensor[] = snapshot;
      variables.forEach((v, i) => {
        v.assign(saved[i]);
      });
    }
    const z = evaluate();
    const val = splitMetrics(z, numClasses, labels, split.val);
    const test = splitMetrics(z, numClasses, labels, split.test);
    return {
      testAcc: test.accuracy,
      valAcc: val.accuracy,
      valLoss: val.loss,
      bestEpoch,
      epochs: history.length,
      stoppedEarly,
      seconds: (performance.now() - start) / 1000,
      history,
    };
  } finally {
    if (snapshot !== null) tf.dispose(snapshot);
    targets.dispose();
    optimizer.dispose();
    if (owned) model.dispose();
  }
}

/**
 * Whether validation metrics improve on `best` under `criterion`, and
 * whether the weights should be kept (see {@link trainNodeClassifier}).
 */
function judge(
  criterion: NodeClassificationConfig["train"]["stopOn"],
  best: Best,
  val: SplitMetrics,
): { improved: boolean; save: boolean } {
  switch (criterion) {
    case "val_loss": {
      const improved = val.loss < best.loss;
      return { improved, save: improved };
    }
    case "val_acc": {
      const improved =
        val.accuracy > best.acc ||
        (val.accuracy === best.acc && val.loss < best.loss);
      return { improved, save: improved };
    }
    case "both": {
      const accOk = val.accuracy >= best.acc;
      const lossOk = val.loss <= best.loss;
      return { improved: accOk || lossOk, save: accOk && lossOk };
    }
  }
}
