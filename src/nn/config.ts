/**
 * Experiment configurations: the JSON files of `experiments/configs/`,
 * their schema (zod), and the defaults that fill every field a file leaves
 * out, taken from the paper of each convolution:
 *
 * - GCN: Kipf & Welling, "Semi-Supervised Classification with Graph
 *   Convolutional Networks", ICLR 2017 (2 layers, 16 hidden, ReLU,
 *   dropout 0.5, Adam lr 0.01, L2 5e-4 on the first layer, 200 epochs).
 * - GAT: Veličković et al., "Graph Attention Networks", ICLR 2018
 *   (8 heads × 8 hidden, ELU, dropout 0.6 on inputs and attention, one
 *   output head — 8 averaged on PubMed —, lr 0.005, L2 5e-4, patience
 *   100 on validation loss and accuracy).
 * - GATv2: Brody, Alon & Yahav, ICLR 2022 (GAT's setup).
 * - GraphSAGE: Hamilton, Ying & Leskovec, NeurIPS 2017 (mean aggregator).
 * - GIN: Xu et al., "How Powerful are Graph Neural Networks?", ICLR 2019.
 * - SGC: Wu et al., "Simplifying Graph Convolutional Networks", ICML 2019
 *   (K = 2, one linear layer, lr 0.2, no dropout).
 * - APPNP: Klicpera, Bojchevski & Günnemann, "Predict then Propagate",
 *   ICLR 2019 (64 hidden, K = 10, α = 0.1, dropout 0.5, L2 5e-3).
 *
 * A config names its task. Only `"node-classification"` exists here; the
 * schema is a union on `task` so that other tasks add their own branch.
 * Errors are `ConfigError`s that name the file and the JSON path of the
 * bad field: `cora-gat.json: model.heads: expected a positive integer,
 * got -1`.
 */

import { z } from "zod";
import { ConfigError } from "../errors.js";
import {
  boolean,
  nonNegativeInteger,
  nonNegativeNumber,
  object,
  oneOf,
  positiveInteger,
  positiveNumber,
  probability,
  publishedFields,
  rate,
  readConfigJson,
  text,
} from "../schema.js";
import { ACTIVATION_NAMES, type ActivationName } from "./activation.js";

// ---------------------------------------------------------------------------
// vocabularies
// ---------------------------------------------------------------------------

/** Convolutions a node-classification model can stack. */
export const CONV_KINDS = [
  "gcn",
  "sage",
  "gat",
  "gatv2",
  "gin",
  "sgc",
  "appnp",
  "mlp",
] as const;
/** One of {@link CONV_KINDS}. */
export type ConvKind = (typeof CONV_KINDS)[number];

/** Activations between layers (those of `activation.ts`). */
export const ACTIVATIONS = ACTIVATION_NAMES as readonly [
  ActivationName,
  ...ActivationName[],
];

/** Normalizations applied after each hidden layer. */
export const NORMS = ["none", "pairnorm", "contranorm"] as const;
/** One of {@link NORMS}. */
export type NormKind = (typeof NORMS)[number];

/** Jumping-knowledge readouts over the hidden layers. */
export const JK_MODES = ["none", "cat", "max", "attention"] as const;
/** One of {@link JK_MODES}. */
export type JkMode = (typeof JK_MODES)[number];

/** Graph datasets a node-classification config may name. */
export const NODE_DATASETS = ["cora", "citeseer", "pubmed", "karate"] as const;
/** One of {@link NODE_DATASETS}. */
export type NodeDatasetName = (typeof NODE_DATASETS)[number];

/** Early-stopping criteria. */
export const STOP_CRITERIA = ["val_loss", "val_acc", "both"] as const;
/** One of {@link STOP_CRITERIA}. */
export type StopCriterion = (typeof STOP_CRITERIA)[number];

// ---------------------------------------------------------------------------
// resolved configuration types (every field present)
// ---------------------------------------------------------------------------

/** Which dataset, and how its features are prepared. */
export interface DatasetConfig {
  /** Dataset name (see {@link NODE_DATASETS}). */
  readonly name: NodeDatasetName;
  /**
   * `"row"` divides each node's features by their sum, as Kipf & Welling
   * and Veličković et al. do (default); `"none"` keeps the raw values.
   */
  readonly featureNorm: "row" | "none";
  /** Keep bag-of-words features sparse (CSR) in the first layer (default true). */
  readonly sparseFeatures: boolean;
}

