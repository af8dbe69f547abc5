/**
 * Encoders f_θ of contrastive learning: the networks whose output
 * features the contrastive update moves. An MLP of Linear, BatchNorm and
 * ReLU layers (the encoder of the image experiments, and the shape of the
 * projector and predictor heads of SimCLR, SimSiam and BYOL), a small CNN
 * for 28 × 28 and 8 × 8 images, and a wrapper that makes a GNN of the
 * model builder an encoder (GRACE's two-layer GCN, Zhu et al. 2020).
 *
 * Every encoder is a `Layer` of `nn/module.ts`: `apply(x, context)` maps
 * `[N, d]` to `[N, d']`, `parameters()` lists named variables.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import type { Graph } from "../graph/graph.js";
import { denseFeatures, type NodeFeatures } from "../mp/linear.js";
import {
  type ActivationName,
  activate,
  checkActivation,
} from "../nn/activation.js";
import { BatchNorm1d } from "../nn/batchnorm.js";
import { type InitName, uniform } from "../nn/init.js";
import { checkDim, checkFlag, Linear } from "../nn/linear.js";
import {
  type ForwardContext,
  type Layer,
  type Parameter,
  prefixParameters,
} from "../nn/module.js";
import type { Random } from "../random.js";
import { type RandomOptions, resolveRandom } from "../random.js";

// ---------------------------------------------------------------------------
// MLP
// ---------------------------------------------------------------------------

/** Arguments of {@link MLPEncoder}. */
export interface MLPEncoderArgs extends RandomOptions {
  /**
   * Widths of every layer's input and of the output, at least two:
   * `[784, 512, 512]` is 784 → 512 → 512 (two Linear layers).
   */
  dims: readonly number[];
  /**
   * BatchNorm1d after each hidden Linear layer (default true), as in the
   * projectors of SimCLR, SimSiam and BYOL.
   */
  batchNorm?: boolean;
  /** Activation of the hidden layers; default `"relu"`. */
  activation?: ActivationName;
  /**
   * Whether the last layer is followed by the activation (and BatchNorm
   * before it when `batchNorm`), like the hidden ones; default true: an
   * encoder's representation h. False gives a head whose last layer is
   * linear.
   */
  activateLast?: boolean;
  /**
   * BatchNorm1d after a last linear layer (only when `activateLast` is
   * false): `"none"` (default), `"affine"` (SimCLR's projector) or
   * `"plain"` (no γ, β: SimSiam's projector).
   */
  lastNorm?: "none" | "affine" | "plain";
  /**
   * Bias of each Linear layer; default: none before a BatchNorm (it
   * would cancel), a bias otherwise (PyTorch heads' convention).
   */
  bias?: boolean;
  /** Initialisation of the Linear layers; default `"kaiming"` (PyTorch). */
  init?: InitName;
  /** Name in errors and summaries; default `MLP(784→512→512)`. */
  name?: string;
}

/**
 * A multilayer perceptron: for layers l = 1..L,
 *
 *     h_l = act(BN(h_{l−1} W_l [+ b_l]))
 *
 * (BN when `batchNorm`; the last layer linear, with an optional BN, when
 * `activateLast` is false). Input `[N, dims[0]]` (dense or sparse),
 * output `[N, dims[L]]`; the context's graph is not used. BatchNorm uses
 * the batch's statistics in training mode, so the rows of one call are
 * one batch. Parameters `layers.<l>.weight|bias`, `norms.<l>.weight|bias`;
 * `buffers()` lists the running statistics.
 */
