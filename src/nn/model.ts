/**
 * A node-classification GNN built from a {@link ModelConfig}: a stack of
 * convolutions with activations, dropout (inside each layer, on its
 * input, as in Kipf & Welling 2017 and Veličković et al. 2018), optional
 * normalization after each hidden layer (PairNorm, Zhao & Akoglu, ICLR
 * 2020; ContraNorm, Guo et al., ICLR 2023), optional residual links,
 * optional jumping-knowledge readout (Xu et al., ICML 2018) followed by a
 * linear classifier, and DropEdge (Rong et al., ICLR 2020) drawn once per
 * training forward pass.
 *
 * SGC (Wu et al. 2019) is one linear layer after K propagation steps;
 * APPNP (Klicpera et al. 2019) is an MLP whose predictions are then
 * propagated by personalised PageRank; `mlp` ignores the graph.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import type { Graph } from "../graph/graph.js";
import { dropEdge } from "../graph/rewire/dropEdge.js";
import { featureShape, type NodeFeatures } from "../mp/linear.js";
import { type Random, resolveRandom } from "../random.js";
import { activate } from "./activation.js";
import { APPNPPropagation } from "./appnp.js";
import type { ConvKind, ModelConfig } from "./config.js";
import { ContraNorm, type ContraNormArgs } from "./contranorm.js";
import { GATConv } from "./gat.js";
import { GCNConv } from "./gcn.js";
import { GINConv } from "./gin.js";
import { JumpingKnowledge } from "./jk.js";
import { Linear } from "./linear.js";
import {
  type ForwardContext,
  type Layer,
  type Parameter,
  prefixParameters,
} from "./module.js";
import { PairNorm, type PairNormArgs } from "./pairnorm.js";
import { SAGEConv } from "./sage.js";
import { SGConv } from "./sgc.js";

/** What {@link buildModel} needs besides the config. */
export interface BuildModelOptions {
  /** Width of the input features F. */
  inputDim: number;
  /** Number of classes C (the width of the logits). */
  numClasses: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
  /** A random source for the initial weights instead of `seed`. */
  random?: Random;
}

/** Options of {@link GnnModel.forward}. */
export interface ModelForwardOptions {
  /** Training mode: dropout and DropEdge are active only when true. */
  training: boolean;
  /** Source of every random draw of the pass (masks, dropped edges). */
  random: Random;
}

/** The output of {@link GnnModel.forward}; the caller owns every tensor. */
export interface ModelOutput {
  /** Unnormalized class scores `[N, C]`. */
  logits: tf.Tensor2D;
  /**
   * The output of every hidden layer `[N, d_l]` after its normalization,
   * activation and residual link, in order (L − 1 tensors for L layers;
   * L with jumping knowledge, where every layer is hidden). Used by the
   * oversmoothing study (Dirichlet energy per layer).
   */
  hidden: tf.Tensor2D[];
}

/** A layer of the stack and how it connects to the next. */
interface Block {
  /** The convolution (or linear layer). */
  conv: Layer;
  /** Normalization after it, or null. */
  norm: Layer | null;
  /** Whether activation and normalization follow (hidden layers). */
  hidden: boolean;
  /** Whether its input is added to its output. */
  residual: boolean;
}

/**
 * Node-classification model: `forward(x, graph)` maps features `[N, F]`
 * (dense or sparse) to logits `[N, C]`. Built by {@link buildModel}.
 *
 * For layers l = 1..L, with h_0 = x:
 *
 *     h_l = act(norm(conv_l(h_{l−1}))) + [residual] h_{l−1}   (hidden)
 *     logits = conv_L(h_{L−1})                                (output)
 *
 * With jumping knowledge every one of the L layers is hidden and
 * `logits = Linear(JK(h_1, …, h_L))`. Parameters are named
 * `layers.<l>.<name>`, `norms.<l>.<name>`, `jk.<name>`,
 * `classifier.<name>` and `propagation.<name>`.
 */
export class GnnModel {
  /** The configuration it was built from. */
  readonly config: ModelConfig;
  readonly inputDim: number;
  readonly numClasses: number;
  readonly #blocks: Block[];
  readonly #readout: JumpingKnowledge | null;
  readonly #classifier: Layer | null;
  readonly #propagation: Layer | null;

  /** Use {@link buildModel}. */
  constructor(
    config: ModelConfig,
    inputDim: number,
    numClasses: number,
    parts: {
      blocks: Block[];
      readout: JumpingKnowledge | null;
      classifier: Layer | null;
      propagation: Layer | null;
    },
  ) {
    this.config = config;
    this.inputDim = inputDim;
    this.numClasses = numClasses;
    this.#blocks = parts.blocks;
    this.#readout = parts.readout;
    this.#classifier = parts.classifier;
    this.#propagation = parts.propagation;
  }

  /** Number of stacked layers (convolutions or linear layers). */
  get depth(): number {
    return this.#blocks.length;
  }

