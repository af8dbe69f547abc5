/**
 * The small module system of mpcl's neural networks: a layer maps node
 * features `[N, d]` to `[N, d']` given a forward context (the graph to pass
 * messages over, training or inference mode, a seeded random source), and
 * owns named trainable variables. It follows the shape of TensorFlow.js
 * layers (`apply`, `trainableWeights`, `dispose`) without its symbolic
 * graph, so that a layer can take a `Graph` and an affinity graph as input.
 *
 * Every model of `nn/` and every encoder of `contrastive/` is a
 * {@link Layer}; trainers only see `parameters()` and `apply()`.
 */

import type { tf } from "../backend.js";
import type { Graph } from "../graph/graph.js";
import type { NodeFeatures } from "../mp/linear.js";
import type { Random } from "../random.js";

/** A trainable variable with a name unique within its model. */
export interface Parameter {
  /** Dotted path, e.g. `"layers.0.weight"`; used by checkpoints. */
  readonly name: string;
  /** The variable itself (float32). */
  readonly variable: tf.Variable;
  /**
   * Whether weight decay applies to it (default: the trainer's rule).
   * Models set it to `false` for parameters a paper never decays.
   */
  readonly decay?: boolean;
}

/** What a layer needs besides its input features. */
export interface ForwardContext {
  /** The graph messages pass over (`dst` receives from `src`). */
  readonly graph: Graph;
  /**
   * Training mode: dropout, DropEdge and attention dropout are active only
   * when true.
   */
  readonly training: boolean;
  /**
   * Seeded source for every random draw of the forward pass (dropout
   * masks, dropped edges), so that a seed fixes a whole training run.
   */
  readonly random: Random;
}

/** A differentiable map from node features to node features. */
export interface Layer {
  /** A short name for errors and summaries, e.g. `"GCNConv(1433→16)"`. */
  readonly name: string;
  /**
   * Applies the layer. `x` is `[N, dIn]`, dense or sparse, with N the
   * graph's node count (when the layer uses the graph); the result is a
   * new tensor that the caller owns. Intermediate tensors are freed.
   * Layers whose first step is a product `x W` take sparse features
   * directly (`matMul` of `mp/linear.ts`); others may densify them.
   */
  apply(x: NodeFeatures, context: ForwardContext): tf.Tensor2D;
  /** Trainable variables in a stable order (empty for parameter-free). */
  parameters(): Parameter[];
  /** Frees the variables. */
  dispose(): void;
}

/**
 * Prefixes parameter names: `prefixParameters("layers.0", p)` turns
 * `weight` into `layers.0.weight`.
 */
export function prefixParameters(
  prefix: string,
  parameters: readonly Parameter[],
): Parameter[] {
  return parameters.map((p) => ({ ...p, name: `${prefix}.${p.name}` }));
}