/** The model: a stack of convolutions and its readout. */
export interface ModelConfig {
  /** The convolution of every layer. */
  readonly conv: ConvKind;
  /**
   * Number of layers, the output layer included (default 2; SGC 1, where
   * it counts the linear classifier after K propagation steps). For
   * APPNP it counts the layers of the MLP before propagation.
   */
  readonly layers: number;
  /** Width of hidden layers (per head for GAT). GCN 16, GAT 8, APPNP 64. */
  readonly hidden: number;
  /** Attention heads of hidden GAT layers (default 8). */
  readonly heads: number;
  /** Attention heads of the output GAT layer (default 1; PubMed 8). */
  readonly outHeads: number;
  /** Concatenate the heads of hidden GAT layers (default true). */
  readonly concat: boolean;
  /** Activation between layers (GCN relu, GAT elu). */
  readonly activation: ActivationName;
  /**
   * Dropout rate on the input of every layer after the first
   * (GCN 0.5, GAT 0.6, SGC 0).
   */
  readonly dropout: number;
  /** Dropout on the input features of the first layer (default: dropout). */
  readonly inputDropout: number;
  /** Dropout on attention coefficients (GAT 0.6, else 0). */
  readonly attentionDropout: number;
  /** GraphSAGE's neighbour aggregator (default "mean"). */
  readonly aggregate: "mean" | "max" | "sum";
  /** Normalization after each hidden layer (default "none"). */
  readonly norm: NormKind;
  /** Options handed to the normalization layer (default {}). */
  readonly normOptions: Readonly<Record<string, number | string | boolean>>;
  /** Jumping-knowledge readout over hidden layers (default "none"). */
  readonly jk: JkMode;
  /** DropEdge rate per training forward pass (default 0). */
  readonly dropEdge: number;
  /** Add each hidden layer's input to its output when widths agree (default false). */
  readonly residual: boolean;
  /** Propagation steps K of SGC (2) and APPNP (10). */
  readonly k: number;
  /** Teleport probability α of APPNP (default 0.1). */
  readonly alpha: number;
}

/** The optimizer and the stopping rule. */
export interface TrainConfig {
  /** Largest number of epochs (full-batch steps). GCN 200, GAT 1000. */
  readonly epochs: number;
  /** Learning rate (GCN 0.01, GAT 0.005, SGC 0.2). */
  readonly lr: number;
  /** Weight-decay (L2) coefficient λ (default 5e-4). */
  readonly weightDecay: number;
  /**
   * Which parameters decay: `"all"` (GAT) or `"first"`, the first layer
   * only, as in Kipf & Welling's code (GCN).
   */
  readonly weightDecayOn: "all" | "first";
  /**
   * Epochs without improvement of the criterion before stopping (GAT 100;
   * GCN 100, longer than Kipf's window of 10: see {@link MODEL_DEFAULTS}).
   * 0 switches early stopping off; the best weights are kept either way.
   */
  readonly patience: number;
  /**
   * What counts as an improvement: lower validation loss, higher
   * validation accuracy, or (GAT) either one, with the weights saved only
   * when both are at least as good as their best so far.
   */
  readonly stopOn: StopCriterion;
  /** `"adam"` (default), `"adamw"` or `"sgd"`. */
  readonly optimizer: "adam" | "adamw" | "sgd";
  /** Momentum of SGD (default 0.9; ignored by Adam). */
  readonly momentum: number;
}

/** A published result to compare with. */
export interface PublishedResult {
  /** Mean test accuracy in percent. */
  readonly mean: number;
  /** Standard deviation in percent, when the paper gives one. */
  readonly std: number | null;
  /** Where the number comes from (paper, table). */
  readonly source: string;
}

/** A supervised node-classification experiment, every field resolved. */
export interface NodeClassificationConfig {
  readonly task: "node-classification";
  /** Name of the experiment (default: the file name without `.json`). */
  readonly name: string;
  readonly dataset: DatasetConfig;
  readonly model: ModelConfig;
  readonly train: TrainConfig;
  /** Number of seeds to run, 0 .. seeds − 1 (default 10). */
  readonly seeds: number;
  /** The paper's number, or null. */
  readonly published: PublishedResult | null;
}

/** Any experiment config (more tasks will join this union). */
export type ExperimentConfig = NodeClassificationConfig;

// ---------------------------------------------------------------------------
// defaults from the papers
// ---------------------------------------------------------------------------

type ModelDefaults = Omit<ModelConfig, "conv" | "inputDropout">;
type TrainDefaults = TrainConfig;

const BASE_MODEL: ModelDefaults = {
  layers: 2,
  hidden: 16,
  heads: 8,
  outHeads: 1,
  concat: true,
  activation: "relu",
  dropout: 0.5,
  attentionDropout: 0,
  aggregate: "mean",
  norm: "none",
  normOptions: {},
  jk: "none",
  dropEdge: 0,
  residual: false,
  k: 2,
  alpha: 0.1,
};

