/**
 * The contrastive trainer (Wang et al. 2023, "A Message Passing
 * Perspective on Learning Dynamics of Contrastive Learning"; GRACE, Zhu
 * et al. 2020, for graphs; SimCLR, Chen et al. 2020, for images). Each
 * step draws the views of a batch, computes their features, builds the
 * augmentation graph (optionally rewired), asks the objective's update
 * rule for ΔF and pushes −ΔF back through the network as the upstream
 * gradient (`contrastiveGradients`, "update" path; the autodiff "loss"
 * path is selectable), checks the gradient for NaN/Inf, and takes an
 * optimizer step (Adam or SGD, constant or warm-up + cosine schedule).
 * Tricks of the message-passing view are options: attentive alignment,
 * multi-stage alignment (memory bank), rewired augmentation graphs, and
 * PairNorm/ContraNorm/jumping knowledge inside GNN encoders. The frozen
 * encoder is evaluated with the linear probe (and optionally kNN).
 *
 * Reproducibility: initial weights come from the seed; every random
 * draw of epoch e (views, dropout, batch order) comes from a stream
 * seeded by (seed, e). A checkpoint therefore needs no generator state:
 * parameters, optimizer state and memory bank at the end of an epoch
 * resume the run bit for bit.
 *
 * The library never prints: progress goes to `onEpoch` as data, metrics
 * to a JSON-lines file when asked.
 */

import {
  appendFileSync,
  existsSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tf } from "../backend.js";
