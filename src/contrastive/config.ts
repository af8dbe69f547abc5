/**
 * The experiment config of contrastive training (`"task": "contrastive"`):
 * which data, encoder, heads, views, objective, optimizer, tricks and
 * evaluation protocol a run uses, validated by a zod schema with every
 * missing field filled from a documented default. GRACE's published
 * recipe (Zhu et al. 2020, "Deep Graph Contrastive Representation
 * Learning", config.yaml of the authors' code) gives the graph defaults.
 *
 * Errors are `ConfigError`s with one line per problem:
 * `<file>: <JSON path>: <expected>, got <value>`.
 */

import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError } from "../errors.js";
import type { ActivationName } from "../nn/activation.js";
import {
  ACTIVATIONS,
  CONV_KINDS,
  type ConvKind,
  configParseError,
  JK_MODES,
  type JkMode,
  NORMS,
  type NormKind,
} from "../nn/config.js";
import type { InitName } from "../nn/init.js";
import {
  boolean,
  nonNegativeInteger,
  nonNegativeNumber,
  object,
  oneOf,
  positiveInteger,
  positiveNumber,
  publishedFields,
  range,
  rate,
  readConfigJson,
  text,
  unit,
} from "../schema.js";
import type { DiffusionViewOptions, GraphViewSpec } from "./views/graph.js";
import type { ImageAugmentationSpec } from "./views/image.js";

// ---------------------------------------------------------------------------
// vocabularies
// ---------------------------------------------------------------------------

/** Datasets a contrastive config may name: graphs, then image sets. */
export const CONTRASTIVE_DATASETS = [
  "cora",
  "citeseer",
  "pubmed",
  "mnist",
  "optdigits",
] as const;
/** One of {@link CONTRASTIVE_DATASETS}. */
export type ContrastiveDatasetName = (typeof CONTRASTIVE_DATASETS)[number];

/** Whether a dataset is a graph (nodes are the samples). */
export function isGraphDataset(name: ContrastiveDatasetName): boolean {
  return name === "cora" || name === "citeseer" || name === "pubmed";
}

/** Objectives a config may name (those of `objectives.ts`). */
export const CONTRASTIVE_OBJECTIVES = [
  "infonce",
  "grace",
  "spectral",
  "simsiam",
  "byol",
] as const;

// ---------------------------------------------------------------------------
// resolved types (every field present)
// ---------------------------------------------------------------------------

/** Which data, and how graph features are prepared. */
export interface ContrastiveDatasetConfig {
  readonly name: ContrastiveDatasetName;
  /**
   * Graphs: `"row"` divides each node's features by their sum (GRACE's
   * `NormalizeFeatures`; default), `"none"` keeps them raw.
   */
  readonly featureNorm: "row" | "none";
  /** Graphs: keep bag-of-words features sparse (default true). */
  readonly sparseFeatures: boolean;
}

/** A GNN encoder from the model builder (`nn/model.ts`). */
export interface GnnEncoderConfig {
  readonly kind: "gnn";
  /** Convolution of every layer (default "gcn"). */
  readonly conv: ConvKind;
  /** Layers, the output layer included (default 2). */
  readonly layers: number;
  /** Width of the hidden layers (default 2 · output, GRACE's rule). */
  readonly hidden: number;
  /** Width of the embedding h (default 128). */
  readonly output: number;
  /**
   * Activation between layers and after the last one (GRACE applies it
   * after every layer; default "relu").
   */
  readonly activation: ActivationName;
  /** Dropout inside the encoder (default 0: views are the noise). */
  readonly dropout: number;
  /** Attention heads of hidden GAT layers (default 8). */
  readonly heads: number;
  /** PairNorm / ContraNorm after hidden layers (default "none"). */
  readonly norm: NormKind;
  /** Options of the normalization layer (default {}). */
  readonly normOptions: Readonly<Record<string, number | string | boolean>>;
  /** Jumping-knowledge readout over the layers (default "none"). */
  readonly jk: JkMode;
}