const BASE_TRAIN: TrainDefaults = {
  epochs: 200,
  lr: 0.01,
  weightDecay: 5e-4,
  weightDecayOn: "all",
  patience: 100,
  stopOn: "val_loss",
  optimizer: "adam",
  momentum: 0.9,
};

const GAT_MODEL: Partial<ModelDefaults> = {
  hidden: 8,
  heads: 8,
  outHeads: 1,
  activation: "elu",
  dropout: 0.6,
  attentionDropout: 0.6,
};
const GAT_TRAIN: Partial<TrainDefaults> = {
  epochs: 1000,
  lr: 0.005,
  patience: 100,
  stopOn: "both",
};

/**
 * Paper defaults per convolution, merged over a common base (2 layers,
 * 16 hidden, ReLU, dropout 0.5, Adam lr 0.01, L2 5e-4 on all weights,
 * 200 epochs, patience 100 on validation loss).
 *
 * NOTE: every convolution has a bias, initialised at zero; Kipf &
 * Welling's GCN code has none by default. The GCN results of
 * `experiments/results/planetoid-supervised.md` are with the bias.
 *
 * NOTE: GCN stops with a patience of 100 on the validation loss and
 * keeps the best weights, rather than Kipf's rule (stop once the loss
 * exceeds the mean of the previous 10 epochs, keep the last weights):
 * within 200 epochs both select nearly the same model, and the patience
 * rule does not stop early on a noisy epoch.
 */
export const MODEL_DEFAULTS: Readonly<
  Record<
    ConvKind,
    { model: Partial<ModelDefaults>; train: Partial<TrainDefaults> }
  >
> = {
  gcn: { model: {}, train: { weightDecayOn: "first" } },
  sage: { model: { aggregate: "mean" }, train: {} },
  gat: { model: GAT_MODEL, train: GAT_TRAIN },
  gatv2: { model: GAT_MODEL, train: GAT_TRAIN },
  gin: { model: {}, train: {} },
  sgc: {
    model: { layers: 1, k: 2, dropout: 0 },
    train: { lr: 0.2, weightDecay: 5e-5, epochs: 100 },
  },
  appnp: {
    model: { hidden: 64, k: 10, alpha: 0.1 },
    train: { weightDecay: 5e-3, epochs: 1000 },
  },
  mlp: { model: {}, train: {} },
};

/**
 * Dataset-specific departures from the paper defaults: GAT on PubMed uses
 * 8 averaged output heads, lr 0.01 and L2 1e-3 (Veličković et al., §3.3).
 */
function datasetDefaults(
  conv: ConvKind,
  dataset: NodeDatasetName,
): { model: Partial<ModelDefaults>; train: Partial<TrainDefaults> } {
  if ((conv === "gat" || conv === "gatv2") && dataset === "pubmed") {
    return { model: { outHeads: 8 }, train: { lr: 0.01, weightDecay: 1e-3 } };
  }
  return { model: {}, train: {} };
}

// ---------------------------------------------------------------------------
// the schema
// ---------------------------------------------------------------------------

const datasetSchema = object({
  name: oneOf(NODE_DATASETS),
  featureNorm: oneOf(["row", "none"]).optional(),
  sparseFeatures: boolean.optional(),
});

const modelSchema = object({
  conv: oneOf(CONV_KINDS),
  layers: positiveInteger.optional(),
  hidden: positiveInteger.optional(),
  heads: positiveInteger.optional(),
  outHeads: positiveInteger.optional(),
  concat: boolean.optional(),
  activation: oneOf(ACTIVATIONS).optional(),
  dropout: rate.optional(),
  inputDropout: rate.optional(),
  attentionDropout: rate.optional(),
  aggregate: oneOf(["mean", "max", "sum"]).optional(),
  norm: oneOf(NORMS).optional(),
  normOptions: z
    .record(
      z.string(),
      z.union([z.number(), z.string(), z.boolean()], {
        error: "expected a number, string or boolean",
      }),
      { error: "expected an object of options" },
    )
    .optional(),
  jk: oneOf(JK_MODES).optional(),
  dropEdge: rate.optional(),
  residual: boolean.optional(),
  k: positiveInteger.optional(),
  alpha: probability.optional(),
});

const trainSchema = object({
  epochs: positiveInteger.optional(),
  lr: positiveNumber.optional(),
  weightDecay: nonNegativeNumber.optional(),
  weightDecayOn: oneOf(["all", "first"]).optional(),
  patience: nonNegativeInteger.optional(),
  stopOn: oneOf(STOP_CRITERIA).optional(),
  optimizer: oneOf(["adam", "adamw", "sgd"]).optional(),
  momentum: rate.optional(),
});

const publishedSchema = object(publishedFields);

const nodeClassificationSchema = object({
  task: z.literal("node-classification"),
  name: text.optional(),
  description: text.optional(),
  dataset: datasetSchema,
  model: modelSchema,
  train: trainSchema.optional(),
  seeds: positiveInteger.optional(),
  published: publishedSchema.nullable().optional(),
});

