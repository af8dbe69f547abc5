/**
 * The graph convolution of Kipf & Welling (2017), "Semi-Supervised
 * Classification with Graph Convolutional Networks":
 * `H' = D̂^{-1/2} (A + I) D̂^{-1/2} X W + b`, and the normalized graph
 * `Â` it propagates over, cached per graph object so that other layers
 * (SGC, APPNP) and experiments share it.
 */

import { tf } from "../backend.js";
import type { Graph } from "../graph/graph.js";
import { addSelfLoops, normalize } from "../graph/transforms.js";
import type { NodeFeatures } from "../mp/linear.js";
import { propagate } from "../mp/propagate.js";
import { type RandomOptions, resolveRandom } from "../random.js";
import { createVariable, glorotUniform, zeros } from "./init.js";
import {
  checkDim,
  checkFlag,
  checkLayerInput,
  checkRate,
  inputDropout,
  product,
} from "./linear.js";
import type { ForwardContext, Layer, Parameter } from "./module.js";

/** Options of {@link gcnNormalize}. */
export interface GCNNormalizeOptions {
  /** Add the missing self-loops before normalizing; default true. */
  addSelfLoops?: boolean;
  /**
   * Normalize by the degrees; default true. When false the result is
   * `A + I` (or `A`), the propagation of an unnormalized GCN.
   */
  normalize?: boolean;
  /** Reuse the result cached for this graph object; default true. */
  cached?: boolean;
}

const normalizedGraphs = new WeakMap<Graph, Map<string, Graph>>();

/**
 * The GCN propagation matrix of a graph,
 *
 *     Â = D̂^{-1/2} Ã D̂^{-1/2},   Ã = A + I (on nodes without a loop),
 *
 * with `D̂_ii = Σ_j Ã_ij` the weighted in-degree (row sum of `Ã`, rows are
 * destinations), so the edge j → i gets `w / sqrt(D̂_ii D̂_jj)`.
 *
 * Self-loops follow PyTorch Geometric's `gcn_norm` (its
 * `add_remaining_self_loops` with fill value 1): a node that already has
 * a self-loop keeps it with its own weight and gets no other; every
 * other node gets a loop of weight 1. So an existing loop is never
 * doubled (PyG also merges several loops of one node into one, keeping
 * the last weight; here several loops are kept and their weights add up).
 * Duplicate edges add up, and an isolated node ends with `Â_ii = 1`
 * (with loops) or an empty row (without). Degrees of 0 give weight 0,
 * never NaN.
 *
 * The result is cached per graph object and options (a WeakMap, so it
 * is freed with the graph) unless `cached` is false.
 */
export function gcnNormalize(
  graph: Graph,
  options: GCNNormalizeOptions = {},
): Graph {
  const loops = options.addSelfLoops ?? true;
  const norm = options.normalize ?? true;
  const key = `${loops ? "loops" : "none"}/${norm ? "sym" : "raw"}`;
  if (options.cached ?? true) {
    let entries = normalizedGraphs.get(graph);
    if (entries === undefined) {
      entries = new Map();
      normalizedGraphs.set(graph, entries);
    }
    let result = entries.get(key);
    if (result === undefined) {
      result = buildNormalized(graph, loops, norm);
      entries.set(key, result);
    }
    return result;
  }
  return buildNormalized(graph, loops, norm);
}

/** The uncached body of {@link gcnNormalize}. */
function buildNormalized(graph: Graph, loops: boolean, norm: boolean): Graph {
  const withLoops = loops
    ? addSelfLoops(graph, { weight: 1, onlyMissing: true })
    : graph;
  return norm ? normalize(withLoops, "sym") : withLoops;
}

/** Arguments of {@link GCNConv}. */
export interface GCNConvArgs extends RandomOptions {
  /** Width of the input features. */
  inputDim: number;
  /** Width of the output features. */
  units: number;
  /** Whether to add a learnable bias after aggregation; default true. */
  bias?: boolean;
  /**
   * Add a self-loop of weight 1 to every node without one before
   * normalizing (see {@link gcnNormalize}); default true.
   */
  addSelfLoops?: boolean;
  /** Symmetric degree normalization; default true. */
  normalize?: boolean;
  /**
   * Compute the normalized graph once per input graph object and reuse
   * it (the graph is immutable, so this is always valid); default true.
   */
  cached?: boolean;
  /** Dropout rate on the input in training mode; default 0. */
  inputDropout?: number;
}

/**
 * Graph convolution (Kipf & Welling 2017):
 *
 *     H' = Â · (dropout(X) W) + b,   Â = gcnNormalize(graph)
 *
 * W `[inputDim, units]` is Glorot uniform and b `[units]` starts at zero,
 * as in the paper's implementation; the bias is added after aggregation.
 * The product `X W` comes first (it accepts sparse features and is the
 * cheaper order when units < inputDim), then one fused sparse × dense
 * propagation with the weights of `Â`. Input `[N, inputDim]` (dense or
 * sparse) with N the graph's node count; output `[N, units]`.
 * Parameters: `weight`, `bias`.
 */
export class GCNConv implements Layer {
  readonly name: string;
  readonly inputDim: number;
  readonly units: number;
  readonly addSelfLoops: boolean;
  readonly normalize: boolean;
  readonly cached: boolean;
  readonly inputDropout: number;
  /** W, `[inputDim, units]`. */
  readonly weight: tf.Variable;
  /** b, `[units]`, or null without bias. */
  readonly bias: tf.Variable | null;

  constructor(args: GCNConvArgs) {
    const cls = "GCNConv";
    this.inputDim = checkDim(cls, "inputDim", args.inputDim);
    this.units = checkDim(cls, "units", args.units);
    this.addSelfLoops = checkFlag(cls, "addSelfLoops", args.addSelfLoops, true);
    this.normalize = checkFlag(cls, "normalize", args.normalize, true);
    this.cached = checkFlag(cls, "cached", args.cached, true);
    this.inputDropout = checkRate(cls, "inputDropout", args.inputDropout);
    this.name = `GCNConv(${this.inputDim}→${this.units})`;

    const random = resolveRandom(args);
    this.weight = createVariable(
      glorotUniform(this.inputDim, this.units, random),
      [this.inputDim, this.units],
    );
    this.bias = checkFlag(cls, "bias", args.bias, true)
      ? createVariable(zeros(this.units), [this.units])
      : null;
  }

  apply(x: NodeFeatures, context: ForwardContext): tf.Tensor2D {
    checkLayerInput(this.name, x, this.inputDim, context.graph);
    const graph = gcnNormalize(context.graph, {
      addSelfLoops: this.addSelfLoops,
      normalize: this.normalize,
      cached: this.cached,
    });
    return tf.tidy(() => {
      const dropped = inputDropout(x, this.inputDropout, context);
      const h = product(dropped, this.weight as tf.Tensor2D);
      const out = propagate(graph, h);
      return this.bias === null ? out : out.add(this.bias);
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
