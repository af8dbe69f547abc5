/**
 * Graph attention convolutions: GAT (Veličković et al. 2018, "Graph
 * Attention Networks") and GATv2 (Brody, Alon & Yahav 2022, "How Attentive
 * are Graph Attention Networks?").
 *
 * A thin composition of mpcl's primitives: one feature product `x W`
 * (dense or sparse input), per-node attention scores gathered to the edges
 * with `gatherRows`, a `segmentSoftmax` over each node's incoming edges,
 * and one `propagate` per head whose differentiable edge weights are the
 * attention coefficients. The coefficients can be read back in CSR edge
 * order, so that attentive alignment in contrastive training reuses them.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import { Graph } from "../graph/graph.js";
import { addSelfLoops, removeSelfLoops } from "../graph/transforms.js";
import {
  dropout,
  featureShape,
  matMul,
  type NodeFeatures,
} from "../mp/linear.js";
import { propagate } from "../mp/propagate.js";
import {
  gatherRows,
  type Segments,
  segmentSoftmax,
  segmentsFromRowPtr,
} from "../mp/segment.js";
import { type Random, type RandomOptions, resolveRandom } from "../random.js";
import { createVariable, glorotUniform, uniform } from "./init.js";
import type { ForwardContext, Layer, Parameter } from "./module.js";

/** Arguments of {@link GATConv}. */
export interface GATConvArgs extends RandomOptions {
  /** Width of the input features, a positive integer. */
  inputDim: number;
  /** Output width of each attention head, a positive integer. */
  units: number;
  /** Number of attention heads K, a positive integer; default 1. */
  heads?: number;
  /**
   * Whether the heads' outputs are concatenated (default true, width
   * `heads · units`, as in the hidden layers of Veličković et al.) or
   * averaged (width `units`, as in their output layer).
   */
  concat?: boolean;
  /** Slope of the LeakyReLU for negative inputs; default 0.2. */
  negativeSlope?: number;
  /**
   * Dropout rate on the input features, in [0, 1), applied in training
   * only; default 0.
   */
  inputDropout?: number;
  /**
   * Dropout rate on the normalised attention coefficients α, in [0, 1),
   * applied in training only with masks drawn from `context.random`;
   * default 0 (Veličković et al. use 0.6 on Cora).
   */
  attentionDropout?: number;
  /**
   * Whether every node attends to itself (default true): the self-loops
   * of the input graph are removed and one loop per node is added, as in
   * the paper, where the neighbourhood of i includes i.
   */
  addSelfLoops?: boolean;
  /** Whether an output bias is added (default true, initialised to 0). */
  bias?: boolean;
  /** GATv2's dynamic attention instead of GAT's (default false). */
  v2?: boolean;
  /**
   * GATv2 only: use one weight matrix for the source and the destination
   * role (default false: two matrices, `W_src` and `W_dst`). A
   * `ConfigError` when given true without `v2`.
   */
  shareWeights?: boolean;
  /** Layer name for errors and summaries; default from the sizes. */
  name?: string;
}

/** The output and the attention coefficients of one forward pass. */
export interface GATOutput {
  /** Node features `[N, heads · units]` (concat) or `[N, units]`. */
  output: tf.Tensor2D;
  /**
   * The normalised attention coefficients α `[E', heads]` before
   * attention dropout, in the CSR edge order of
   * {@link GATConv.attentionGraph} (E' edges, self-loops included).
   */
  attention: tf.Tensor2D;
}

/** Self-loop graphs built by {@link GATConv}, one per input graph. */
const loopedGraphs = new WeakMap<Graph, Graph>();

/** Destination segments of a graph, built once per graph. */
const graphSegments = new WeakMap<Graph, Segments>();

/** The segments of the incoming edges of every node of `graph`. */
function segmentsOf(graph: Graph): Segments {
  let segments = graphSegments.get(graph);
  if (segments === undefined) {
    segments = segmentsFromRowPtr(graph.rowPtr, graph.dst);
    graphSegments.set(graph, segments);
  }
  return segments;
}

/** Check a positive integer argument. */
function positiveInteger(fn: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new ConfigError(`${fn}: ${name} must be an integer >= 1, got ${v}`);
  }
  return v;
}

/** Check a dropout rate in [0, 1). */
function dropoutRate(fn: string, name: string, v: number): number {
  if (!(typeof v === "number" && v >= 0 && v < 1)) {
    throw new ConfigError(`${fn}: ${name} must lie in [0, 1), got ${v}`);
  }
  return v;
}