export class MLPEncoder implements Layer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly activation: ActivationName;
  readonly linears: Linear[];
  /** The BatchNorm after each Linear layer, or null. */
  readonly norms: Array<BatchNorm1d | null>;
  readonly activateLast: boolean;

  constructor(args: MLPEncoderArgs) {
    const cls = "MLPEncoder";
    const dims = args.dims;
    if (!Array.isArray(dims) || dims.length < 2) {
      throw new ConfigError(
        `${cls}: dims must list at least an input and an output width, ` +
          `got ${JSON.stringify(dims)}`,
      );
    }
    for (let i = 0; i < dims.length; i++) checkDim(cls, `dims[${i}]`, dims[i]);
    this.dims = [...dims];
    const batchNorm = checkFlag(cls, "batchNorm", args.batchNorm, true);
    this.activateLast = checkFlag(cls, "activateLast", args.activateLast, true);
    this.activation = checkActivation(cls, args.activation ?? "relu");
    const lastNorm = args.lastNorm ?? "none";
    if (!["none", "affine", "plain"].includes(lastNorm)) {
      throw new ConfigError(
        `${cls}: lastNorm must be "none", "affine" or "plain", got ` +
          `${String(lastNorm)}`,
      );
    }
    if (lastNorm !== "none" && this.activateLast) {
      throw new ConfigError(
        `${cls}: lastNorm applies to a linear last layer (activateLast ` +
          "false)",
      );
    }
    this.name = args.name ?? `MLP(${dims.join("→")})`;

    // layers drawn in order from one stream
    const random = resolveRandom(args);
    const numLayers = dims.length - 1;
    this.linears = [];
    this.norms = [];
    for (let l = 0; l < numLayers; l++) {
      const last = l === numLayers - 1;
      const norm: "none" | "affine" | "plain" =
        last && !this.activateLast ? lastNorm : batchNorm ? "affine" : "none";
      this.linears.push(
        new Linear({
          inputDim: dims[l],
          units: dims[l + 1],
          bias: args.bias ?? norm === "none",
          init: args.init ?? "kaiming",
          random,
        }),
      );
      this.norms.push(
        norm === "none"
          ? null
          : new BatchNorm1d({ units: dims[l + 1], affine: norm === "affine" }),
      );
    }
  }

  apply(x: NodeFeatures, context: ForwardContext): tf.Tensor2D {
    return tf.tidy(() => {
      let h: NodeFeatures = x;
      const numLayers = this.linears.length;
      for (let l = 0; l < numLayers; l++) {
        let y = this.linears[l].apply(h, context);
        const norm = this.norms[l];
        if (norm !== null) y = norm.apply(y, context);
        if (l < numLayers - 1 || this.activateLast) {
          y = activate(y, this.activation);
        }
        h = y;
      }
      return h as tf.Tensor2D;
    });
  }

  parameters(): Parameter[] {
    const out: Parameter[] = [];
    this.linears.forEach((layer, l) => {
      out.push(...prefixParameters(`layers.${l}`, layer.parameters()));
      const norm = this.norms[l];
      if (norm !== null) {
        out.push(...prefixParameters(`norms.${l}`, norm.parameters()));
      }
    });
    return out;
  }

  /** The BatchNorm running statistics, named `norms.<l>.running_*`. */
  buffers(): Array<{ name: string; variable: tf.Variable }> {
    const out: Array<{ name: string; variable: tf.Variable }> = [];
    this.norms.forEach((norm, l) => {
      for (const b of norm?.buffers() ?? []) {
        out.push({ name: `norms.${l}.${b.name}`, variable: b.variable });
      }
    });
    return out;
  }

  dispose(): void {
    for (const layer of this.linears) layer.dispose();
    for (const norm of this.norms) norm?.dispose();
  }
}

// ---------------------------------------------------------------------------
// GNN
// ---------------------------------------------------------------------------

/**
 * What {@link GNNEncoder} needs of a GNN: the shape of `GnnModel` from
 * the model builder (`forward(x, graph, {training, random})` giving the
 * last layer's output as `logits` and the hidden layers' outputs).
 */
export interface GraphModelLike {
  forward(
    x: NodeFeatures,
    graph: Graph,
    options: { training: boolean; random: Random },
  ): { logits: tf.Tensor2D; hidden: tf.Tensor2D[] };
  parameters(): Parameter[];
  dispose(): void;
}

/** Options of {@link GNNEncoder}. */
export interface GNNEncoderOptions {
  /**
   * Activation after the model's last layer (default `"identity"`).
   * GRACE's encoder applies its activation after every layer, the last
   * one included (`"relu"` for Cora; PReLU in the paper's other
   * settings).
   */
  activation?: ActivationName;
  /** Name in errors and summaries; default `GNNEncoder`. */
  name?: string;
}

/**
 * A GNN as a contrastive encoder: `apply(x, context)` runs
 * `model.forward(x, context.graph, context)` and returns
 * `act(logits)`, the last layer's output `[N, d']` (built with
 * `numClasses` = the embedding width). Each view brings its own graph in
 * its context (GRACE's views drop different edges). Parameters are the
 * model's, names unchanged. The encoder owns the model: `dispose` frees
 * it.
 */
export class GNNEncoder implements Layer {
  readonly name: string;
  readonly model: GraphModelLike;
  readonly activation: ActivationName;

