/**
 * Graph attention convolutions: GAT (Veličković et al. 2018, "Graph
 * Attention Networks") and GATv2 (Brody, Alon & Yahav 2022, "How Attentive
 * are Graph Attention Networks?").
 *
 * All heads share one feature product `x W` `[N, heads · units]`. GAT
 * then runs one fused op of `mp/attention.ts` (scores, LeakyReLU,
 * softmax over each node's incoming edges, attention dropout, weighted
 * sum, and their hand-derived gradient on typed arrays); GATv2 gathers
 * the features to the edges, scores them, and aggregates with the
 * multi-head weighted sum. The unfused composition (head by head:
 * `gatherRows`, `segmentSoftmax`, `propagate`) stays available with
 * `fused: false` as the reference path. The coefficients can be read
 * back in CSR edge order, so that attentive alignment in contrastive
 * training reuses them.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import { Graph } from "../graph/graph.js";
import { addSelfLoops, removeSelfLoops } from "../graph/transforms.js";
import {
  attentionAggregate,
  attentionCoefficients,
  headScores,
  multiHeadAggregate,
} from "../mp/attention.js";
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
  /**
   * Whether the heads run together through the fused attention ops of
   * `mp/attention.ts` (default true). `false` runs the unfused reference
   * composition, head by head (`gatherRows`, `segmentSoftmax`,
   * `propagate`), several times slower on large graphs; both give the
   * same results up to float32 rounding and draw the same random masks.
   */
  fused?: boolean;
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

