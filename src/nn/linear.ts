/**
 * The fully connected layer `y = act(x W + b)`, used by MLPs, GIN's
 * update, jumping-knowledge heads and APPNP's prediction network; and the
 * checks and input dropout that every layer of nn/ shares.
 *
 * Dropout sits inside the layer, on its input, as in Kipf & Welling's and
 * Veličković et al.'s implementations; it is active in training mode only
 * and draws its mask from the forward context's seeded random source.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import type { Graph } from "../graph/graph.js";
import {
  dropout,
  featureShape,
  matMul,
  type NodeFeatures,
} from "../mp/linear.js";
import { type RandomOptions, resolveRandom } from "../random.js";
import {
  type ActivationName,
  activate,
  checkActivation,
} from "./activation.js";
import { checkInit, createVariable, denseInit, type InitName } from "./init.js";
import type { ForwardContext, Layer, Parameter } from "./module.js";

// ---------------------------------------------------------------------------
// helpers shared by the layers of nn/
// ---------------------------------------------------------------------------

/**
 * Check a positive integer argument of a layer: `ConfigError` naming the
 * layer class, the argument and the value otherwise.
 */
export function checkDim(caller: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(
      `${caller}: ${name} must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Check an optional boolean argument: `undefined` gives `fallback`, a
 * non-boolean raises `ConfigError` naming the layer.
 */
export function checkFlag(
  caller: string,
  name: string,
  value: unknown,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new ConfigError(
      `${caller}: ${name} must be a boolean, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Check a rate in [0, 1) (dropout probabilities): `ConfigError`
 * otherwise. `undefined` gives `fallback`.
 */
export function checkRate(
  caller: string,
  name: string,
  value: unknown,
  fallback = 0,
): number {
  const rate = value ?? fallback;
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) {
    throw new ConfigError(
      `${caller}: ${name} must be a number in [0, 1), got ${String(rate)}`,
    );
  }
  return rate;
}

/**
 * Check a layer's input: `[N, inputDim]` features (dense float32 or
 * sparse), and, when `graph` is given, N equal to its node count.
 * Raises `ShapeError` naming the layer with the expected and received
 * shapes.
 */
export function checkLayerInput(
  layer: string,
  x: NodeFeatures,
  inputDim: number,
  graph?: Graph,
): void {
  if (!(x instanceof tf.Tensor) && typeof x !== "object") {
    throw new ShapeError(
      `${layer}: expected node features [N, ${inputDim}], got ${typeof x}`,
    );
  }
  if (x instanceof tf.Tensor && (x.rank !== 2 || x.dtype !== "float32")) {
    throw new ShapeError(
      `${layer}: expected a float32 tensor [N, ${inputDim}], got ` +
        `${x.dtype} [${x.shape}]`,
    );
  }
  const [rows, cols] = featureShape(x);
  if (cols !== inputDim) {
    throw new ShapeError(
      `${layer}: expected input dimension ${inputDim}, got features ` +
        `[${rows}, ${cols}]`,
    );
  }
  if (graph !== undefined && rows !== graph.numNodes) {
    throw new ShapeError(
      `${layer}: expected one feature row per node (N = ` +
        `${graph.numNodes}), got features [${rows}, ${cols}]`,
    );
  }
}

/**
 * Dropout on a layer's input with rate `rate`, in training mode only,
 * drawn from `context.random` (sparse features lose stored entries only;
 * see `dropout` in mp/linear.ts). Outside training, or at rate 0, `x`
 * itself is returned and nothing is drawn.
 */
export function inputDropout(
  x: NodeFeatures,
  rate: number,
  context: ForwardContext,
): NodeFeatures {
  if (!context.training || rate === 0) return x;
  return dropout(x, rate, context.random);
}

/**
 * The product `x · w` for x `[N, k]` (dense or sparse) and w `[k, m]`:
 * `matMul` of mp/linear.ts (native gemm where present), differentiable in
 * w and, when dense, in x. One name for the first step of every layer.
 */
export function product(x: NodeFeatures, w: tf.Tensor2D): tf.Tensor2D {
  return matMul(x, w);
}

const unweightedViews = new WeakMap<Graph, Graph>();

/**
 * The graph with its weights dropped (shared index arrays, cached per
 * graph object), for layers whose messages ignore edge weights as in
 * their papers and in PyTorch Geometric (GraphSAGE, GIN).
 */
export function unweightedView(graph: Graph): Graph {
  if (graph.weights === null) return graph;
  let view = unweightedViews.get(graph);
  if (view === undefined) {
    view = graph.withWeights(null);
    unweightedViews.set(graph, view);
  }
  return view;
}

// ---------------------------------------------------------------------------
// the Linear layer
// ---------------------------------------------------------------------------

/** Arguments of {@link Linear}. */
export interface LinearArgs extends RandomOptions {
  /** Width of the input features (the rows of W). */
  inputDim: number;
  /** Width of the output (the columns of W). */
  units: number;
  /** Whether to add a learnable bias b; default true. */
  bias?: boolean;
  /**
   * Initialisation: `"glorot"` (default) draws W from Glorot uniform
   * with a zero bias; `"kaiming"` is PyTorch's `nn.Linear` default,
   * U(−1/√inputDim, 1/√inputDim) for W and b.
   */
  init?: InitName;
  /** Dropout rate on the input in training mode; default 0. */
  inputDropout?: number;
  /** Activation applied to `x W + b`; default `"identity"`. */
  activation?: ActivationName;
  /** Name shown in errors and summaries; default `Linear(in→units)`. */
  name?: string;
}

/**
 * A fully connected layer:
 *
 *     y = act(dropout(x) · W + b)
 *
 * with W `[inputDim, units]` and b `[units]`. Input `[N, inputDim]`
 * (dense or {@link NodeFeatures sparse}; sparse input gives the same
 * result as its dense form), output `[N, units]`. The graph of the
 * context is not used. Parameters: `weight`, then `bias` (when enabled).
 */
export class Linear implements Layer {
  readonly name: string;
  readonly inputDim: number;
  readonly units: number;
  readonly activation: ActivationName;
  readonly inputDropout: number;
  /** W, `[inputDim, units]`. */
  readonly weight: tf.Variable;
  /** b, `[units]`, or null without bias. */
  readonly bias: tf.Variable | null;

  constructor(args: LinearArgs) {
    const cls = "Linear";
    this.inputDim = checkDim(cls, "inputDim", args.inputDim);
    this.units = checkDim(cls, "units", args.units);
    this.activation = checkActivation(cls, args.activation ?? "identity");
    this.inputDropout = checkRate(cls, "inputDropout", args.inputDropout);
    const init = checkInit(cls, args.init ?? "glorot");
    this.name = args.name ?? `Linear(${this.inputDim}→${this.units})`;

    const bias = checkFlag(cls, "bias", args.bias, true);
    const random = resolveRandom(args);
    const values = denseInit(init, this.inputDim, this.units, bias, random);
    this.weight = createVariable(values.weight, [this.inputDim, this.units]);
    this.bias =
      values.bias === null ? null : createVariable(values.bias, [this.units]);
  }

  apply(x: NodeFeatures, context: ForwardContext): tf.Tensor2D {
    checkLayerInput(this.name, x, this.inputDim);
    return tf.tidy(() =>
      this.finish(this.product(inputDropout(x, this.inputDropout, context))),
    );
  }

  /** `x · W` alone, `[N, units]` (no dropout, bias or activation). */
  product(x: NodeFeatures): tf.Tensor2D {
    return product(x, this.weight as tf.Tensor2D);
  }

  /** `act(z + b)` for `z = x · W` (or any linear image of it). */
  finish(z: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const shifted = this.bias === null ? z : z.add(this.bias);
      return activate(shifted as tf.Tensor2D, this.activation);
    });
  }

  parameters(): Parameter[] {
    const out: Parameter[] = [{ name: "weight", variable: this.weight }];
    if (this.bias !== null) out.push({ name: "bias", variable: this.bias });
    return out;
  }

  dispose(): void {
    this.weight.dispose();
    this.bias?.dispose();
  }
}