  constructor(model: GraphModelLike, options: GNNEncoderOptions = {}) {
    if (model === null || typeof model?.forward !== "function") {
      throw new ConfigError(
        `GNNEncoder: expected a model with forward(x, graph, options), ` +
          `got ${typeof model}`,
      );
    }
    this.model = model;
    this.activation = checkActivation(
      "GNNEncoder",
      options.activation ?? "identity",
    );
    this.name = options.name ?? "GNNEncoder";
  }

  apply(x: NodeFeatures, context: ForwardContext): tf.Tensor2D {
    const { logits, hidden } = this.model.forward(x, context.graph, {
      training: context.training,
      random: context.random,
    });
    tf.dispose(hidden);
    if (this.activation === "identity") return logits;
    const out = activate(logits, this.activation);
    logits.dispose();
    return out;
  }

  parameters(): Parameter[] {
    return this.model.parameters();
  }

  dispose(): void {
    this.model.dispose();
  }
}

// ---------------------------------------------------------------------------
// CNN
// ---------------------------------------------------------------------------

/** Arguments of {@link CNNEncoder}. */
export interface CNNEncoderArgs extends RandomOptions {
  /** Image height and width (e.g. 28 for MNIST, 8 for optdigits). */
  height: number;
  width: number;
  /** Input channels; default 1. */
  channels?: number;
  /**
   * Output channels of each 3 × 3 convolution of stride 2 ("same"
   * padding; every one halves the image, rounding up); default [32, 64].
   */
  filters?: readonly number[];
  /** Width of the final Linear layer (the representation); default 128. */
  outputDim?: number;
  /** Name in errors and summaries; default `CNN(28×28×1→…)`. */
  name?: string;
}

/**
 * A small CNN: 3 × 3 convolutions of stride 2 with ReLU, flattened, then
 * a Linear layer with ReLU:
 *
 *     h_l = relu(conv_{3×3, stride 2}(h_{l−1}) + b_l),
 *     out = relu(flatten(h_L) W + b)
 *
 * Input `[N, height · width · channels]` (row-major pixels, channels
 * last, as the image datasets store them), output `[N, outputDim]`.
 * Weights: PyTorch's default (uniform ±1/√fan-in). Parameters
 * `convs.<l>.weight|bias`, `linear.weight|bias`.
 *
 * The forward pass is TF.js's conv2d; its gradient is computed here:
 * `dX` by conv2dTranspose, `dW` by a dilated convolution of the input
 * with `dY` (the WASM backend has no Conv2DBackpropFilter kernel).
 *
 * LIMITATION: slow on the WASM backend. For 256 MNIST images (filters
 * [32, 64], output 128; two cores shared with other jobs at a load of
 * about 19) a forward pass took 0.14-0.19 s and forward + backward
 * 1.9-2.2 s, against 0.07-0.10 s and 0.3 s for the MLP 784 → 512 → 512
 * on the same machine: the input gradient (conv2dTranspose) alone takes
 * about 0.9 s. The image experiments use {@link MLPEncoder}.
 */
export class CNNEncoder implements Layer {
  readonly name: string;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly filters: readonly number[];
  readonly outputDim: number;
  /** Conv kernels `[3, 3, c_in, c_out]` and biases `[c_out]`. */
  readonly convWeights: tf.Variable[];
  readonly convBiases: tf.Variable[];
  readonly linear: Linear;

  constructor(args: CNNEncoderArgs) {
    const cls = "CNNEncoder";
    this.height = checkDim(cls, "height", args.height);
    this.width = checkDim(cls, "width", args.width);
    this.channels = checkDim(cls, "channels", args.channels ?? 1);
    const filters = args.filters ?? [32, 64];
    if (!Array.isArray(filters) || filters.length < 1) {
      throw new ConfigError(
        `${cls}: filters must list at least one width, got ` +
          `${JSON.stringify(filters)}`,
      );
    }
    for (let i = 0; i < filters.length; i++) {
      checkDim(cls, `filters[${i}]`, filters[i]);
    }
    this.filters = [...filters];
    this.outputDim = checkDim(cls, "outputDim", args.outputDim ?? 128);
    this.name =
      args.name ??
      `CNN(${this.height}×${this.width}×${this.channels}→` +
        `${[...filters, this.outputDim].join("→")})`;

    // kernels and biases, PyTorch's default init, then the Linear layer
    const random = resolveRandom(args);
    this.convWeights = [];
    this.convBiases = [];
    let cIn = this.channels;
    let h = this.height;
    let w = this.width;
    for (const cOut of filters) {
      const fanIn = 9 * cIn;
      const bound = 1 / Math.sqrt(fanIn);
      const kernel = uniform(9 * cIn * cOut, bound, random);
      const bias = uniform(cOut, bound, random);
      this.convWeights.push(
        tf.variable(tf.tensor4d(kernel, [3, 3, cIn, cOut])),
      );
      this.convBiases.push(tf.variable(tf.tensor1d(bias)));
      cIn = cOut;
      h = Math.ceil(h / 2);
      w = Math.ceil(w / 2);
    }
    this.linear = new Linear({
      inputDim: h * w * cIn,
      units: this.outputDim,
      init: "kaiming",
      activation: "relu",
      random,
    });
  }