import { ConfigError, NumericalError, ShapeError } from "../errors.js";
import {
  type EvaluationProtocol,
  type EvaluationSplit,
  knnEvaluation,
  linearProbeEvaluation,
} from "../eval/protocol.js";
import type { GraphDataset, ImageDataset } from "../graph/datasets/types.js";
import type { Graph } from "../graph/graph.js";
import { type NodeFeatures, SparseFeatures } from "../mp/linear.js";
import type { ModelConfig } from "../nn/config.js";
import { buildModel } from "../nn/model.js";
import { type Layer, prefixParameters } from "../nn/module.js";
import {
  createOptimizer,
  type LearningRateSchedule,
  type Optimizer,
} from "../nn/optim.js";
import { nodeClassificationData } from "../nn/train.js";
import { mulberry32, type Random, shuffle } from "../random.js";
import { normalizedFeatureStd } from "../spectral/collapse.js";
import { sampledAugmentationGraph } from "./augmentation.js";
import {
  type ContrastiveCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.js";
import type { ContrastiveConfig, HeadConfig } from "./config.js";
import { CNNEncoder, GNNEncoder, MLPEncoder } from "./encoders.js";
import { byolMomentum, ContrastiveNetwork, type ViewInput } from "./heads.js";
import { type ContrastiveObjective, createObjective } from "./objectives.js";
import { type ContrastiveBatch, contrastiveGradients } from "./step.js";
import { attentiveAlignment } from "./tricks/attention.js";
import { MemoryBank, multiStageObjective } from "./tricks/memory.js";
import {
  augmentationWithExtraPositives,
  extraPositiveGraph,
} from "./tricks/rewire.js";
import { graphView } from "./views/graph.js";
import { imageAugmentation } from "./views/image.js";

// ---------------------------------------------------------------------------
// data
// ---------------------------------------------------------------------------

/** A graph whose nodes are the samples (full-batch training). */
export interface ContrastiveGraphData {
  readonly kind: "graph";
  readonly graph: Graph;
  /** Node features `[N, d]`, dense or sparse. */
  readonly features: NodeFeatures;
  readonly labels: Int32Array;
  readonly numClasses: number;
  /** The split of the linear probe (train / val / test node ids). */
  readonly split: EvaluationSplit;
  /** Name of the split for the protocol record. */
  readonly splitName: string;
}

/** An image set: the training images are the samples. */
export interface ContrastiveImageData {
  readonly kind: "image";
  /** Pixels of every image, training images first, `[N, h · w · c]`. */
  readonly images: Float32Array;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** The first `numTrain` images are trained on (and probe-fitted). */
  readonly numTrain: number;
  readonly labels: Int32Array;
  readonly numClasses: number;
  readonly splitName: string;
}

/** The data of a contrastive run. */
export type ContrastiveData = ContrastiveGraphData | ContrastiveImageData;

/** Factor bringing each image set's pixels into [0, 1]. */
const IMAGE_PIXEL_SCALE: Readonly<Record<string, number>> = Object.freeze({
  mnist: 1,
  optdigits: 1 / 16,
});

/**
 * The data of a loaded dataset as the config prepares it: for a graph,
 * features row-normalized (`featureNorm: "row"`, GRACE's
 * `NormalizeFeatures`) and kept sparse, the public split; for images
 * (pixels brought into [0, 1]: optdigits divided by 16),
 * training then test images, the probe's λ chosen on a seeded 10 %
 * holdout of the training images.
 */
export function contrastiveData(
  config: ContrastiveConfig,
  dataset: GraphDataset | ImageDataset,
): ContrastiveData {
  if (dataset.kind === "graph") {
    const d = nodeClassificationData(dataset, config.dataset);
    return {
      kind: "graph",
      graph: d.graph,
      features: d.features,
      labels: d.labels,
      numClasses: d.numClasses,
      split: d.split,
      splitName: `${dataset.name}-public`,
    };
  }
  const { train, test } = dataset;
  const images = new Float32Array(train.images.length + test.images.length);
  images.set(train.images);
  images.set(test.images, train.images.length);
  // pixels in [0, 1] for every set, so that one augmentation (noise of
  // std 0.1, erasing to 0) means the same on each: optdigits' block
  // counts 0..16 are divided by 16 (MNIST's loader already gives [0, 1])
  const scale = IMAGE_PIXEL_SCALE[dataset.name] ?? 1;
  if (scale !== 1) for (let i = 0; i < images.length; i++) images[i] *= scale;
  const labels = new Int32Array(train.count + test.count);
  labels.set(train.labels);
  labels.set(test.labels, train.count);
  return {
    kind: "image",
    images,
    height: dataset.height,
    width: dataset.width,
    channels: 1,
    numTrain: train.count,
    labels,
    numClasses: Math.max(...labels) + 1,
    splitName: `${dataset.name}-train-test`,
  };
}

// ---------------------------------------------------------------------------
// events and results
// ---------------------------------------------------------------------------

/** What one epoch reports (also one line of the metrics log). */
export interface ContrastiveEpochEvent {
  epoch: number;
  epochs: number;
  /** Optimizer steps taken so far. */
  step: number;
  /** Mean loss over the epoch's steps where computed, else null. */
  loss: number | null;
  /** Mean global gradient norm ‖∂L/∂θ‖ over the epoch's steps. */
  gradNorm: number;
  /** ‖alignment‖ and ‖uniformity‖ of ΔF at the last step (update path). */
  alignment: number | null;
  uniformity: number | null;
  /** Learning rate of the epoch's last step. */
  lr: number;
  /** Seconds of this epoch. */
  seconds: number;
  /** Linear-probe accuracies when evaluated at this epoch. */
  evaluation?: { testAccuracy: number; valAccuracy: number };
}

/** One evaluation of the frozen encoder. */
export interface ContrastiveEvaluation {
  epoch: number;
  /** Linear-probe accuracy on the test rows, in [0, 1]. */
  testAccuracy: number;
  valAccuracy: number;
  chosenL2: number;
  protocol: EvaluationProtocol;
  /** kNN accuracy and protocol, when `eval.knn` is set. */
  knn: { testAccuracy: number; protocol: EvaluationProtocol } | null;
  /**
   * SimSiam's collapse diagnostic (`spectral/collapse.ts`) of the
   * evaluated features of every sample: about 1/√d when spread, about 0
   * when collapsed.
   */
  featureStd: number;
  /** The same of the projections z, or null without a projector. */
  projectionStd: number | null;
}

/** What {@link trainContrastive} returns. */
export interface ContrastiveRunResult {
  seed: number;
  /** The last epoch completed. */
  epoch: number;
  /** Epoch this call started from (0, or the checkpoint's). */
  resumedFrom: number;
  /** Wall-clock seconds of this call. */
  seconds: number;
  /** The epochs this call ran. */
  history: ContrastiveEpochEvent[];
  /** Periodic evaluations (`eval.every`). */
  evaluations: ContrastiveEvaluation[];
  /** The final evaluation, or null when stopped early (`untilEpoch`). */
  final: ContrastiveEvaluation | null;
}

/** Options of {@link trainContrastive}. */
export interface TrainContrastiveOptions {
  /** Seed of the weights and of every epoch's draws (default 0). */
  seed?: number;
  /** Called after every epoch. */
  onEpoch?: (event: ContrastiveEpochEvent) => void;
  /** Directory of the checkpoint (none written without it). */
  checkpointDir?: string;
  /** Checkpoint every this many epochs (default 10), and at the end. */
  checkpointEvery?: number;
  /** Resume from `checkpointDir` when it holds a checkpoint. */
  resume?: boolean;
  /** JSON-lines metrics log (one line per epoch), or none. */
  metricsPath?: string;
  /** Stop after this epoch (checkpointed, no final evaluation). */
  untilEpoch?: number;
  /** Override of `config.train.epochs`. */
  epochs?: number;
}

// ---------------------------------------------------------------------------
// building the network
// ---------------------------------------------------------------------------

/** The per-epoch random stream: mulberry32 of a hash of (seed, epoch). */
export function epochRandom(seed: number, epoch: number): Random {
  let h = Math.imul((seed >>> 0) ^ 0x5bd1e995, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ (epoch >>> 0), 0x85ebca6b);
  h ^= h >>> 13;
  return mulberry32(h >>> 0);
}

/** An MLP head on width `input` (GRACE's projector: ELU, no BN). */
function head(config: HeadConfig, input: number, seed: number): MLPEncoder {
  const hidden = config.hidden ?? input;
  const output = config.output ?? input;
  const dims = [input];
  for (let l = 1; l < config.layers; l++) dims.push(hidden);
  dims.push(output);
  return new MLPEncoder({
    dims,
    batchNorm: config.batchNorm,
    activation: config.activation,
    activateLast: false,
    init: config.init,
    seed,
  });
}

/** The encoder of the config and the width of its output. */
function buildEncoder(
  config: ContrastiveConfig,
  data: ContrastiveData,
  seed: number,
): { encoder: Layer; width: number } {
  const e = config.encoder;
  if (e.kind === "gnn") {
    if (data.kind !== "graph") {
      throw new ConfigError(`trainContrastive: a gnn encoder needs a graph`);
    }
    const model: ModelConfig = {
      conv: e.conv,
      layers: e.layers,
      hidden: e.hidden,
      heads: e.heads,
      outHeads: 1,
      concat: true,
      activation: e.activation,
      dropout: e.dropout,
      inputDropout: e.dropout,
      attentionDropout: 0,
      aggregate: "mean",
      norm: e.norm,
      normOptions: e.normOptions,
      jk: e.jk,
      dropEdge: 0,
      residual: false,
      k: 2,
      alpha: 0.1,
    };
    const d =
      data.features instanceof SparseFeatures
        ? data.features.cols
        : data.features.shape[1];
    const gnn = buildModel(model, { inputDim: d, numClasses: e.output, seed });
    return {
      encoder: new GNNEncoder(gnn, { activation: e.activation }),
      width: e.output,
    };
  }
  if (data.kind !== "image") {
    throw new ConfigError(`trainContrastive: a ${e.kind} encoder needs images`);
  }
  const d = data.height * data.width * data.channels;
  if (e.kind === "mlp") {
    return {
      encoder: new MLPEncoder({
        dims: [d, ...e.dims],
        batchNorm: e.batchNorm,
        activation: e.activation,
        seed,
      }),
      width: e.dims[e.dims.length - 1],
    };
  }
  return {
    encoder: new CNNEncoder({
      height: data.height,
      width: data.width,
      channels: data.channels,
      ...(e.filters === null ? {} : { filters: e.filters }),
      outputDim: e.output,
      seed,
    }),
    width: e.output,
  };
}

/**
 * The network of the config: encoder, projector, predictor, and for
 * "ema" targets a target encoder and projector built from the same seed
 * (the EMA starts as a copy).
 */
export function buildContrastiveNetwork(
  config: ContrastiveConfig,
  data: ContrastiveData,
  seed: number,
): ContrastiveNetwork {
  const { encoder, width } = buildEncoder(config, data, seed);
  const projector =
    config.projector === null ? null : head(config.projector, width, seed + 1);
  const projected =
    config.projector === null ? width : (config.projector.output ?? width);
  const predictor =
    config.predictor === null
      ? null
      : head(config.predictor, projected, seed + 2);
  if (config.targets !== "ema") {
    return new ContrastiveNetwork({
      encoder,
      projector,
      predictor,
      normalize: config.normalize,
      targets: config.targets,
    });
  }
  const target = buildEncoder(config, data, seed);
  return new ContrastiveNetwork({
    encoder,
    projector,
    predictor,
    normalize: config.normalize,
    targets: "ema",
    targetEncoder: target.encoder,
    targetProjector:
      config.projector === null
        ? null
        : head(config.projector, width, seed + 1),
    momentum: config.train.emaMomentum,
  });
}

// ---------------------------------------------------------------------------
// state for checkpoints
// ---------------------------------------------------------------------------

/** Every tensor a checkpoint stores, by a unique name. */
function stateTensors(network: ContrastiveNetwork): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const p of network.parameters()) out.set(`online.${p.name}`, p.variable);
  const layers: Array<[string, Layer | null]> = [
    ["encoder", network.encoder],
    ["projector", network.projector],
    ["predictor", network.predictor],
    ["target.encoder", network.targetEncoder],
    ["target.projector", network.targetProjector],
  ];
  for (const [prefix, layer] of layers) {
    if (layer === null) continue;
    if (prefix.startsWith("target.")) {
      for (const p of prefixParameters(prefix, layer.parameters())) {
        out.set(p.name, p.variable);
      }
    }
    const buffers = (
      layer as {
        buffers?: () => Array<{ name: string; variable: tf.Variable }>;
      }
    ).buffers;
    if (typeof buffers === "function") {
      for (const b of buffers.call(layer)) {
        out.set(`buffers.${prefix}.${b.name}`, b.variable);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// the trainer
// ---------------------------------------------------------------------------

/**
 * Train a contrastive network as `config` says, on `data`, then evaluate
 * its frozen encoder with the linear probe (λ chosen on the validation
 * split, or a seeded holdout for images) and optionally kNN.
 *
 * Per epoch e = 1..E, with the stream `epochRandom(seed, e)`:
 * graphs take one full-batch step (every node a sample, the config's
 * views drawn by `graphView`); image sets take ⌊N_train / B⌋ steps over
 * a shuffled order (views drawn by `imageAugmentation`). A step is
 * `contrastiveGradients` (path "update" or "loss"), a finiteness check
 * of the gradient norm (and of the loss where computed), then the
 * optimizer step (and BYOL's EMA update).
 *
 * @throws NumericalError naming the epoch and step when the loss or the
 *   gradient is NaN/Inf (the last checkpoint on disk is left as it
 *   was); ConfigError for a resume under another seed or config name;
 *   ShapeError for a checkpoint whose tensors do not fit the network.
 */
export function trainContrastive(
  config: ContrastiveConfig,
  data: ContrastiveData,
  options: TrainContrastiveOptions = {},
): ContrastiveRunResult {
  const fn = "trainContrastive";
  const started = performance.now();
  const seed = options.seed ?? 0;
  const epochs = options.epochs ?? config.train.epochs;
  const until = Math.min(epochs, options.untilEpoch ?? epochs);
  const checkpointEvery = options.checkpointEvery ?? 10;
  const t = config.train;
  const views = config.views.length;

  // the samples and the steps of an epoch
  const numSamples =
    data.kind === "graph" ? data.graph.numNodes : data.numTrain;
  const batchSize = Math.min(numSamples, t.batchSize ?? numSamples);
  const stepsPerEpoch = Math.max(1, Math.floor(numSamples / batchSize));

  // network, objective, optimizer
  const network = buildContrastiveNetwork(config, data, seed);
  const baseObjective = createObjective({
    name: config.objective.name,
    ...(config.objective.name === "infonce" || config.objective.name === "grace"
      ? { temperature: config.objective.temperature }
      : {}),
  } as Parameters<typeof createObjective>[0]);
  const schedule: LearningRateSchedule =
    t.schedule === "cosine"
      ? {
          kind: "cosine",
          totalSteps: epochs * stepsPerEpoch,
          warmupSteps: t.warmupEpochs * stepsPerEpoch,
          minLr: t.minLr,
        }
      : { kind: "constant" };
  const optimizer: Optimizer = createOptimizer(network.parameters(), {
    kind: t.optimizer,
    lr: t.lr,
    weightDecay: t.weightDecay,
    schedule,
    ...(t.optimizer === "sgd" ? { momentum: t.momentum } : {}),
  } as Parameters<typeof createOptimizer>[1]);

  // tricks: memory bank, extra positives
  const ms = config.tricks.multiStage;
  let bank: MemoryBank | null = null;
  const rewire = config.tricks.rewire;
  const extra =
    rewire === null
      ? null
      : extraPositiveGraph(
          {
            ...denseInput(data),
            graph: data.kind === "graph" ? data.graph : undefined,
          },
          rewire,
          mulberry32(seed + 0x51ed),
        );
  const augmentCache = new Map<number, Graph>();
  const augmentationOf = (samples: Int32Array): Graph => {
    if (extra !== null) {
      return augmentationWithExtraPositives(
        views,
        samples,
        extra,
        rewire?.weight,
      );
    }
    let g = augmentCache.get(samples.length);
    if (g === undefined) {
      g = sampledAugmentationGraph({ batchSize: samples.length, views }).graph;
      augmentCache.set(samples.length, g);
    }
    return g;
  };
  const augmentImages =
    data.kind === "image" && config.imageAugmentation !== null
      ? imageAugmentation(config.imageAugmentation, {
          height: data.height,
          width: data.width,
          channels: data.channels,
        })
      : null;

  // resume
  let epoch0 = 0;
  const tensors = stateTensors(network);
  try {
    if (options.resume === true && options.checkpointDir !== undefined) {
      const ckpt = loadCheckpoint(options.checkpointDir);
      if (ckpt !== null) {
        if (ckpt.seed !== seed || ckpt.name !== config.name) {
          throw new ConfigError(
            `${fn}: the checkpoint in ${options.checkpointDir} is of ` +
              `${ckpt.name} seed ${ckpt.seed}, not ${config.name} seed ${seed}`,
          );
        }
        for (const [name, variable] of tensors) {
          const saved = ckpt.tensors[name];
          if (saved === undefined || saved.values.length !== variable.size) {
            throw new ShapeError(
              `${fn}: checkpoint tensor '${name}' must hold ` +
                `${variable.size} values, got ${saved?.values.length ?? "none"}`,
            );
          }
          tf.tidy(() =>
            variable.assign(tf.tensor(saved.values, variable.shape)),
          );
        }
        optimizer.loadState(ckpt.optimizer);
        if (ckpt.memory !== null && ms !== null) {
          bank = new MemoryBank(
            ckpt.memory.numSamples,
            ckpt.memory.dim,
            ms.epochs,
          );
          bank.load(ckpt.memory);
        }
        epoch0 = ckpt.epoch;
      }
    }
    if (options.metricsPath !== undefined) {
      truncateMetrics(options.metricsPath, epoch0);
    }

    const save = (epoch: number) => {
      if (options.checkpointDir === undefined) return;
      const out: ContrastiveCheckpoint["tensors"] = {};
      for (const [name, variable] of tensors) {
        out[name] = {
          shape: [...variable.shape],
          values: new Float32Array(variable.dataSync() as Float32Array),
        };
      }
      saveCheckpoint(options.checkpointDir, {
        epoch,
        seed,
        name: config.name,
        tensors: out,
        optimizer: optimizer.state(),
        memory: bank === null ? null : bank.state(),
      });
    };

    const history: ContrastiveEpochEvent[] = [];
    const evaluations: ContrastiveEvaluation[] = [];
    for (let epoch = epoch0 + 1; epoch <= until; epoch++) {
      const epochStart = performance.now();
      const random = epochRandom(seed, epoch);
      const order =
        data.kind === "graph" ||
        (stepsPerEpoch === 1 && batchSize === numSamples)
          ? null
          : shuffle(
              Int32Array.from({ length: numSamples }, (_, i) => i),
              random,
            );
      let lossSum = 0;
      let lossCount = 0;
      let gradSum = 0;
      let norms: { alignment: number; uniformity: number } | null = null;
      let lr = optimizer.learningRate;

      for (let s = 0; s < stepsPerEpoch; s++) {
        const step = optimizer.steps + 1;
        const samples =
          order === null
            ? identity(numSamples)
            : order.slice(s * batchSize, (s + 1) * batchSize).sort();
        const batchViews = drawViews(
          config,
          data,
          samples,
          augmentImages,
          random,
        );
        const augmentation = augmentationOf(samples);
        const batch: ContrastiveBatch = { views: batchViews, augmentation };
        if (config.tricks.attention !== null) {
          batch.anchorWeights = attentiveAlignment(
            augmentation,
            config.tricks.attention,
          );
        }

        // multi-stage alignment: the memory's mean as a constant target;
        // NOTE: a sample not drawn yet (batches drop N mod B samples per
        // epoch) has no memory, so its rows keep the base target (μ_i = 0)
        let memoryTarget: tf.Tensor2D | null = null;
        let objective: ContrastiveObjective = baseObjective;
        if (ms !== null && bank !== null && epoch > ms.warmupEpochs) {
          const mean = bank.mean(samples);
          const k = bank.dim;
          const b = samples.length;
          const tiled = new Float32Array(views * b * k);
          const rowMix = new Float32Array(views * b);
          for (let v = 0; v < views; v++) {
            tiled.set(mean, v * mean.length);
            for (let p = 0; p < b; p++) {
              rowMix[v * b + p] = bank.entries(samples[p]) > 0 ? ms.mix : 0;
            }
          }
          memoryTarget = tf.tensor2d(tiled, [views * b, k]);
          objective = multiStageObjective(baseObjective, memoryTarget, {
            mix: bank.has(samples) ? ms.mix : rowMix,
            temperature: config.objective.temperature,
          });
        }

        const computeLoss =
          t.path === "loss" || (t.lossEvery > 0 && epoch % t.lossEvery === 0);
        let result: ReturnType<typeof contrastiveGradients> | null = null;
        try {
          result = contrastiveGradients(network, batch, objective, {
            path: t.path,
            random,
            computeLoss,
            returnOutputs: ms !== null,
          });

          // NaN/Inf: stop before the step, the last checkpoint intact
          const gradNorm = globalNorm([...result.gradients.values()]);
          if (!Number.isFinite(gradNorm)) {
            throw new NumericalError(
              `${fn}: epoch ${epoch}, step ${step}: the gradient norm is ${gradNorm}`,
            );
          }
          if (result.loss !== null && !Number.isFinite(result.loss)) {
            throw new NumericalError(
              `${fn}: epoch ${epoch}, step ${step}: the loss is ${result.loss}`,
            );
          }
          lr = optimizer.learningRate;
          optimizer.step(result.gradients);
          if (network.ema !== null) {
            const total = epochs * stepsPerEpoch;
            network.ema.update(
              byolMomentum(t.emaMomentum, Math.min(step, total), total),
            );
          }
          gradSum += gradNorm;
          if (result.loss !== null) {
            lossSum += result.loss;
            lossCount++;
          }
          norms = result.updateNorms;

          // the memory bank: each sample's features averaged over views
          if (ms !== null && result.outputs !== null) {
            const f = result.outputs.features;
            const k = f.shape[1];
            if (bank === null) bank = new MemoryBank(numSamples, k, ms.epochs);
            bank.push(
              samples,
              viewMean(f.dataSync() as Float32Array, views, samples.length, k),
            );
          }
        } finally {
          if (result !== null) {
            tf.dispose([...result.gradients.values()]);
            const o = result.outputs;
            if (o !== null) {
              tf.dispose([
                o.features,
                o.hidden,
                o.projections,
                o.targets ?? [],
              ]);
            }
          }
          memoryTarget?.dispose();
          for (const v of batchViews) {
            if (v.x instanceof tf.Tensor) v.x.dispose();
          }
        }
      }

      // the epoch's record
      const event: ContrastiveEpochEvent = {
        epoch,
        epochs,
        step: optimizer.steps,
        loss: lossCount > 0 ? lossSum / lossCount : null,
        gradNorm: gradSum / stepsPerEpoch,
        alignment: norms?.alignment ?? null,
        uniformity: norms?.uniformity ?? null,
        lr,
        seconds: (performance.now() - epochStart) / 1000,
      };
      const every = config.eval.every;
      if (every > 0 && epoch % every === 0 && epoch < epochs) {
        const ev = evaluateNetwork(config, network, data, epoch, seed);
        evaluations.push(ev);
        event.evaluation = {
          testAccuracy: ev.testAccuracy,
          valAccuracy: ev.valAccuracy,
        };
      }
      history.push(event);
      if (options.metricsPath !== undefined) {
        appendFileSync(options.metricsPath, `${JSON.stringify(event)}\n`);
      }
      options.onEpoch?.(event);
      if (epoch % checkpointEvery === 0 || epoch === until) save(epoch);
    }

    const last = Math.max(epoch0, until);
    const final =
      last === epochs
        ? evaluateNetwork(config, network, data, last, seed)
        : null;
    return {
      seed,
      epoch: last,
      resumedFrom: epoch0,
      seconds: (performance.now() - started) / 1000,
      history,
      evaluations,
      final,
    };
  } finally {
    optimizer.dispose();
    network.dispose();
  }
}

/** 0 … n − 1. */
function identity(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** The config's views of the batch `samples`. */
function drawViews(
  config: ContrastiveConfig,
  data: ContrastiveData,
  samples: Int32Array,
  augment: ((images: Float32Array, random: Random) => Float32Array) | null,
  random: Random,
): ViewInput[] {
  if (data.kind === "graph") {
    return config.views.map((spec) => {
      const v = graphView(data.graph, data.features, spec, random);
      return { x: v.x, graph: v.graph };
    });
  }
  const d = data.height * data.width * data.channels;
  const batch = new Float32Array(samples.length * d);
  for (let p = 0; p < samples.length; p++) {
    batch.set(
      data.images.subarray(samples[p] * d, (samples[p] + 1) * d),
      p * d,
    );
  }
  return config.views.map(() => {
    const x = augment === null ? batch : augment(batch, random);
    return { x: tf.tensor2d(x, [samples.length, d]) };
  });
}

/** The mean over the m views of each sample's row, `[B, k]`. */
function viewMean(
  f: Float32Array,
  views: number,
  b: number,
  k: number,
): Float32Array {
  const out = new Float32Array(b * k);
  for (let v = 0; v < views; v++) {
    for (let i = 0; i < b * k; i++) out[i] += f[v * b * k + i] / views;
  }
  return out;
}

/** √Σ‖g‖² over the gradients (NaN or Inf when any entry is). */
function globalNorm(gradients: tf.Tensor[]): number {
  if (gradients.length === 0) return 0;
  return tf.tidy(
    () =>
      tf
        .sqrt(tf.addN(gradients.map((g) => tf.sum(tf.square(g)))))
        .dataSync()[0],
  );
}

/** The samples' input features as a dense N × d array (for kNN pairs). */
function denseInput(data: ContrastiveData): {
  features: Float32Array;
  numSamples: number;
  dim: number;
} {
  if (data.kind === "image") {
    const dim = data.height * data.width * data.channels;
    return {
      features: data.images.subarray(0, data.numTrain * dim),
      numSamples: data.numTrain,
      dim,
    };
  }
  const x = data.features;
  if (x instanceof SparseFeatures) {
    const out = new Float32Array(x.rows * x.cols);
    for (let i = 0; i < x.rows; i++) {
      for (let e = x.rowPtr[i]; e < x.rowPtr[i + 1]; e++) {
        out[i * x.cols + x.colIdx[e]] += x.values[e];
      }
    }
    return { features: out, numSamples: x.rows, dim: x.cols };
  }
  return {
    features: new Float32Array(x.dataSync() as Float32Array),
    numSamples: x.shape[0],
    dim: x.shape[1],
  };
}

/** Keep the metrics lines of epochs ≤ `epoch` (all gone for 0). */
function truncateMetrics(path: string, epoch: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .filter((line) => {
      try {
        return (JSON.parse(line) as { epoch: number }).epoch <= epoch;
      } catch {
        return false;
      }
    });
  writeFileSync(path, kept.length === 0 ? "" : `${kept.join("\n")}\n`);
}

/** Rows per chunk when embedding image sets. */
const EMBED_CHUNK = 4096;

/**
 * The frozen features of every sample (encoder output h, or the
 * projection), in inference mode, as a float32 array `[N, k]`.
 */
export function embed(
  config: ContrastiveConfig,
  network: ContrastiveNetwork,
  data: ContrastiveData,
): { values: Float32Array; dim: number } {
  const random = mulberry32(0);
  const run = (x: NodeFeatures, graph: Graph | undefined, rows: number) =>
    tf.tidy(() => {
      const context = {
        graph: graph ?? edgelessGraph(rows),
        training: false,
        random,
      };
      const h = network.encoder.apply(x as tf.Tensor2D, context);
      return config.eval.features === "projector" && network.projector !== null
        ? network.projector.apply(h, context)
        : h;
    });
  if (data.kind === "graph") {
    const h = run(data.features, data.graph, data.graph.numNodes);
    const values = new Float32Array(h.dataSync() as Float32Array);
    const dim = h.shape[1];
    h.dispose();
    return { values, dim };
  }
  const d = data.height * data.width * data.channels;
  const n = data.labels.length;
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let r0 = 0; r0 < n; r0 += EMBED_CHUNK) {
    const rows = Math.min(n, r0 + EMBED_CHUNK) - r0;
    const x = tf.tensor2d(data.images.subarray(r0 * d, (r0 + rows) * d), [
      rows,
      d,
    ]);
    const h = run(x, undefined, rows);
    dim = h.shape[1];
    parts.push(new Float32Array(h.dataSync() as Float32Array));
    tf.dispose([x, h]);
  }
  const values = new Float32Array(n * dim);
  let offset = 0;
  for (const p of parts) {
    values.set(p, offset);
    offset += p.length;
  }
  return { values, dim };
}

const edgelessGraphs = new Map<number, Graph>();

/** A graph over `n` nodes without edges (context of non-graph encoders). */
function edgelessGraph(n: number): Graph {
  let g = edgelessGraphs.get(n);
  if (g === undefined) {
    g = sampledAugmentationGraph({ batchSize: n, views: 1 }).graph;
    edgelessGraphs.set(n, g);
  }
  return g;
}

/** `normalizedFeatureStd` of `[N, dim]` row-major features. */
function collapseStd(values: Float32Array, dim: number): number {
  const rows = values.length / dim;
  return normalizedFeatureStd({ rows, cols: dim, data: values }).std;
}

/**
 * The linear probe (and kNN) on the frozen features: λ chosen on the
 * validation split (graphs) or a seeded 10 % holdout of the training
 * images (image sets).
 */
export function evaluateNetwork(
  config: ContrastiveConfig,
  network: ContrastiveNetwork,
  data: ContrastiveData,
  epoch: number,
  seed: number,
): ContrastiveEvaluation {
  const { values, dim } = embed(config, network, data);
  const split: EvaluationSplit =
    data.kind === "graph"
      ? data.split
      : {
          train: identity(data.numTrain),
          test: Int32Array.from(
            { length: data.labels.length - data.numTrain },
            (_, i) => data.numTrain + i,
          ),
        };
  const probe = linearProbeEvaluation(values, data.labels, split, {
    normalize: config.eval.normalize,
    validation: data.kind === "graph" ? "split" : "holdout",
    pathPatience: config.eval.probePatience ?? undefined,
    seed,
    splitName: data.splitName,
  });
  const knn =
    config.eval.knn === null
      ? null
      : knnEvaluation(values, data.labels, split, {
          k: config.eval.knn,
          splitName: data.splitName,
        });

  // the collapse diagnostic, of the projections too when they exist
  let projectionStd: number | null = null;
  if (network.projector !== null) {
    const projected =
      config.eval.features === "projector"
        ? { values, dim }
        : embed(
            { ...config, eval: { ...config.eval, features: "projector" } },
            network,
            data,
          );
    projectionStd = collapseStd(projected.values, projected.dim);
  }
  return {
    epoch,
    testAccuracy: probe.testAccuracy,
    valAccuracy: probe.valAccuracy,
    chosenL2: probe.chosenL2,
    protocol: probe.protocol,
    knn:
      knn === null
        ? null
        : { testAccuracy: knn.testAccuracy, protocol: knn.protocol },
    featureStd: collapseStd(values, dim),
    projectionStd,
  };
}