/** Tasks a config may name (the discriminator of the union). */
export const TASKS = ["node-classification"] as const;

const experimentSchema = z.discriminatedUnion(
  "task",
  [nodeClassificationSchema],
  { error: `expected one of ${TASKS.map((t) => `"${t}"`).join(", ")}` },
);

/** What the schema accepts: a config with optional fields. */
export type NodeClassificationConfigInput = z.input<
  typeof nodeClassificationSchema
>;

// ---------------------------------------------------------------------------
// parsing
// ---------------------------------------------------------------------------

/** The value at `path` inside `input`, or undefined. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** A JSON path for messages: `model.heads`, `runs[2].seed`. */
function pathText(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(top level)" : out;
}

/** One line per problem: `path: expectation, got value`. */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = pathText(issue.path);
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(", ");
    return `${where}: unknown field${issue.keys.length > 1 ? "s" : ""} ${keys}`;
  }
  const value = valueAt(input, issue.path);
  const got = value === undefined ? "nothing" : JSON.stringify(value);
  return `${where}: ${issue.message}, got ${got}`;
}

/**
 * The ConfigError for a failed zod parse of a config file: one line per
 * problem, `"<source>: <json path>: <expected>, got <value>"`. Shared by
 * every config schema of mpcl (node classification, contrastive).
 */
export function configParseError(
  source: string,
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
): ConfigError {
  return new ConfigError(
    issues
      .map((issue) => `${source}: ${describeIssue(issue, input)}`)
      .join("\n"),
  );
}

/**
 * Validate a parsed JSON value as an experiment config and fill every
 * missing field with the defaults of its convolution (and dataset).
 * `source` names the file in error messages (default `"config"`).
 *
 * @throws ConfigError `"<source>: <json path>: <expected>, got <value>"`,
 *   one line per problem.
 */
export function parseConfig(
  json: unknown,
  source = "config",
): ExperimentConfig {
  const result = experimentSchema.safeParse(json);
  if (!result.success) {
    throw configParseError(source, result.error.issues, json);
  }
  const raw = result.data;
  const defaultName = source.replace(/\.json$/, "");
  return resolveNodeClassification(raw, defaultName, source);
}

/** Fill the defaults of a validated node-classification config. */
function resolveNodeClassification(
  raw: z.output<typeof nodeClassificationSchema>,
  defaultName: string,
  source: string,
): NodeClassificationConfig {
  const conv = raw.model.conv;
  const paper = MODEL_DEFAULTS[conv];
  const special = datasetDefaults(conv, raw.dataset.name);
  const given = Object.fromEntries(
    Object.entries(raw.model).filter(([, v]) => v !== undefined),
  );
  const model: ModelConfig = {
    ...BASE_MODEL,
    ...paper.model,
    ...special.model,
    ...given,
    conv,
    inputDropout:
      raw.model.inputDropout ??
      raw.model.dropout ??
      special.model.dropout ??
      paper.model.dropout ??
      BASE_MODEL.dropout,
  } as ModelConfig;
  const train: TrainConfig = {
    ...BASE_TRAIN,
    ...paper.train,
    ...special.train,
    ...Object.fromEntries(
      Object.entries(raw.train ?? {}).filter(([, v]) => v !== undefined),
    ),
  } as TrainConfig;

  // cross-field rules the schema cannot say
  if (model.jk !== "none" && model.layers < 2) {
    throw new ConfigError(
      `${source}: model.jk: jumping knowledge needs at least 2 layers, got layers ${model.layers}`,
    );
  }
  if (conv === "sgc" && model.layers !== 1) {
    throw new ConfigError(
      `${source}: model.layers: SGC is one linear layer after K propagation steps, expected 1, got ${model.layers}`,
    );
  }
  const published =
    raw.published == null
      ? null
      : {
          mean: raw.published.mean,
          std: raw.published.std ?? null,
          source: raw.published.source,
        };
  return {
    task: "node-classification",
    name: raw.name ?? defaultName,
    dataset: {
      name: raw.dataset.name,
      featureNorm: raw.dataset.featureNorm ?? "row",
      sparseFeatures: raw.dataset.sparseFeatures ?? true,
    },
    model,
    train,
    seeds: raw.seeds ?? 10,
    published,
  };
}

/**
 * Read and validate the config file at `path` (see {@link parseConfig});
 * messages name the file by its base name.
 *
 * @throws ConfigError when the file cannot be read, is not JSON, or does
 *   not fit the schema.
 */
export function loadConfig(path: string): ExperimentConfig {
  const { file, json } = readConfigJson("loadConfig", path);
  return parseConfig(json, file);
}