  apply(x: NodeFeatures, context: ForwardContext): tf.Tensor2D {
    const size = this.height * this.width * this.channels;
    const [rows, cols] = x instanceof tf.Tensor ? x.shape : [x.rows, x.cols];
    if (cols !== size) {
      throw new ShapeError(
        `${this.name}: expected images [N, ${this.height}·${this.width}·` +
          `${this.channels} = ${size}], got [${rows}, ${cols}]`,
      );
    }
    return tf.tidy(() => {
      let h = tf.reshape(denseFeatures(x), [
        rows,
        this.height,
        this.width,
        this.channels,
      ]) as tf.Tensor4D;
      for (let l = 0; l < this.filters.length; l++) {
        const z = conv3x3Stride2(h, this.convWeights[l] as tf.Tensor4D);
        h = tf.relu(tf.add(z, this.convBiases[l])) as tf.Tensor4D;
      }
      const flat = tf.reshape(h, [rows, -1]) as tf.Tensor2D;
      return this.linear.apply(flat, context);
    });
  }

  parameters(): Parameter[] {
    const out: Parameter[] = [];
    this.convWeights.forEach((w, l) => {
      out.push({ name: `convs.${l}.weight`, variable: w });
      out.push({ name: `convs.${l}.bias`, variable: this.convBiases[l] });
    });
    out.push(...prefixParameters("linear", this.linear.parameters()));
    return out;
  }

  dispose(): void {
    tf.dispose([...this.convWeights, ...this.convBiases]);
    this.linear.dispose();
  }
}

/**
 * A 3 × 3 convolution of stride 2 with TF.js's "same" padding (output
 * ⌈H/2⌉ × ⌈W/2⌉, the padding's extra row and column at the bottom and
 * right), differentiable in x and the kernel:
 *
 *   dX = conv2dTranspose(dY, K),
 *   dK[a, b, c, o] = Σ_{n,i,j} x_pad[n, 2i + a, 2j + b, c] dY[n, i, j, o],
 *
 * the second a convolution of x_pad (channels as batch, images as
 * channels) with dY (dilation 2).
 */
function conv3x3Stride2(x: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D {
  const op = tf.customGrad((xIn, kIn, save) => {
    const xs = xIn as tf.Tensor4D;
    const ks = kIn as tf.Tensor4D;
    (save as tf.GradSaveFunc)([xs, ks]);
    return {
      value: tf.conv2d(xs, ks, 2, "same"),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xv, kv] = saved as [tf.Tensor4D, tf.Tensor4D];
        const g = dy as tf.Tensor4D;
        const [n, h, w, c] = xv.shape;
        const [, ho, wo] = g.shape;
        const dx = tf.conv2dTranspose(g, kv, [n, h, w, c], 2, "same");
        const dk = tf.tidy(() => {
          // "same": total padding max(2 (out − 1) + 3 − in, 0), the
          // smaller half on top and left
          const padH = Math.max(2 * (ho - 1) + 3 - h, 0);
          const padW = Math.max(2 * (wo - 1) + 3 - w, 0);
          const top = Math.floor(padH / 2);
          const left = Math.floor(padW / 2);
          const xp = tf.pad(xv, [
            [0, 0],
            [top, padH - top],
            [left, padW - left],
            [0, 0],
          ]);
          const xt = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D;
          const gt = tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D;
          const r = tf.conv2d(xt, gt, 1, "valid", "NHWC", 2);
          // r is [c, a, b, o] with a, b ≥ 3 when the padded input is
          // longer than 2 (out − 1) + 3; keep the 3 × 3 taps
          const taps = tf.slice(r, [0, 0, 0, 0], [c, 3, 3, -1]);
          return tf.transpose(taps, [1, 2, 0, 3]);
        });
        return [dx, dk];
      },
    };
  });
  return op(x, kernel) as tf.Tensor4D;
}
