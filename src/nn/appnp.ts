/**
 * The propagation of APPNP, from Klicpera, Bojchevski & Günnemann (2019),
 * "Predict then Propagate: Graph Neural Networks meet Personalized
 * PageRank": K steps of personalized PageRank power iteration over the
 * GCN matrix, starting from and teleporting back to the predictions H.
 * The APPNP model is an MLP followed by this parameter-free layer (the
 * model builder assembles it).
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import type { Graph } from "../graph/graph.js";
import {
  denseFeatures,
  featureShape,
  type NodeFeatures,
} from "../mp/linear.js";
import { propagate } from "../mp/propagate.js";
import type { Random } from "../random.js";
import { gcnNormalize } from "./gcn.js";
import { checkFlag, checkRate, inputDropout } from "./linear.js";
import type { ForwardContext, Layer, Parameter } from "./module.js";

/** Arguments of {@link APPNPPropagation}. */
export interface APPNPPropagationArgs {
  /** Number of power-iteration steps K (an integer >= 0); default 10. */
  k?: number;
  /** Teleport probability α in [0, 1]; default 0.1. */
  alpha?: number;
  /**
   * Dropout rate on the edge weights of `Â` in training mode, drawn anew
   * at every step (the paper's "dropout on the adjacency matrix");
   * default 0.
   */
  edgeDropout?: number;
  /** Add the missing self-loops before normalizing; default true. */
  addSelfLoops?: boolean;
  /** Dropout rate on the input in training mode; default 0. */
  inputDropout?: number;
}

/**
 * Personalized-PageRank propagation (APPNP):
 *
 *     Z⁰ = H,   Z^{k+1} = (1 − α) Â_k Z^k + α H,   output Z^K
 *
 * with `Â = gcnNormalize(graph)` (cached per graph). In training mode
 * with `edgeDropout` p > 0, `Â_k` has each edge weight zeroed with
 * probability p and the others divided by 1 − p, drawn at every step from
 * `context.random` (one uniform per edge in CSR order, self-loops
 * included, as PyG's `APPNP` drops its edge weights); otherwise
 * `Â_k = Â`.
 *
 * Input `[N, d]` with N the graph's node count (dense, or sparse:
 * densified), output `[N, d]`. No parameters.
 *
 * LIMITATION: with edge dropout every step builds a new Graph of the
 * masked weights, whose source-ordered CSR (for the backward pass) is
 * rebuilt too: O(N + E) extra work and memory per step.
 */
export class APPNPPropagation implements Layer {
  readonly name: string;
  readonly k: number;
  readonly alpha: number;
  readonly edgeDropout: number;
  readonly addSelfLoops: boolean;
  readonly inputDropout: number;

  constructor(args: APPNPPropagationArgs = {}) {
    const cls = "APPNPPropagation";
    const k = args.k ?? 10;
    if (!Number.isInteger(k) || k < 0) {
      throw new ConfigError(
        `${cls}: k must be an integer >= 0, got ${String(k)}`,
      );
    }
    const alpha = args.alpha ?? 0.1;
    if (typeof alpha !== "number" || !(alpha >= 0 && alpha <= 1)) {
      throw new ConfigError(
        `${cls}: alpha must be a number in [0, 1], got ${String(alpha)}`,
      );
    }
    this.k = k;
    this.alpha = alpha;
    this.edgeDropout = checkRate(cls, "edgeDropout", args.edgeDropout);
    this.addSelfLoops = checkFlag(cls, "addSelfLoops", args.addSelfLoops, true);
    this.inputDropout = checkRate(cls, "inputDropout", args.inputDropout);
    this.name = `APPNPPropagation(K=${k}, α=${alpha})`;
  }

  apply(x: NodeFeatures, context: ForwardContext): tf.Tensor2D {
    const [rows, cols] = featureShape(x);
    if (rows !== context.graph.numNodes) {
      throw new ShapeError(
        `${this.name}: expected one feature row per node (N = ` +
          `${context.graph.numNodes}), got features [${rows}, ${cols}]`,
      );
    }
    const graph = gcnNormalize(context.graph, {
      addSelfLoops: this.addSelfLoops,
    });
    const dropEdges = context.training && this.edgeDropout > 0;
    const alpha = this.alpha;

    return tf.tidy(() => {
      const h = denseFeatures(inputDropout(x, this.inputDropout, context));
      const teleport = alpha === 0 ? null : h.mul(alpha);
      let z = h;
      for (let step = 0; step < this.k; step++) {
        const a = dropEdges
          ? dropEdgeWeights(graph, this.edgeDropout, context.random)
          : graph;
        const spread = propagate(a, z);
        const damped = alpha === 0 ? spread : spread.mul(1 - alpha);
        z = (teleport === null ? damped : damped.add(teleport)) as tf.Tensor2D;
      }
      // K = 0 must still hand the caller a tensor of its own
      return z === x ? z.clone() : z;
    });
  }

  parameters(): Parameter[] {
    return [];
  }

  dispose(): void {}
}

/**
 * The graph with each edge weight zeroed with probability `rate` and the
 * others divided by `1 − rate` (inverted dropout), one uniform per edge in
 * CSR order. Shares the index arrays of `graph`.
 */
function dropEdgeWeights(graph: Graph, rate: number, random: Random): Graph {
  const scale = 1 / (1 - rate);
  const out = new Float32Array(graph.numEdges);
  for (let e = 0; e < out.length; e++) {
    out[e] = random() >= rate ? graph.weight(e) * scale : 0;
  }
  return graph.withWeights(out);
}