/** An MLP encoder (`MLPEncoder`). */
export interface MlpEncoderConfig {
  readonly kind: "mlp";
  /** Hidden widths then the output width, e.g. [512, 512]. */
  readonly dims: readonly number[];
  /** BatchNorm after each layer (default true). */
  readonly batchNorm: boolean;
  readonly activation: ActivationName;
}

/** The small CNN encoder for images (`CNNEncoder`). */
export interface CnnEncoderConfig {
  readonly kind: "cnn";
  /** Filters of each convolution block (default: the encoder's). */
  readonly filters: readonly number[] | null;
  /** Width of the output (default 128). */
  readonly output: number;
}

/** One of the three encoders. */
export type EncoderConfig =
  | GnnEncoderConfig
  | MlpEncoderConfig
  | CnnEncoderConfig;

/** An MLP head: projector or predictor. */
export interface HeadConfig {
  /** Linear layers (default 2). */
  readonly layers: number;
  /** Hidden width (default: the input width). */
  readonly hidden: number | null;
  /** Output width (default: the input width). */
  readonly output: number | null;
  /** Activation of the hidden layers (GRACE: "elu"; default "relu"). */
  readonly activation: ActivationName;
  /** BatchNorm after hidden layers (GRACE: false; default false). */
  readonly batchNorm: boolean;
  /**
   * Weight initialization of its Linear layers: `"kaiming"` (default,
   * PyTorch's `nn.Linear` default, as in GRACE's code) or `"glorot"`
   * (Glorot uniform, zero bias).
   */
  readonly init: InitName;
}

/**
 * One graph view as a config gives it: `graphView`'s spec (GRACE's edge
 * dropping and feature masking rates, `symmetric` dropping per pair or,
 * as GRACE's reference code, per directed edge) with the diffusion view
 * limited to the options a JSON config can name (`diffusionView`: PPR
 * with α 0.2 and the top 64 entries per column by default, or
 * `kernel: "heat"` with `t`).
 */
export type GraphViewConfig = Omit<GraphViewSpec, "diffusion"> & {
  readonly diffusion?: Pick<
    DiffusionViewOptions,
    "kernel" | "alpha" | "t" | "topK" | "normalization"
  >;
};

/** The optimizer, the schedule and the step. */
export interface ContrastiveTrainConfig {
  /** Epochs (default 200, GRACE). */
  readonly epochs: number;
  /** `"adam"` (default), `"adamw"` or `"sgd"` (with momentum). */
  readonly optimizer: "adam" | "adamw" | "sgd";
  /** Learning rate (default 5e-4, GRACE on Cora). */
  readonly lr: number;
  /** Weight decay (default 1e-5, GRACE). */
  readonly weightDecay: number;
  /** Momentum of SGD (default 0.9). */
  readonly momentum: number;
  /** `"constant"` (default) or `"cosine"` decay over all steps. */
  readonly schedule: "constant" | "cosine";
  /** Linear warm-up epochs of the cosine schedule (default 0). */
  readonly warmupEpochs: number;
  /** Final learning rate of the cosine schedule (default 0). */
  readonly minLr: number;
  /**
   * Samples per step; null (default) is full batch: every node of a
   * graph, every image of a set in one step per epoch.
   */
  readonly batchSize: number | null;
  /**
   * `"update"` (default): the gradient as the VJP of −ΔF (message
   * passing); `"loss"`: autodiff of the written-out loss.
   */
  readonly path: "update" | "loss";
  /**
   * Evaluate the loss for the metrics log every this many epochs on the
   * "update" path (default 10; 0 never; the "loss" path always has it).
   */
  readonly lossEvery: number;
  /** BYOL's base EMA momentum (default 0.99). */
  readonly emaMomentum: number;
}

/** Attentive alignment: per-anchor softmax weights. */
export interface AttentionTrickConfig {
  /** Temperature of the softmax over cosines (default 1). */
  readonly temperature: number;
  /** Which detached features the cosines use (default "hidden"). */
  readonly source: "hidden" | "projections";
}