/** What a forward pass returns: the output, the coefficients or both. */
type Want = "output" | "attention" | "both";

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
 * LIMITATION: only GAT has a fused attention op; GATv2 gathers both
 * endpoints' features to the edges (two `[E', heads · units]` tensors
 * and their LeakyReLU), so its memory and time grow with E' · width
 * rather than E' · heads.
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
  /** Whether the fused multi-head ops run (else the per-head path). */
  readonly fused: boolean;

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
    this.fused = args.fused ?? true;
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
    return tf.tidy(
      () => this.#forward(x, context, "output").output as tf.Tensor2D,
    );
  }

  /**
   * Applies the layer and returns the attention coefficients α of the
   * same pass (before attention dropout): `attention` is `[E', heads]` in
   * the CSR edge order of {@link GATConv.attentionGraph}, and
   * differentiable. The caller owns both tensors.
   */
  applyWithAttention(x: NodeFeatures, context: ForwardContext): GATOutput {
    return tf.tidy(() => {
      const { output, attention } = this.#forward(x, context, "both");
      return {
        output: output as tf.Tensor2D,
        attention: attention as tf.Tensor2D,
      };
    });
  }

  /**
   * The attention coefficients α `[E', heads]` alone, in the CSR edge
   * order of {@link GATConv.attentionGraph}; each destination's
   * coefficients sum to 1 per head. Input dropout applies in training
   * (it changes the scores); attention dropout does not.
   */
  attention(x: NodeFeatures, context: ForwardContext): tf.Tensor2D {
    return tf.tidy(
      () => this.#forward(x, context, "attention").attention as tf.Tensor2D,
    );
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
   * The forward pass, inside the caller's `tf.tidy`: the output for
   * `output` and `both`, the attention coefficients `[E', heads]` for
   * `attention` and `both` (else null). Checks the input, applies input
   * dropout, then runs the fused or the per-head path.
   */
  #forward(
    x: NodeFeatures,
    context: ForwardContext,
    want: Want,
  ): { output: tf.Tensor2D | null; attention: tf.Tensor2D | null } {
    const graph = this.attentionGraph(context.graph);
    const n = graph.numNodes;
    const [rows, cols] = featureShape(x);
    if (rows !== n || cols !== this.inputDim) {
      throw new ShapeError(
        `${this.name}.apply: x must have shape [${n}, ${this.inputDim}] ` +
          `(numNodes, inputDim), got [${rows}, ${cols}]`,
      );
    }
    const input =
      context.training && this.inputDropout > 0
        ? dropout(x, this.inputDropout, context.random)
        : x;
    const dropAttention = context.training && this.attentionDropout > 0;
    const random = dropAttention ? context.random : null;
    return this.fused
      ? this.#fusedPass(input, graph, want, random)
      : this.#perHeadPass(input, graph, want, random);
  }

  /**
   * All heads at once on `[N, heads · units]` features: GAT through
   * {@link attentionAggregate} (and {@link attentionCoefficients} when
   * the coefficients are wanted), GATv2 through gathered edge features,
   * `segmentSoftmax` over `[E', heads]` scores and
   * {@link multiHeadAggregate}. `random` draws the attention dropout
   * mask (null: no attention dropout).
   */
  #fusedPass(
    input: NodeFeatures,
    graph: Graph,
    want: Want,
    random: Random | null,
  ): { output: tf.Tensor2D | null; attention: tf.Tensor2D | null } {
    const n = graph.numNodes;
    const { heads, units, negativeSlope } = this;
    const h = matMul(input, this.#weight);
    let output: tf.Tensor2D | null = null;
    let attention: tf.Tensor2D | null = null;

    if (!this.v2) {
      // per-node scores a_src · h_j and a_dst · h_i, [N, heads]
      const sSrc = headScores(h, this.#attSrc);
      const sDst = headScores(h, this.#attDst as tf.Tensor2D);
      if (want !== "output") {
        attention = attentionCoefficients(graph, sSrc, sDst, {
          negativeSlope,
        });
      }
      if (want !== "attention") {
        const mask =
          random === null
            ? null
            : attentionMask(
                graph.numEdges,
                heads,
                this.attentionDropout,
                random,
              );
        output = attentionAggregate(graph, h, sSrc, sDst, {
          negativeSlope,
          mask,
        });
      }
    } else {
      // GATv2 scores a · LeakyReLU(W_dst x_i + W_src x_j) on the edges
      const hDst =
        this.#weightDst === null ? h : matMul(input, this.#weightDst);
      const z = tf.leakyRelu(
        tf.add(gatherRows(h, graph.colIdx), gatherRows(hDst, graph.dst)),
        negativeSlope,
      ) as tf.Tensor2D;
      const alpha = segmentSoftmax(
        headScores(z, this.#attSrc),
        segmentsOf(graph),
      );
      if (want !== "output") attention = alpha;
      if (want !== "attention") {
        const numEdges = graph.numEdges;
        const mask =
          random === null
            ? null
            : attentionMask(numEdges, heads, this.attentionDropout, random);
        const weights =
          mask === null
            ? alpha
            : tf.mul(alpha, tf.tensor2d(mask, [numEdges, heads]));
        output = multiHeadAggregate(graph, h, weights as tf.Tensor2D);
      }
    }
    if (output === null) return { output, attention };

    // mean of the heads (concat is the layout itself), then the bias
    if (!this.concat && heads > 1) {
      output = tf.mean(tf.reshape(output, [n, heads, units]), 1) as tf.Tensor2D;
    }
    if (this.#bias !== null) {
      output = tf.add(output, this.#bias) as tf.Tensor2D;
    }
    return { output, attention };
  }

  /**
   * The unfused reference path, one head at a time: per-head column
   * blocks of W and a, scores gathered to the edges with `gatherRows`,
   * `segmentSoftmax`, attention dropout, then `propagate` with the
   * coefficients as edge weights.
   *
   * NOTE: each head reads its own column block of W and a and keeps its
   * features `[N, units]` and coefficients `[E', 1]` contiguous. Slicing
   * a head out of `x W` (`[N, heads · units]`) or out of `[E', heads]`
   * coefficients is a strided copy, which TF.js's WASM backend runs
   * slowly: on 20k nodes, 200k edges and 8 heads the per-head slices
   * cost more than the whole aggregation.
   */
  #perHeadPass(
    input: NodeFeatures,
    graph: Graph,
    want: Want,
    random: Random | null,
  ): { output: tf.Tensor2D | null; attention: tf.Tensor2D | null } {
    const numEdges = graph.numEdges;
    const segments = segmentsOf(graph);
    const { units, inputDim } = this;

    const outputs: tf.Tensor2D[] = [];
    const coefficients: tf.Tensor2D[] = [];
    for (let k = 0; k < this.heads; k++) {
      // h^k = x W^k, the values (and GATv2's source features) of head k
      const columns = (w: tf.Tensor2D) =>
        tf.slice(w, [0, k * units], [inputDim, units]);
      const row = (a: tf.Tensor2D) => tf.slice(a, [k, 0], [1, units]);
      const h = matMul(input, columns(this.#weight));

      // scores e_ij^k of every edge, [E', 1]
      const scores = this.v2
        ? this.#scoresV2(input, h, graph, columns, row)
        : this.#scores(h, graph, row);
      const alpha = segmentSoftmax(scores, segments);
      if (want !== "output") coefficients.push(alpha);
      if (want === "attention") continue;

      // attention dropout, then out_i^k = Σ_j α_ij^k h_j^k
      let weights = tf.reshape(alpha, [numEdges]) as tf.Tensor1D;
      if (random !== null) {
        const mask = attentionMask(numEdges, 1, this.attentionDropout, random);
        weights = tf.mul(weights, tf.tensor1d(mask));
      }
      outputs.push(propagate(graph, h, { weights }));
    }
    const attention =
      want === "output"
        ? null
        : coefficients.length === 1
          ? coefficients[0]
          : tf.concat(coefficients, 1);
    if (want === "attention") {
      return { output: null, attention };
    }

    // concatenation or mean of the heads, then the bias
    let output: tf.Tensor2D;
    if (outputs.length === 1) {
      output = outputs[0];
    } else if (this.concat) {
      output = tf.concat(outputs, 1);
    } else {
      output = tf.div(tf.addN(outputs), this.heads);
    }
    if (this.#bias !== null) output = tf.add(output, this.#bias);
    return { output, attention };
  }

  /**
   * GAT's scores of head k: `LeakyReLU(a_dst · h_i + a_src · h_j)`, with
   * the two dot products computed per node `[N, 1]`, then gathered to
   * the edges `[E', 1]`.
   */
  #scores(
    h: tf.Tensor2D,
    graph: Graph,
    row: (a: tf.Tensor2D) => tf.Tensor2D,
  ): tf.Tensor2D {
    const dot = (a: tf.Tensor2D) =>
      tf.sum(tf.mul(h, row(a)), 1, true) as tf.Tensor2D;
    const sSrc = dot(this.#attSrc);
    const sDst = dot(this.#attDst as tf.Tensor2D);
    return tf.leakyRelu(
      tf.add(gatherRows(sSrc, graph.colIdx), gatherRows(sDst, graph.dst)),
      this.negativeSlope,
    ) as tf.Tensor2D;
  }

  /**
   * GATv2's scores of head k: `a · LeakyReLU(W_dst x_i + W_src x_j)` on
   * the gathered `[E', units]` features.
   */
  #scoresV2(
    input: NodeFeatures,
    h: tf.Tensor2D,
    graph: Graph,
    columns: (w: tf.Tensor2D) => tf.Tensor2D,
    row: (a: tf.Tensor2D) => tf.Tensor2D,
  ): tf.Tensor2D {
    const hDst =
      this.#weightDst === null ? h : matMul(input, columns(this.#weightDst));
    const z = tf.leakyRelu(
      tf.add(gatherRows(h, graph.colIdx), gatherRows(hDst, graph.dst)),
      this.negativeSlope,
    );
    return tf.sum(tf.mul(z, row(this.#attSrc)), 1, true);
  }
}

/**
 * An inverted-dropout mask of the coefficients `[E · heads]` (edge e,
 * head k at `e · heads + k`): each entry is 0 with probability `rate`,
 * else `1 / (1 − rate)`, one uniform draw per edge in CSR order, head
 * after head (so the per-head path, which draws one head per call,
 * consumes the stream in the same order).
 */
function attentionMask(
  numEdges: number,
  heads: number,
  rate: number,
  random: Random,
): Float32Array {
  const scale = 1 / (1 - rate);
  const mask = new Float32Array(numEdges * heads);
  for (let k = 0; k < heads; k++) {
    for (let e = 0; e < numEdges; e++) {
      mask[e * heads + k] = random() >= rate ? scale : 0;
    }
  }
  return mask;
}
