/**
 * The graph isomorphism network convolution of Xu, Hu, Leskovec & Jegelka
 * (2019), "How Powerful are Graph Neural Networks?": an MLP applied to
 * the sum of a node's own features, weighted by 1 + ε, and of its
 * neighbours' features.
 */

import { tf } from "../backend.js";
import { ConfigError } from "../errors.js";
import { denseFeatures, type NodeFeatures } from "../mp/linear.js";
import { propagate } from "../mp/propagate.js";
import { type RandomOptions, resolveRandom } from "../random.js";
import { checkInit, createVariable, type InitName } from "./init.js";
import {
  checkDim,
  checkFlag,
  checkLayerInput,
  checkRate,
  inputDropout,
  Linear,
  unweightedView,
} from "./linear.js";
import {
  type ForwardContext,
  type Layer,
  type Parameter,
  prefixParameters,
} from "./module.js";

/** Arguments of {@link GINConv}. */
export interface GINConvArgs extends RandomOptions {
  /** Width of the input features. */
  inputDim: number;
  /** Width of the output features (of the MLP). */
  units: number;
  /** Hidden width of the default MLP; default `units`. */
  hidden?: number;
  /** The initial (or fixed) ε; default 0 (the paper's GIN-0). */
  eps?: number;
  /** Whether ε is a trainable scalar (the paper's GIN-ε); default false. */
  trainEps?: boolean;
  /**
   * The MLP, a layer `[N, inputDim] → [N, units]`; default
   * `Linear(inputDim→hidden, relu) → Linear(hidden→units)`. A given
   * layer becomes the convolution's own: its parameters are listed (as
   * `mlp.<name>`) and `dispose()` frees it.
   */
  mlp?: Layer;
  /**
   * Initialisation of the default MLP; default `"kaiming"` (PyTorch's
   * `nn.Linear` default, which the paper's code uses).
   */
  init?: InitName;
  /**
   * Multiply the neighbours' features by the graph's edge weights;
   * default false (GIN sums the neighbours' features as they are).
   */
  edgeWeights?: boolean;
  /** Dropout rate on the input in training mode; default 0. */
  inputDropout?: number;
}

/**
 * GIN convolution:
 *
 *     h_i' = MLP((1 + ε) x_i + Σ_{j ∈ N(i)} x_j)
 *
 * N(i) are the sources of the edges into i (duplicates counted; an
 * existing self-loop adds x_i once more, as in PyG). With the default
 * MLP, whose first layer is linear, the product comes first:
 * `relu((1 + ε) x W₁ + A (x W₁) + b₁) W₂ + b₂` equals the formula,
 * is cheaper when hidden < inputDim, and accepts sparse input; a given
 * MLP receives the (densified) sum.
 *
 * Input `[N, inputDim]` (dense or sparse), output `[N, units]`.
 * Parameters: `eps` (with trainEps), then the MLP's, prefixed by `mlp.`
 * (default MLP: `mlp.0.weight`, `mlp.0.bias`, `mlp.1.weight`,
 * `mlp.1.bias`).
 *
 * LIMITATION: the paper's MLPs put batch normalization after each hidden
 * layer; the default MLP here has none (pass an `mlp` that normalizes to
 * get it).
 */
export class GINConv implements Layer {
  readonly name: string;
  readonly inputDim: number;
  readonly units: number;
  readonly edgeWeights: boolean;
  readonly inputDropout: number;
  /** ε: a number, or a trainable scalar variable with trainEps. */
  readonly eps: number | tf.Variable;
  /** The MLP. */
  readonly mlp: Layer;
  /** The default MLP's two layers, or null for a given MLP. */
  readonly #layers: readonly [Linear, Linear] | null;

  constructor(args: GINConvArgs) {
    const cls = "GINConv";
    this.inputDim = checkDim(cls, "inputDim", args.inputDim);
    this.units = checkDim(cls, "units", args.units);
    const hidden = checkDim(cls, "hidden", args.hidden ?? this.units);
    this.edgeWeights = checkFlag(cls, "edgeWeights", args.edgeWeights, false);
    this.inputDropout = checkRate(cls, "inputDropout", args.inputDropout);
    const init = checkInit(cls, args.init ?? "kaiming");
    const eps = args.eps ?? 0;
    if (typeof eps !== "number" || !Number.isFinite(eps)) {
      throw new ConfigError(`${cls}: eps must be a finite number, got ${eps}`);
    }
    const trainEps = checkFlag(cls, "trainEps", args.trainEps, false);
    this.name = `GINConv(${this.inputDim}→${this.units})`;

    if (args.mlp !== undefined) {
      const mlp = args.mlp as Partial<Layer> | null;
      if (
        typeof mlp !== "object" ||
        mlp === null ||
        typeof mlp.apply !== "function" ||
        typeof mlp.parameters !== "function"
      ) {
        throw new ConfigError(
          `${cls}: mlp must be a Layer (apply, parameters, dispose), got ` +
            typeof mlp,
        );
      }
      this.mlp = args.mlp;
      this.#layers = null;
    } else {
      const random = resolveRandom(args);
      const first = new Linear({
        inputDim: this.inputDim,
        units: hidden,
        activation: "relu",
        init,
        random,
      });
      const second = new Linear({
        inputDim: hidden,
        units: this.units,
        init,
        random,
      });
      this.#layers = [first, second];
      this.mlp = new Sequential([first, second]);
    }
    this.eps = trainEps ? createVariable(Float32Array.of(eps), []) : eps;
  }

  apply(x: NodeFeatures, context: ForwardContext): tf.Tensor2D {
    checkLayerInput(this.name, x, this.inputDim, context.graph);
    const graph = this.edgeWeights
      ? context.graph
      : unweightedView(context.graph);
    const eps = this.eps;

    // (1 + ε) h + Σ_j h_j for features h
    const combine = (h: tf.Tensor2D): tf.Tensor2D => {
      const own = eps === 0 ? h : h.mul(tf.add(1, eps));
      return propagate(graph, h).add(own);
    };

    return tf.tidy(() => {
      const input = inputDropout(x, this.inputDropout, context);
      if (this.#layers === null) {
        return this.mlp.apply(combine(denseFeatures(input)), context);
      }
      const [first, second] = this.#layers;
      const hidden = first.finish(combine(first.product(input)));
      return second.finish(second.product(hidden));
    });
  }

  parameters(): Parameter[] {
    const out: Parameter[] =
      typeof this.eps === "number" ? [] : [{ name: "eps", variable: this.eps }];
    return out.concat(prefixParameters("mlp", this.mlp.parameters()));
  }

  dispose(): void {
    if (typeof this.eps !== "number") this.eps.dispose();
    this.mlp.dispose();
  }
}

/**
 * Layers applied one after the other (the default MLP of GIN); their
 * parameters are prefixed by their index, `0.weight`, `1.weight`, ….
 */
export class Sequential implements Layer {
  readonly name: string;
  readonly layers: readonly Layer[];

  constructor(layers: readonly Layer[]) {
    if (layers.length === 0) {
      throw new ConfigError("Sequential: expected at least one layer, got 0");
    }
    this.layers = layers;
    this.name = `Sequential(${layers.map((l) => l.name).join(" → ")})`;
  }

  apply(x: NodeFeatures, context: ForwardContext): tf.Tensor2D {
    return tf.tidy(() => {
      let h = x;
      for (const layer of this.layers)
        h = layer.apply(h as tf.Tensor2D, context);
      return h as tf.Tensor2D;
    });
  }

  parameters(): Parameter[] {
    return this.layers.flatMap((l, i) =>
      prefixParameters(String(i), l.parameters()),
    );
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}