/** Multi-stage alignment: a memory bank over past epochs. */
export interface MultiStageTrickConfig {
  /** r, epochs of features kept per sample (default 1). */
  readonly epochs: number;
  /** Weight of the memory average in the target (default 0.5). */
  readonly mix: number;
  /** Epochs before the memory joins the target (default 1). */
  readonly warmupEpochs: number;
}

/** Extra positive pairs of the augmentation graph. */
export interface RewireTrickConfig {
  /** kNN in input-feature space, diffusion, or Louvain communities. */
  readonly kind: "knn" | "diffusion" | "community";
  /** Neighbours (kNN) or top entries per node (diffusion); default 5. */
  readonly k: number;
  /** Weight of an extra positive edge (default 1). */
  readonly weight: number;
  /** Teleport probability of the PPR diffusion (default 0.15). */
  readonly alpha: number;
  /** Louvain resolution (default 1). */
  readonly resolution: number;
  /** Partners drawn per sample within its community (default 1). */
  readonly partners: number;
}

/** The tricks of the message-passing view; each null when off. */
export interface TricksConfig {
  readonly attention: AttentionTrickConfig | null;
  readonly multiStage: MultiStageTrickConfig | null;
  readonly rewire: RewireTrickConfig | null;
}

/** How the frozen features are evaluated. */
export interface ContrastiveEvalConfig {
  /** Which features: the encoder output h (default) or the projection. */
  readonly features: "encoder" | "projector";
  /** Probe normalization (default "l2"). */
  readonly normalize: "l2" | "standardize" | "none";
  /** Also evaluate every k epochs (default 0: only at the end). */
  readonly every: number;
  /** Neighbours of the kNN classifier, or null for no kNN (default). */
  readonly knn: number | null;
  /**
   * The probe's early end of the λ path (`pathPatience` of
   * `linearProbeEvaluation`): null fits the whole grid (default for
   * graphs), 3 for image sets, whose 9,000-row fits dominate a run.
   */
  readonly probePatience: number | null;
}

/** A published number to compare with. */
export interface PublishedNumber {
  readonly method: string;
  readonly mean: number;
  readonly std: number | null;
  readonly source: string;
}

/** A contrastive experiment, every field resolved. */
export interface ContrastiveConfig {
  readonly task: "contrastive";
  readonly name: string;
  readonly dataset: ContrastiveDatasetConfig;
  readonly encoder: EncoderConfig;
  readonly projector: HeadConfig | null;
  /**
   * The predictor q (default none). SimSiam's "self" targets need one,
   * unless the config sets `"predictor": null` explicitly: SimSiam
   * without a predictor, a setting that collapses.
   */
  readonly predictor: HeadConfig | null;
  /** ℓ2-normalize the features the objective sees (default true). */
  readonly normalize: boolean;
  /** Targets of SimSiam ("self") and BYOL ("ema"); default "none". */
  readonly targets: "none" | "self" | "ema";
  /** Graph views (default GRACE's Cora pair). */
  readonly views: readonly GraphViewConfig[];
  /** Image augmentation of each view (image data; default MNIST's). */
  readonly imageAugmentation: ImageAugmentationSpec | null;
  /** Objective name and temperature (τ default 0.5). */
  readonly objective: {
    readonly name: (typeof CONTRASTIVE_OBJECTIVES)[number];
    readonly temperature: number;
  };
  readonly train: ContrastiveTrainConfig;
  readonly tricks: TricksConfig;
  readonly eval: ContrastiveEvalConfig;
  /** Seeds 0 .. seeds − 1 (default 5). */
  readonly seeds: number;
  readonly published: readonly PublishedNumber[];
}

// ---------------------------------------------------------------------------
// the schema
// ---------------------------------------------------------------------------