  /**
   * Apply the model. `x` is `[N, inputDim]` with N the graph's node
   * count. In training mode DropEdge (when configured) draws one subgraph
   * from `options.random` before any layer runs; every layer then sees it.
   *
   * @throws ShapeError for features of the wrong shape.
   */
  forward(
    x: NodeFeatures,
    graph: Graph,
    options: ModelForwardOptions,
  ): ModelOutput {
    const [rows, cols] = featureShape(x);
    if (cols !== this.inputDim || rows !== graph.numNodes) {
      throw new ShapeError(
        `GnnModel.forward: expected features [${graph.numNodes}, ${this.inputDim}], got [${rows}, ${cols}]`,
      );
    }

    // DropEdge: one random subgraph per training pass
    let g = graph;
    if (options.training && this.config.dropEdge > 0) {
      g = dropEdge(graph, this.config.dropEdge, { random: options.random });
    }
    const context: ForwardContext = {
      graph: g,
      training: options.training,
      random: options.random,
    };

    const hidden: tf.Tensor2D[] = [];
    const result = tf.tidy(() => {
      let h: NodeFeatures = x;
      let out: tf.Tensor2D | null = null;
      for (const block of this.#blocks) {
        // the layer, then (hidden layers) normalization and activation
        let y = block.conv.apply(h as tf.Tensor2D, context);
        if (block.hidden) {
          if (block.norm !== null) y = block.norm.apply(y, context);
          y = activate(y, this.config.activation);
          if (block.residual) y = tf.add(y, h as tf.Tensor2D);
          hidden.push(tf.keep(y));
        }
        h = y;
        out = y;
      }

      // jumping knowledge and classifier, or the last layer's output
      let logits = out as unknown as tf.Tensor2D;
      if (this.#readout !== null && this.#classifier !== null) {
        const combined = this.#readout.combine(hidden);
        logits = this.#classifier.apply(combined, context);
      }
      if (this.#propagation !== null) {
        logits = this.#propagation.apply(logits, context);
      }
      return logits;
    });
    return { logits: result, hidden };
  }

  /** Every trainable parameter, with dotted names (see the class doc). */
  parameters(): Parameter[] {
    const out: Parameter[] = [];
    this.#blocks.forEach((b, l) => {
      out.push(...prefixParameters(`layers.${l}`, b.conv.parameters()));
      if (b.norm !== null) {
        out.push(...prefixParameters(`norms.${l}`, b.norm.parameters()));
      }
    });
    if (this.#readout !== null) {
      out.push(...prefixParameters("jk", this.#readout.parameters()));
    }
    if (this.#classifier !== null) {
      out.push(
        ...prefixParameters("classifier", this.#classifier.parameters()),
      );
    }
    if (this.#propagation !== null) {
      out.push(
        ...prefixParameters("propagation", this.#propagation.parameters()),
      );
    }
    return out;
  }

  /** Total number of trainable scalars. */
  countParameters(): number {
    return this.parameters().reduce((s, p) => s + p.variable.size, 0);
  }

  /** One line per layer: its name and parameter count, then the total. */
  summary(): string {
    const size = (layer: { parameters(): Parameter[] }) =>
      layer.parameters().reduce((s, p) => s + p.variable.size, 0);
    const lines: string[] = [];
    this.#blocks.forEach((b, l) => {
      lines.push(`layers.${l}  ${b.conv.name}  ${size(b.conv)}`);
      if (b.norm !== null) {
        lines.push(`norms.${l}  ${b.norm.name}  ${size(b.norm)}`);
      }
    });
    if (this.#readout !== null) {
      lines.push(`jk  ${this.#readout.name}  ${size(this.#readout)}`);
    }
    if (this.#classifier !== null) {
      lines.push(
        `classifier  ${this.#classifier.name}  ${size(this.#classifier)}`,
      );
    }
    if (this.#propagation !== null) {
      lines.push(
        `propagation  ${this.#propagation.name}  ${size(this.#propagation)}`,
      );
    }
    lines.push(`total parameters: ${this.countParameters()}`);
    return lines.join("\n");
  }

  /** Free every variable of the model. */
  dispose(): void {
    for (const b of this.#blocks) {
      b.conv.dispose();
      b.norm?.dispose();
    }
    this.#readout?.dispose();
    this.#classifier?.dispose();
    this.#propagation?.dispose();
  }
}

// ---------------------------------------------------------------------------
// construction
// ---------------------------------------------------------------------------

/** What a convolution factory is given for one layer. */
interface ConvSpec {
  inputDim: number;
  /** Output width per head (or in total for single-head layers). */
  units: number;
  /** Whether it is the output layer (GAT: outHeads, mean). */
  output: boolean;
  inputDropout: number;
  random: Random;
}

/** A factory per convolution kind. */
type ConvFactory = (config: ModelConfig, spec: ConvSpec) => Layer;

/** The output width of a hidden layer of `config`. */
function hiddenWidth(config: ModelConfig): number {
  const gat = config.conv === "gat" || config.conv === "gatv2";
  return gat && config.concat ? config.heads * config.hidden : config.hidden;
}