/**
 * Per-head dot products: `t` is `[R, heads · units]`, `a` is
 * `[heads, units]`; the result `[R, heads]` holds `t[r, head] · a[head]`.
 */
function headDot(t: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor2D {
  const [heads, units] = a.shape;
  const rows = t.shape[0];
  return tf.sum(tf.mul(tf.reshape(t, [rows, heads, units]), a), 2);
}

/**
 * Graph attention convolution (GAT, or GATv2 with `v2: true`).
 *
 * With `h_j = W x_j` split into K heads `h_j^k` of `units` features, GAT
 * scores the edge j → i by
 *
 *     e_ij^k = LeakyReLU(a_dst^k · h_i^k + a_src^k · h_j^k)
 *
 * and GATv2 by
 *
 *     e_ij^k = a^k · LeakyReLU(W_dst^k x_i + W_src^k x_j),  h = W_src x,
 *
 * then normalises over the incoming edges of i,
 * `α_ij^k = softmax_j(e_ij^k)`, and aggregates
 *
 *     h_i' = ‖_k Σ_j α_ij^k h_j^k  (+ bias)
 *
 * (or the mean over k instead of the concatenation ‖ with
 * `concat: false`). The neighbourhood of i includes i itself when
 * `addSelfLoops` (the default).
 *
 * Shapes: input `[N, inputDim]` (dense tensor or `SparseFeatures`),
 * output `[N, heads · units]` (concat) or `[N, units]`. Nodes without
 * incoming edges (possible only with `addSelfLoops: false`) output the
 * bias.
 *
 * Parameters (initialised as in the authors' code, from `seed`/`random`
 * in this order): `weight` W (= W_src) `[inputDim, heads · units]`,
 * Glorot uniform; `weightDst` W_dst, same shape (GATv2 without
 * `shareWeights`); `attSrc` and `attDst` `[heads, units]` (GAT) or `att`
 * (GATv2), Glorot uniform with fan-in `units` and fan-out 1 per head;
 * `bias` (`[heads · units]` or `[units]`), zeros.
 *
 * LIMITATION: the graph's edge weights are ignored (attention replaces
 * them) and there are no edge features (PyG's `edge_dim`).
 * LIMITATION: GATv2's W_src and W_dst carry no bias of their own, as in
 * Brody et al.'s equations (PyG's GATv2Conv adds one to each).
 */
export class GATConv implements Layer {
  readonly name: string;
  /** Width of the input features. */
  readonly inputDim: number;
  /** Width of each head. */
  readonly units: number;
  /** Number of heads. */
  readonly heads: number;
  /** Whether heads are concatenated (else averaged). */
  readonly concat: boolean;
  /** Width of the output: `heads · units` or `units`. */
  readonly outputDim: number;
  /** Slope of the LeakyReLU for negative inputs. */
  readonly negativeSlope: number;
  /** Dropout rate on the input features (training only). */
  readonly inputDropout: number;
  /** Dropout rate on the attention coefficients (training only). */
  readonly attentionDropout: number;
  /** Whether self-loops are added to the graph. */
  readonly addSelfLoops: boolean;
  /** Whether this is GATv2. */
  readonly v2: boolean;

  readonly #weight: tf.Variable<tf.Rank.R2>;
  readonly #weightDst: tf.Variable<tf.Rank.R2> | null;
  readonly #attSrc: tf.Variable<tf.Rank.R2>;
  readonly #attDst: tf.Variable<tf.Rank.R2> | null;
  readonly #bias: tf.Variable<tf.Rank.R1> | null;

  /**
   * Raises `ConfigError` for sizes that are not positive integers, rates
   * outside [0, 1), a non-finite `negativeSlope`, and `shareWeights`
   * without `v2`.
   */
  constructor(args: GATConvArgs) {
    const fn = "GATConv";
    this.inputDim = positiveInteger(fn, "inputDim", args.inputDim);
    this.units = positiveInteger(fn, "units", args.units);
    this.heads = positiveInteger(fn, "heads", args.heads ?? 1);
    this.concat = args.concat ?? true;
    this.negativeSlope = args.negativeSlope ?? 0.2;
    if (!Number.isFinite(this.negativeSlope)) {
      throw new ConfigError(
        `${fn}: negativeSlope must be a finite number, got ` +
          `${this.negativeSlope}`,
      );
    }
    this.inputDropout = dropoutRate(fn, "inputDropout", args.inputDropout ?? 0);
    this.attentionDropout = dropoutRate(
      fn,
      "attentionDropout",
      args.attentionDropout ?? 0,
    );
    this.addSelfLoops = args.addSelfLoops ?? true;
    this.v2 = args.v2 ?? false;
    const shareWeights = args.shareWeights ?? false;
    if (shareWeights && !this.v2) {
      throw new ConfigError(
        `${fn}: shareWeights applies to GATv2 only (v2: true), got v2 false`,
      );
    }
    const width = this.heads * this.units;
    this.outputDim = this.concat ? width : this.units;
    this.name =
      args.name ??
      `${this.v2 ? "GATv2Conv" : "GATConv"}(${this.inputDim}→` +
        `${this.heads}×${this.units})`;

    // parameters, drawn in a fixed order from one seeded stream
    const random = resolveRandom(args);
    const matrix = () =>
      createVariable(glorotUniform(this.inputDim, width, random), [
        this.inputDim,
        width,
      ]) as tf.Variable<tf.Rank.R2>;

    // NOTE: each head's attention vector is a Glorot [units, 1] matrix,
    // as in the authors' code (a 1 × 1 convolution over `units` channels)
    const attLimit = Math.sqrt(6 / (this.units + 1));
    const attention = () =>
      createVariable(uniform(width, attLimit, random), [
        this.heads,
        this.units,
      ]) as tf.Variable<tf.Rank.R2>;
    this.#weight = matrix();
    this.#weightDst = this.v2 && !shareWeights ? matrix() : null;
    this.#attSrc = attention();
    this.#attDst = this.v2 ? null : attention();
    this.#bias =
      (args.bias ?? true)
        ? (createVariable(new Float32Array(this.outputDim), [
            this.outputDim,
          ]) as tf.Variable<tf.Rank.R1>)
        : null;
  }

  /**
   * The graph whose edges the attention runs over: `graph` itself, or,
   * with `addSelfLoops`, `graph` with its self-loops replaced by one loop
   * per node (built once per graph and cached). Attention coefficients
   * are in the CSR edge order of this graph.
   */
  attentionGraph(graph: Graph): Graph {
    if (!(graph instanceof Graph)) {
      throw new ConfigError(
        `${this.name}: context.graph must be a Graph, got ${typeof graph}`,
      );
    }
    if (!this.addSelfLoops) return graph;
    let looped = loopedGraphs.get(graph);
    if (looped === undefined) {
      looped = addSelfLoops(removeSelfLoops(graph));
      loopedGraphs.set(graph, looped);
    }
    return looped;
  }

  /**
   * Applies the layer: `x` is `[N, inputDim]` (dense or sparse) with N
   * the node count of `context.graph`; returns the new features (see the
   * class comment for the equation and shapes). Raises `ShapeError` for
   * a wrong input shape.
   */
  apply(x: NodeFeatures, context: ForwardContext): tf.Tensor2D {
    return tf.tidy(() => {
      const { output } = this.#forward(x, context, true);
      return output as tf.Tensor2D;
    });
  }

  /**
   * Applies the layer and returns the attention coefficients α of the
   * same pass (before attention dropout): `attention` is `[E', heads]` in
   * the CSR edge order of {@link GATConv.attentionGraph}, and
   * differentiable. The caller owns both tensors.
   */
  applyWithAttention(x: NodeFeatures, context: ForwardContext): GATOutput {
    return tf.tidy(() => {
      const { output, attention } = this.#forward(x, context, true);
      return { output: output as tf.Tensor2D, attention };
    });
  }

  /**
   * The attention coefficients α `[E', heads]` alone, in the CSR edge
   * order of {@link GATConv.attentionGraph}; each destination's
   * coefficients sum to 1 per head. Input dropout applies in training
   * (it changes the scores); attention dropout does not.
   */
  attention(x: NodeFeatures, context: ForwardContext): tf.Tensor2D {
    return tf.tidy(() => this.#forward(x, context, false).attention);
  }

  /** Trainable variables: weight, weightDst, attSrc/att, attDst, bias. */
  parameters(): Parameter[] {
    const out: Parameter[] = [{ name: "weight", variable: this.#weight }];
    if (this.#weightDst !== null) {
      out.push({ name: "weightDst", variable: this.#weightDst });
    }
    out.push({
      name: this.v2 ? "att" : "attSrc",
      variable: this.#attSrc,
    });
    if (this.#attDst !== null) {
      out.push({ name: "attDst", variable: this.#attDst });
    }
    if (this.#bias !== null) out.push({ name: "bias", variable: this.#bias });
    return out;
  }

  /** Frees the variables. */
  dispose(): void {
    for (const p of this.parameters()) p.variable.dispose();
  }

  /**
   * The forward pass, inside the caller's `tf.tidy`: attention always,
   * the aggregation when `aggregate` is true.
   */
  #forward(
    x: NodeFeatures,
    context: ForwardContext,
    aggregate: boolean,
  ): { output: tf.Tensor2D | null; attention: tf.Tensor2D } {
    const graph = this.attentionGraph(context.graph);
    const n = graph.numNodes;
    const [rows, cols] = featureShape(x);
    if (rows !== n || cols !== this.inputDim) {
      throw new ShapeError(
        `${this.name}.apply: x must have shape [${n}, ${this.inputDim}] ` +
          `(numNodes, inputDim), got [${rows}, ${cols}]`,
      );
    }
    const training = context.training;
    const input =
      training && this.inputDropout > 0
        ? dropout(x, this.inputDropout, context.random)
        : x;

    // the projected features h = x W are the values of every head
    const h = matMul(input, this.#weight);
    const src = graph.colIdx;
    const dst = graph.dst;

    // scores of every edge and head, [E, heads]
    let scores: tf.Tensor2D;
    if (this.v2) {
      const hDst =
        this.#weightDst === null ? h : matMul(input, this.#weightDst);
      const z = tf.leakyRelu(
        tf.add(gatherRows(h, src), gatherRows(hDst, dst)),
        this.negativeSlope,
      ) as tf.Tensor2D;
      scores = headDot(z, this.#attSrc);
    } else {
      // NOTE: a · h is computed per node, then gathered: [N, heads]
      // twice instead of [E, heads · units]
      const sSrc = headDot(h, this.#attSrc);
      const sDst = headDot(h, this.#attDst as tf.Tensor2D);
      scores = tf.leakyRelu(
        tf.add(gatherRows(sSrc, src), gatherRows(sDst, dst)),
        this.negativeSlope,
      ) as tf.Tensor2D;
    }
    const attention = segmentSoftmax(scores, segmentsOf(graph));
    if (!aggregate) return { output: null, attention };

    // attention dropout: an inverted-dropout mask on the coefficients
    let alpha = attention;
    if (training && this.attentionDropout > 0) {
      alpha = tf.mul(
        alpha,
        attentionMask(alpha.shape, this.attentionDropout, context.random),
      );
    }

    let output = this.#aggregate(graph, h, alpha);
    if (!this.concat && this.heads > 1) {
      output = tf.mean(tf.reshape(output, [n, this.heads, this.units]), 1);
    }
    if (this.#bias !== null) output = tf.add(output, this.#bias);
    return { output, attention };
  }

  /**
   * `out_i^k = Σ_j α_ij^k h_j^k` for every head k: one fused
   * `propagate` per head, with that head's coefficients as the
   * differentiable edge weights. Returns `[N, heads · units]`.
   */
  #aggregate(graph: Graph, h: tf.Tensor2D, alpha: tf.Tensor2D): tf.Tensor2D {
    const n = graph.numNodes;
    const numEdges = graph.numEdges;
    if (this.heads === 1) {
      return propagate(graph, h, { weights: tf.reshape(alpha, [numEdges]) });
    }
    const parts: tf.Tensor2D[] = [];
    for (let k = 0; k < this.heads; k++) {
      const hk = tf.slice(h, [0, k * this.units], [n, this.units]);
      const wk = tf.reshape(tf.slice(alpha, [0, k], [numEdges, 1]), [numEdges]);
      parts.push(propagate(graph, hk, { weights: wk as tf.Tensor1D }));
    }
    return tf.concat(parts, 1);
  }
}

/**
 * An inverted-dropout mask `[E, heads]`: each entry is 0 with probability
 * `rate`, else `1 / (1 − rate)`, one uniform draw per entry (row-major).
 */
function attentionMask(
  shape: [number, number],
  rate: number,
  random: Random,
): tf.Tensor2D {
  const size = shape[0] * shape[1];
  const scale = 1 / (1 - rate);
  const mask = new Float32Array(size);
  for (let j = 0; j < size; j++) mask[j] = random() >= rate ? scale : 0;
  return tf.tensor2d(mask, shape);
}