const gnnSchema = object({
  kind: z.literal("gnn"),
  conv: oneOf(CONV_KINDS).optional(),
  layers: positiveInteger.optional(),
  hidden: positiveInteger.optional(),
  output: positiveInteger.optional(),
  activation: oneOf(ACTIVATIONS).optional(),
  dropout: rate.optional(),
  heads: positiveInteger.optional(),
  norm: oneOf(NORMS).optional(),
  normOptions: z
    .record(z.string(), z.union([z.number(), z.string(), z.boolean()]), {
      error: "expected an object of options",
    })
    .optional(),
  jk: oneOf(JK_MODES).optional(),
});
const mlpSchema = object({
  kind: z.literal("mlp"),
  dims: z.array(positiveInteger, { error: "expected an array of widths" }),
  batchNorm: boolean.optional(),
  activation: oneOf(ACTIVATIONS).optional(),
});
const cnnSchema = object({
  kind: z.literal("cnn"),
  filters: z.array(positiveInteger).optional(),
  output: positiveInteger.optional(),
});
const encoderSchema = z.discriminatedUnion(
  "kind",
  [gnnSchema, mlpSchema, cnnSchema],
  { error: 'expected an encoder of kind "gnn", "mlp" or "cnn"' },
);

const headSchema = object({
  layers: positiveInteger.optional(),
  hidden: positiveInteger.optional(),
  output: positiveInteger.optional(),
  activation: oneOf(ACTIVATIONS).optional(),
  batchNorm: boolean.optional(),
  init: oneOf(["kaiming", "glorot"]).optional(),
});

const viewSchema = object({
  dropEdge: unit,
  maskFeatures: unit,
  symmetric: boolean.optional(),
  diffusion: object({
    kernel: oneOf(["ppr", "heat"]).optional(),
    alpha: unit.optional(),
    t: positiveNumber.optional(),
    topK: positiveInteger.optional(),
    normalization: oneOf(["sym", "col", "row", "none"]).optional(),
  }).optional(),
});

const imageAugmentationSchema = object({
  crop: object({ scale: range.optional(), ratio: range.optional() })
    .nullable()
    .optional(),
  affine: object({
    degrees: z.union([z.number(), range]).optional(),
    translate: nonNegativeNumber.optional(),
    scale: range.optional(),
  })
    .nullable()
    .optional(),
  noise: object({ std: nonNegativeNumber.optional(), clip: boolean.optional() })
    .nullable()
    .optional(),
  erasing: object({
    p: unit.optional(),
    scale: range.optional(),
    ratio: range.optional(),
    value: z.number().optional(),
  })
    .nullable()
    .optional(),
});

const trainSchema = object({
  epochs: positiveInteger.optional(),
  optimizer: oneOf(["adam", "adamw", "sgd"]).optional(),
  lr: positiveNumber.optional(),
  weightDecay: nonNegativeNumber.optional(),
  momentum: rate.optional(),
  schedule: oneOf(["constant", "cosine"]).optional(),
  warmupEpochs: nonNegativeInteger.optional(),
  minLr: nonNegativeNumber.optional(),
  batchSize: positiveInteger.nullable().optional(),
  path: oneOf(["update", "loss"]).optional(),
  lossEvery: nonNegativeInteger.optional(),
  emaMomentum: rate.optional(),
});

const tricksSchema = object({
  attention: object({
    temperature: positiveNumber.optional(),
    source: oneOf(["hidden", "projections"]).optional(),
  })
    .nullable()
    .optional(),
  multiStage: object({
    epochs: positiveInteger.optional(),
    mix: unit.optional(),
    warmupEpochs: nonNegativeInteger.optional(),
  })
    .nullable()
    .optional(),
  rewire: object({
    kind: oneOf(["knn", "diffusion", "community"]),
    k: positiveInteger.optional(),
    weight: positiveNumber.optional(),
    alpha: z
      .number({ error: "expected a number in (0, 1)" })
      .positive({ error: "expected a number in (0, 1)" })
      .lt(1, { error: "expected a number in (0, 1)" })
      .optional(),
    resolution: positiveNumber.optional(),
    partners: positiveInteger.optional(),
  })
    .nullable()
    .optional(),
});

const evalSchema = object({
  features: oneOf(["encoder", "projector"]).optional(),
  normalize: oneOf(["l2", "standardize", "none"]).optional(),
  every: nonNegativeInteger.optional(),
  knn: positiveInteger.nullable().optional(),
  probePatience: positiveInteger.nullable().optional(),
});

const publishedSchema = object({ method: text, ...publishedFields });