const FACTORIES: Record<ConvKind, ConvFactory> = {
  gcn: (_c, s) =>
    new GCNConv({
      inputDim: s.inputDim,
      units: s.units,
      inputDropout: s.inputDropout,
      random: s.random,
    }),
  sage: (c, s) =>
    new SAGEConv({
      inputDim: s.inputDim,
      units: s.units,
      aggregate: c.aggregate,
      inputDropout: s.inputDropout,
      random: s.random,
    }),
  gat: (c, s) => gatFactory(c, s, false),
  gatv2: (c, s) => gatFactory(c, s, true),
  gin: (_c, s) =>
    new GINConv({
      inputDim: s.inputDim,
      units: s.units,
      inputDropout: s.inputDropout,
      random: s.random,
    }),
  sgc: (c, s) =>
    new SGConv({
      inputDim: s.inputDim,
      units: s.units,
      k: c.k,
      inputDropout: s.inputDropout,
      random: s.random,
    }),
  // APPNP predicts with an MLP; the propagation is added after the stack
  appnp: (_c, s) => linearFactory(s),
  mlp: (_c, s) => linearFactory(s),
};

function linearFactory(s: ConvSpec): Layer {
  return new Linear({
    inputDim: s.inputDim,
    units: s.units,
    inputDropout: s.inputDropout,
    random: s.random,
  });
}

/** The normalization layer after a hidden layer of width `width`. */
function normLayer(config: ModelConfig, width: number): Layer | null {
  switch (config.norm) {
    case "none":
      return null;
    case "pairnorm":
      return new PairNorm(config.normOptions as PairNormArgs);
    case "contranorm":
      return new ContraNorm({
        dim: width,
        ...(config.normOptions as ContraNormArgs),
      });
  }
}

function gatFactory(config: ModelConfig, s: ConvSpec, v2: boolean): Layer {
  return new GATConv({
    inputDim: s.inputDim,
    units: s.units,
    heads: s.output ? config.outHeads : config.heads,
    concat: s.output ? false : config.concat,
    inputDropout: s.inputDropout,
    attentionDropout: config.attentionDropout,
    v2,
    random: s.random,
  });
}

/**
 * Build the model that `config` describes for `inputDim` features and
 * `numClasses` classes, with initial weights drawn from one seeded stream
 * in layer order (`options.seed`, default 0).
 *
 * Widths: hidden layers output `hidden` (GAT: `heads · hidden` when
 * `concat`), the output layer `numClasses` (GAT: `outHeads` averaged
 * heads). With `jk` every layer is hidden and a Linear classifier with
 * dropout follows the readout. Works for 1 to 64 layers and more.
 *
 * LIMITATION: APPNP's dropout on the adjacency matrix (Klicpera et al.)
 * is not configurable here: the propagation runs without edge dropout;
 * `dropEdge` drops edges for every layer instead.
 *
 * @throws ConfigError for sizes that are not positive integers, or an
 *   SGC model with more than one layer or a readout.
 */
export function buildModel(
  config: ModelConfig,
  options: BuildModelOptions,
): GnnModel {
  const fn = "buildModel";
  for (const key of ["inputDim", "numClasses"] as const) {
    const v = options[key];
    if (!(Number.isInteger(v) && v > 0)) {
      throw new ConfigError(
        `${fn}: ${key} must be a positive integer, got ${v}`,
      );
    }
  }
  const random = resolveRandom(options);
  const { inputDim, numClasses } = options;
  const factory = FACTORIES[config.conv];
  const jk = config.jk !== "none";
  if (config.conv === "sgc" && (config.layers !== 1 || jk)) {
    throw new ConfigError(
      `${fn}: SGC is one linear layer after K propagation steps, expected layers 1 and jk "none", got layers ${config.layers} and jk ${JSON.stringify(config.jk)}`,
    );
  }

  // the stack: hidden layers, then the output layer (none with JK)
  const blocks: Block[] = [];
  const width = hiddenWidth(config);
  let d = inputDim;
  for (let l = 0; l < config.layers; l++) {
    const output = !jk && l === config.layers - 1;
    const conv = factory(config, {
      inputDim: d,
      units: output ? numClasses : config.hidden,
      output,
      inputDropout: l === 0 ? config.inputDropout : config.dropout,
      random,
    });
    blocks.push({
      conv,
      norm: output ? null : normLayer(config, width),
      hidden: !output,
      residual: !output && config.residual && l > 0 && d === width,
    });
    d = width;
  }

  // jumping knowledge over every layer, then a linear classifier
  let readout: JumpingKnowledge | null = null;
  let classifier: Layer | null = null;
  if (jk) {
    readout = new JumpingKnowledge({
      mode: config.jk as "cat" | "max" | "attention",
      channels: width,
      numLayers: config.layers,
      random,
    });
    classifier = new Linear({
      inputDim: readout.outputDim(blocks.map(() => width)),
      units: numClasses,
      inputDropout: config.dropout,
      random,
      name: "classifier",
    });
  }
  const propagation =
    config.conv === "appnp"
      ? new APPNPPropagation({ k: config.k, alpha: config.alpha })
      : null;
  return new GnnModel(config, inputDim, numClasses, {
    blocks,
    readout,
    classifier,
    propagation,
  });
}