const contrastiveSchema = object({
  task: z.literal("contrastive", { error: 'expected "contrastive"' }),
  name: text.optional(),
  description: text.optional(),
  dataset: object({
    name: oneOf(CONTRASTIVE_DATASETS),
    featureNorm: oneOf(["row", "none"]).optional(),
    sparseFeatures: boolean.optional(),
  }),
  encoder: encoderSchema.optional(),
  projector: headSchema.nullable().optional(),
  predictor: headSchema.nullable().optional(),
  normalize: boolean.optional(),
  targets: oneOf(["none", "self", "ema"]).optional(),
  views: z
    .array(viewSchema, { error: "expected an array of views" })
    .min(1, { error: "expected at least one view" })
    .optional(),
  imageAugmentation: imageAugmentationSchema.nullable().optional(),
  objective: object({
    name: oneOf(CONTRASTIVE_OBJECTIVES),
    temperature: positiveNumber.optional(),
  }).optional(),
  train: trainSchema.optional(),
  tricks: tricksSchema.optional(),
  eval: evalSchema.optional(),
  seeds: positiveInteger.optional(),
  published: z
    .array(publishedSchema, { error: "expected an array" })
    .optional(),
});

/** What the schema accepts: a config with optional fields. */
export type ContrastiveConfigInput = z.input<typeof contrastiveSchema>;

// ---------------------------------------------------------------------------
// defaults
// ---------------------------------------------------------------------------

/** GRACE's two views on Cora (edge drop 0.2 / 0.4, masking 0.3 / 0.4). */
export const GRACE_CORA_VIEWS: readonly GraphViewConfig[] = Object.freeze([
  { dropEdge: 0.2, maskFeatures: 0.3 },
  { dropEdge: 0.4, maskFeatures: 0.4 },
]);

/** The MNIST augmentation of `views/image.ts` as plain data. */
const DEFAULT_IMAGE_AUGMENTATION: ImageAugmentationSpec = {
  affine: { degrees: 15, translate: 0.1 },
  noise: { std: 0.1 },
  erasing: { p: 0.5, scale: [0.02, 0.2] },
};

/** The defaults of every head field but the widths. */
function resolveHead(
  raw: z.output<typeof headSchema> | null | undefined,
  fallback: HeadConfig | null,
): HeadConfig | null {
  if (raw === null) return null;
  if (raw === undefined) return fallback;
  return {
    layers: raw.layers ?? 2,
    hidden: raw.hidden ?? null,
    output: raw.output ?? null,
    activation: raw.activation ?? "relu",
    batchNorm: raw.batchNorm ?? false,
    init: raw.init ?? "kaiming",
  };
}

// ---------------------------------------------------------------------------
// parsing
// ---------------------------------------------------------------------------

/**
 * Validate a parsed JSON value as a contrastive config and fill in the
 * defaults: GRACE's recipe for graphs (2-layer GCN, hidden = 2 · 128,
 * ReLU, projector 128 → 128 → 128 with ELU and no BatchNorm, τ 0.5 —
 * the objective's default, Cora's 0.4 is set in the config file — views
 * {0.2, 0.3} and {0.4, 0.4}, Adam lr 5e-4, weight decay 1e-5, 200
 * epochs, full batch), an MLP 784 → 512 → 512 with a BatchNorm projector
 * and MNIST's augmentation for image sets. `source` names the file in
 * messages (default "config").
 *
 * @throws ConfigError `"<source>: <json path>: <expected>, got <value>"`,
 *   one line per problem, also for cross-field rules (a GNN encoder on
 *   image data, an MLP/CNN on a graph, targets without a predictor,
 *   views on image data).
 */
export function parseContrastiveConfig(
  json: unknown,
  source = "config",
): ContrastiveConfig {
  const result = contrastiveSchema.safeParse(json);
  if (!result.success) {
    throw configParseError(source, result.error.issues, json);
  }
  const raw = result.data;
  const fail = (path: string, message: string): never => {
    throw new ConfigError(`${source}: ${path}: ${message}`);
  };
  const graph = isGraphDataset(raw.dataset.name);

  // the encoder: a GCN for graphs, an MLP for images, unless given
  const e = raw.encoder ?? (graph ? { kind: "gnn" as const } : undefined);
  let encoder: EncoderConfig;
  if (e === undefined || e.kind === "mlp") {
    const dims = e?.dims ?? [512, 512];
    if (dims.length < 1) fail("encoder.dims", "expected at least one width");
    encoder = {
      kind: "mlp",
      dims,
      batchNorm: e?.batchNorm ?? true,
      activation: e?.activation ?? "relu",
    };
  } else if (e.kind === "cnn") {
    encoder = {
      kind: "cnn",
      filters: e.filters ?? null,
      output: e.output ?? 128,
    };
  } else {
    const output = e.output ?? 128;
    encoder = {
      kind: "gnn",
      conv: e.conv ?? "gcn",
      layers: e.layers ?? 2,
      hidden: e.hidden ?? 2 * output,
      output,
      activation: e.activation ?? "relu",
      dropout: e.dropout ?? 0,
      heads: e.heads ?? 8,
      norm: e.norm ?? "none",
      normOptions: e.normOptions ?? {},
      jk: e.jk ?? "none",
    };
    if (encoder.jk !== "none" && encoder.layers < 2) {
      fail(
        "encoder.jk",
        `jumping knowledge needs at least 2 layers, got layers ${encoder.layers}`,
      );
    }
  }
  if (graph && encoder.kind !== "gnn") {
    fail(
      "encoder.kind",
      `a graph dataset needs a "gnn" encoder, got "${encoder.kind}"`,
    );
  }
  if (!graph && encoder.kind === "gnn") {
    fail(
      "encoder.kind",
      `image data needs an "mlp" or "cnn" encoder, got "gnn"`,
    );
  }

  // heads: GRACE's ELU projector for graphs, SimCLR's BatchNorm one else
  const defaultProjector: HeadConfig = graph
    ? {
        layers: 2,
        hidden: null,
        output: null,
        activation: "elu",
        batchNorm: false,
        init: "kaiming",
      }
    : {
        layers: 2,
        hidden: null,
        output: 128,
        activation: "relu",
        batchNorm: true,
        init: "kaiming",
      };
  const projector = resolveHead(raw.projector, defaultProjector);
  const predictor = resolveHead(raw.predictor, null);
  const targets = raw.targets ?? "none";
  const objectiveName = raw.objective?.name ?? (graph ? "grace" : "infonce");
  const needsTargets = objectiveName === "simsiam" || objectiveName === "byol";
  if (needsTargets && targets === "none") {
    fail(
      "targets",
      `objective ${objectiveName} needs targets "self" or "ema", got "none"`,
    );
  }
  // NOTE: SimSiam without its predictor is a known collapsing setting
  // (Chen & He 2021, Table 1), kept for collapse studies: it must be
  // asked for with an explicit `"predictor": null`; an omitted predictor
  // is still an error
  const predictorFree = targets === "self" && raw.predictor === null;
  if (targets !== "none" && predictor === null && !predictorFree) {
    fail(
      "predictor",
      `targets "${targets}" need a predictor (or, for "self", an explicit null), got none`,
    );
  }
  if (!graph && raw.views !== undefined) {
    fail("views", "graph views apply to graph datasets only");
  }
  if (graph && raw.imageAugmentation != null) {
    fail("imageAugmentation", "image augmentation applies to image data only");
  }

  const t = raw.train ?? {};
  const train: ContrastiveTrainConfig = {
    epochs: t.epochs ?? 200,
    optimizer: t.optimizer ?? "adam",
    lr: t.lr ?? 5e-4,
    weightDecay: t.weightDecay ?? 1e-5,
    momentum: t.momentum ?? 0.9,
    schedule: t.schedule ?? "constant",
    warmupEpochs: t.warmupEpochs ?? 0,
    minLr: t.minLr ?? 0,
    batchSize: t.batchSize ?? null,
    path: t.path ?? "update",
    lossEvery: t.lossEvery ?? 10,
    emaMomentum: t.emaMomentum ?? 0.99,
  };
  if (train.warmupEpochs > train.epochs) {
    fail(
      "train.warmupEpochs",
      `expected at most train.epochs = ${train.epochs}, got ${train.warmupEpochs}`,
    );
  }
  if (train.warmupEpochs > 0 && train.schedule !== "cosine") {
    fail("train.warmupEpochs", 'warm-up belongs to the "cosine" schedule');
  }
  if (graph && train.batchSize !== null) {
    fail("train.batchSize", "graph datasets train full batch (null)");
  }

  const tr = raw.tricks ?? {};
  const tricks: TricksConfig = {
    attention:
      tr.attention == null
        ? null
        : {
            temperature: tr.attention.temperature ?? 1,
            source: tr.attention.source ?? "hidden",
          },
    multiStage:
      tr.multiStage == null
        ? null
        : {
            epochs: tr.multiStage.epochs ?? 1,
            mix: tr.multiStage.mix ?? 0.5,
            warmupEpochs: tr.multiStage.warmupEpochs ?? 1,
          },
    rewire:
      tr.rewire == null
        ? null
        : {
            kind: tr.rewire.kind,
            k: tr.rewire.k ?? 5,
            weight: tr.rewire.weight ?? 1,
            alpha: tr.rewire.alpha ?? 0.15,
            resolution: tr.rewire.resolution ?? 1,
            partners: tr.rewire.partners ?? 1,
          },
  };
  if (tricks.rewire?.kind === "diffusion" && !graph) {
    fail("tricks.rewire.kind", '"diffusion" needs a graph dataset');
  }
  if (tricks.attention !== null && needsTargets) {
    fail(
      "tricks.attention",
      `anchor weights apply to InfoNCE and GRACE, not ${objectiveName}`,
    );
  }

  const ev = raw.eval ?? {};
  return {
    task: "contrastive",
    name: raw.name ?? source.replace(/\.json$/, ""),
    dataset: {
      name: raw.dataset.name,
      featureNorm: raw.dataset.featureNorm ?? "row",
      sparseFeatures: raw.dataset.sparseFeatures ?? true,
    },
    encoder,
    projector,
    predictor,
    normalize: raw.normalize ?? true,
    targets,
    views: graph
      ? (raw.views ?? GRACE_CORA_VIEWS)
      : [
          { dropEdge: 0, maskFeatures: 0 },
          { dropEdge: 0, maskFeatures: 0 },
        ],
    imageAugmentation: graph
      ? null
      : ((raw.imageAugmentation as ImageAugmentationSpec | null | undefined) ??
        DEFAULT_IMAGE_AUGMENTATION),
    objective: {
      name: objectiveName,
      temperature: raw.objective?.temperature ?? 0.5,
    },
    train,
    tricks,
    eval: {
      features: ev.features ?? "encoder",
      normalize: ev.normalize ?? "l2",
      every: ev.every ?? 0,
      knn: ev.knn ?? null,
      probePatience:
        ev.probePatience === undefined ? (graph ? null : 3) : ev.probePatience,
    },
    seeds: raw.seeds ?? 5,
    published: (raw.published ?? []).map((p) => ({
      method: p.method,
      mean: p.mean,
      std: p.std ?? null,
      source: p.source,
    })),
  };
}

/**
 * Read and validate a contrastive config file (see
 * {@link parseContrastiveConfig}); messages name the file by its base
 * name.
 *
 * @throws ConfigError when the file cannot be read, is not JSON, or does
 *   not fit the schema.
 */
export function loadContrastiveConfig(path: string): ContrastiveConfig {
  const { file, json } = readConfigJson("loadContrastiveConfig", path);
  return parseContrastiveConfig(json, file);
}

/**
 * The `task` field of the config file at `path`, or undefined when the
 * file cannot be read, is not JSON or has no string task (the loader of
 * that task then reports the problem). Lets `mpcl train` dispatch.
 */
export function readConfigTask(path: string): string | undefined {
  try {
    const json = JSON.parse(readFileSync(path, "utf8")) as { task?: unknown };
    return typeof json?.task === "string" ? json.task : undefined;
  } catch {
    return undefined;
  }
}
