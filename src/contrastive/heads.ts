/**
 * The heads of contrastive networks and their composition: the projector
 * g (SimCLR, Chen et al. 2020), the predictor q of SimSiam (Chen & He
 * 2021) and BYOL (Grill et al. 2020), ℓ2 normalization onto the sphere,
 * a stop-gradient, and BYOL's target network, an exponential moving
 * average of the online weights, `ξ ← τ ξ + (1 − τ) θ`.
 *
 * {@link ContrastiveNetwork} chains encoder → projector → predictor →
 * normalization for a batch of views and hands the objective its
 * features F and, for SimSiam and BYOL, its targets T.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import { Graph } from "../graph/graph.js";
import type { NodeFeatures } from "../mp/linear.js";
import type { ForwardContext, Layer, Parameter } from "../nn/module.js";
import { prefixParameters } from "../nn/module.js";
import type { Random, RandomOptions } from "../random.js";
import { MLPEncoder } from "./encoders.js";

// ---------------------------------------------------------------------------
// projector and predictor
// ---------------------------------------------------------------------------

/** Arguments of {@link projectionHead}. */
export interface ProjectionHeadArgs extends RandomOptions {
  /** Width of the encoder output h. */
  inputDim: number;
  /** Width of the hidden layers; default `inputDim`. */
  hiddenDim?: number;
  /** Width of the projection z; default 128 (SimCLR). */
  outputDim?: number;
  /** Number of Linear layers, at least 1; default 2 (SimCLR). */
  layers?: number;
  /** BatchNorm after the hidden layers; default true. */
  batchNorm?: boolean;
  /**
   * BatchNorm after the last layer: `"none"` (default), `"affine"`
   * (the authors' SimCLR-Attn code) or `"plain"` (SimSiam, no γ, β).
   */
  lastNorm?: "none" | "affine" | "plain";
}

/**
 * The projector g: `layers` Linear layers, hidden ones followed by
 * BatchNorm (optional) and ReLU, the last one linear (optionally
 * followed by BatchNorm):
 *
 *   z = W_L · relu(BN(W_{L−1} · … relu(BN(W_1 h))))
 *
 * SimCLR: `{inputDim: d, outputDim: 128}` (d → d → 128); SimSiam's:
 * `{inputDim: d, hiddenDim: 2048, outputDim: 2048, layers: 3,
 * lastNorm: "plain"}`. Input `[N, inputDim]`, output `[N, outputDim]`.
 *
 * @throws ConfigError for a width or layer count that is not a positive
 *   integer.
 */
export function projectionHead(args: ProjectionHeadArgs): MLPEncoder {
  const layers = args.layers ?? 2;
  if (!Number.isInteger(layers) || layers < 1) {
    throw new ConfigError(
      `projectionHead: layers must be a positive integer, got ${layers}`,
    );
  }
  const hidden = args.hiddenDim ?? args.inputDim;
  const dims = [args.inputDim];
  for (let l = 1; l < layers; l++) dims.push(hidden);
  dims.push(args.outputDim ?? 128);
  return new MLPEncoder({
    dims,
    batchNorm: args.batchNorm ?? true,
    activateLast: false,
    lastNorm: args.lastNorm ?? "none",
    seed: args.seed,
    random: args.random,
    name: `Projector(${dims.join("→")})`,
  });
}

/** Arguments of {@link predictionHead}. */
export interface PredictionHeadArgs extends RandomOptions {
  /** Width of the projection z (input and, by default, output). */
  inputDim: number;
  /** Bottleneck width; default `inputDim / 4` rounded (SimSiam: 512). */
  hiddenDim?: number;
  /** Output width; default `inputDim`. */
  outputDim?: number;
}

/**
 * The predictor q of SimSiam and BYOL: `p = W_2 relu(BN(W_1 z)) + b_2`,
 * a bottleneck MLP (SimSiam: 2048 → 512 → 2048). Input `[N, inputDim]`,
 * output `[N, outputDim]`.
 */
export function predictionHead(args: PredictionHeadArgs): MLPEncoder {
  const hidden = args.hiddenDim ?? Math.max(1, Math.round(args.inputDim / 4));
  const dims = [args.inputDim, hidden, args.outputDim ?? args.inputDim];
  return new MLPEncoder({
    dims,
    batchNorm: true,
    activateLast: false,
    seed: args.seed,
    random: args.random,
    name: `Predictor(${dims.join("→")})`,
  });
}

// ---------------------------------------------------------------------------
// normalization and stop-gradient
// ---------------------------------------------------------------------------

/**
 * ℓ2 normalization of the rows, `y_i = x_i / max(‖x_i‖, ε)`
 * (PyTorch's `F.normalize`, ε = 1e-12): features on the unit sphere, as
 * SimCLR's cosine similarity and SimSiam's and BYOL's cosine losses use
 * them. Differentiable; `[N, d]` to `[N, d]`.
 */
export function l2Normalize(x: tf.Tensor2D, epsilon = 1e-12): tf.Tensor2D {
  return tf.tidy(() => {
    const squared = tf.sum(tf.square(x), 1, true);
    return tf.mul(x, tf.rsqrt(tf.maximum(squared, epsilon * epsilon)));
  });
}

/**
 * The identity with a zero gradient: `stopGradient(x)` is a constant for
 * autodiff (PyTorch's `detach`), for SimSiam's target branch in the
 * written-out loss. Returns a new tensor.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const op = tf.customGrad((input) => ({
    value: (input as tf.Tensor).clone(),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }));
  return op(x) as T;
}

// ---------------------------------------------------------------------------
// EMA target network
// ---------------------------------------------------------------------------

/**
 * BYOL's momentum schedule: `τ_k = 1 − (1 − τ_base) (cos(π k / K) + 1)/2`,
 * from τ_base at step 0 to 1 at step K.
 *
 * @throws ConfigError unless 0 ≤ step ≤ totalSteps, totalSteps ≥ 1 and
 *   τ_base ∈ [0, 1].
 */
export function byolMomentum(
  base: number,
  step: number,
  totalSteps: number,
): number {
  if (!(base >= 0 && base <= 1)) {
    throw new ConfigError(`byolMomentum: base must lie in [0, 1], got ${base}`);
  }
  if (!(Number.isInteger(totalSteps) && totalSteps >= 1)) {
    throw new ConfigError(
      `byolMomentum: totalSteps must be an integer >= 1, got ${totalSteps}`,
    );
  }
  if (!(step >= 0 && step <= totalSteps)) {
    throw new ConfigError(
      `byolMomentum: step must lie in [0, ${totalSteps}], got ${step}`,
    );
  }
  return 1 - ((1 - base) * (Math.cos((Math.PI * step) / totalSteps) + 1)) / 2;
}

/**
 * Exponential moving average of parameters, BYOL's target update
 *
 *   ξ ← τ ξ + (1 − τ) θ
 *
 * from the online parameters θ into the target parameters ξ, matched by
 * name (the target network is built like the online one: same layers,
 * same names and shapes). The target's variables are not trained: leave
 * them out of the optimizer.
 */
export class ExponentialMovingAverage {
  readonly target: readonly Parameter[];
  readonly online: readonly Parameter[];
  /** The default τ of {@link ExponentialMovingAverage.update}. */
  readonly momentum: number;
  readonly #pairs: Array<[tf.Variable, tf.Variable]>;

  /**
   * @param target ξ, e.g. `targetNetwork.parameters()`.
   * @param online θ, same names and shapes.
   * @param momentum τ ∈ [0, 1], default 0.996 (BYOL's τ_base).
   * @throws ShapeError when a name is missing or a shape differs;
   *   ConfigError for τ outside [0, 1].
   */
  constructor(
    target: readonly Parameter[],
    online: readonly Parameter[],
    momentum = 0.996,
  ) {
    const fn = "ExponentialMovingAverage";
    checkMomentum(fn, momentum);
    this.momentum = momentum;
    this.target = [...target];
    this.online = [...online];
    const byName = new Map(online.map((p) => [p.name, p.variable]));
    if (byName.size !== target.length) {
      throw new ShapeError(
        `${fn}: target and online networks must have the same parameters, ` +
          `got ${target.length} and ${online.length}`,
      );
    }
    this.#pairs = target.map((p) => {
      const theta = byName.get(p.name);
      if (theta === undefined) {
        throw new ShapeError(
          `${fn}: online network has no parameter '${p.name}'`,
        );
      }
      const a = p.variable.shape;
      const b = theta.shape;
      if (a.length !== b.length || a.some((s, i) => s !== b[i])) {
        throw new ShapeError(
          `${fn}: '${p.name}' has shape [${a}] in the target and [${b}] ` +
            "online",
        );
      }
      return [p.variable, theta];
    });
  }

  /** ξ ← θ: start the target as a copy of the online network. */
  copy(): void {
    for (const [xi, theta] of this.#pairs) xi.assign(theta);
  }

  /** ξ ← τ ξ + (1 − τ) θ with τ = `momentum` (default the constructor's). */
  update(momentum = this.momentum): void {
    checkMomentum("ExponentialMovingAverage.update", momentum);
    for (const [xi, theta] of this.#pairs) {
      tf.tidy(() =>
        xi.assign(tf.add(tf.mul(xi, momentum), tf.mul(theta, 1 - momentum))),
      );
    }
  }
}

function checkMomentum(fn: string, tau: number): void {
  if (!(typeof tau === "number" && tau >= 0 && tau <= 1)) {
    throw new ConfigError(`${fn}: momentum must lie in [0, 1], got ${tau}`);
  }
}

// ---------------------------------------------------------------------------
// the network
// ---------------------------------------------------------------------------

/** One view of a batch: B rows, and the graph for GNN encoders. */
export interface ViewInput {
  /** Features `[B, d]`, dense or sparse; row s is sample s. */
  x: NodeFeatures;
  /**
   * The graph the encoder passes messages over (GNN encoders; each view
   * may have its own). Default: B nodes without edges.
   */
  graph?: Graph;
}

/** The outputs of {@link ContrastiveNetwork.forward}, rows view-major. */
export interface NetworkOutput {
  /** F `[m·B, k]`: what the objective sees (row v·B + s). */
  features: tf.Tensor2D;
  /**
   * T `[m·B, k]` for SimSiam (`targets: "self"`): the normalized
   * projections behind a stop-gradient; null otherwise.
   */
  targets: tf.Tensor2D | null;
  /** The encoder outputs h `[m·B, d]`. */
  hidden: tf.Tensor2D;
  /** The projections z `[m·B, k']` (h itself without a projector). */
  projections: tf.Tensor2D;
}

/** Options of {@link ContrastiveNetwork.forward}. */
export interface NetworkForwardOptions {
  /** Training mode (BatchNorm batch statistics, dropout). */
  training: boolean;
  /** Source of the pass's random draws. */
  random: Random;
}

/** Arguments of {@link ContrastiveNetwork}. */
export interface ContrastiveNetworkArgs {
  /** f: h = f(x). */
  encoder: Layer;
  /** g: z = g(h); default none (z = h). */
  projector?: Layer | null;
  /** q: p = q(z) (SimSiam, BYOL); default none (p = z). */
  predictor?: Layer | null;
  /** ℓ2-normalize the objective's inputs F (and T); default true. */
  normalize?: boolean;
  /**
   * Where SimSiam / BYOL targets come from: `"none"` (default),
   * `"self"` (SimSiam: the network's own normalized projections, behind a
   * stop-gradient) or `"ema"` (BYOL: `targetEncoder` and
   * `targetProjector`, run by {@link ContrastiveNetwork.targetForward}).
   */
  targets?: "none" | "self" | "ema";
  /** The target encoder ξ_f (same architecture as the encoder). */
  targetEncoder?: Layer;
  /** The target projector ξ_g (same architecture as the projector). */
  targetProjector?: Layer | null;
  /** τ of the EMA target, default 0.996. */
  momentum?: number;
}

/**
 * Encoder, heads and normalization for a batch of views:
 *
 *   h = f(x),  z = g(h),  p = q(z),  F = p / ‖p‖,
 *   T = stopGradient(z / ‖z‖)      (targets "self", SimSiam)
 *   T = ξ_g(ξ_f(x)) / ‖·‖          (targets "ema", BYOL, no gradient)
 *
 * Each view runs through the layers separately (BatchNorm statistics per
 * view, as SimSiam and BYOL compute them), the outputs stacked
 * view-major: row v·B + s is view v of sample s, the node order of
 * `sampledAugmentationGraph`. Parameters: `encoder.*`, `projector.*`,
 * `predictor.*` (the online network; the EMA target's parameters are not
 * among them).
 */
export class ContrastiveNetwork {
  readonly encoder: Layer;
  readonly projector: Layer | null;
  readonly predictor: Layer | null;
  readonly normalize: boolean;
  readonly targets: "none" | "self" | "ema";
  readonly targetEncoder: Layer | null;
  readonly targetProjector: Layer | null;
  /** The EMA from the online encoder and projector, for "ema" targets. */
  readonly ema: ExponentialMovingAverage | null;

  /**
   * @throws ConfigError for an unknown targets kind or an "ema" network
   *   without a target encoder (or with a projector but no target
   *   projector); ShapeError when the target's parameters do not match.
   */
  constructor(args: ContrastiveNetworkArgs) {
    const fn = "ContrastiveNetwork";
    this.encoder = args.encoder;
    this.projector = args.projector ?? null;
    this.predictor = args.predictor ?? null;
    this.normalize = args.normalize ?? true;
    const targets = args.targets ?? "none";
    if (!["none", "self", "ema"].includes(targets)) {
      throw new ConfigError(
        `${fn}: targets must be "none", "self" or "ema", got ${String(targets)}`,
      );
    }
    this.targets = targets;
    this.targetEncoder = args.targetEncoder ?? null;
    this.targetProjector = args.targetProjector ?? null;
    if (targets === "ema") {
      if (this.targetEncoder === null) {
        throw new ConfigError(`${fn}: "ema" targets need a targetEncoder`);
      }
      if ((this.projector === null) !== (this.targetProjector === null)) {
        throw new ConfigError(
          `${fn}: the target network needs a projector exactly when the ` +
            "online one has one",
        );
      }
      this.ema = new ExponentialMovingAverage(
        this.#targetParameters(),
        this.#onlineBranchParameters(),
        args.momentum ?? 0.996,
      );
      this.ema.copy();
    } else {
      this.ema = null;
    }
  }

  /** The trainable (online) parameters. */
  parameters(): Parameter[] {
    const out = this.#onlineBranchParameters();
    if (this.predictor !== null) {
      out.push(...prefixParameters("predictor", this.predictor.parameters()));
    }
    return out;
  }

  /** Encoder and projector parameters (the part the EMA follows). */
  #onlineBranchParameters(): Parameter[] {
    const out = prefixParameters("encoder", this.encoder.parameters());
    if (this.projector !== null) {
      out.push(...prefixParameters("projector", this.projector.parameters()));
    }
    return out;
  }

  #targetParameters(): Parameter[] {
    const out = prefixParameters(
      "encoder",
      (this.targetEncoder as Layer).parameters(),
    );
    if (this.targetProjector !== null) {
      out.push(
        ...prefixParameters("projector", this.targetProjector.parameters()),
      );
    }
    return out;
  }

  /**
   * The online pass over m views of B rows each (see the class comment).
   * The caller owns the four outputs.
   *
   * @throws ShapeError for no views or views of different row counts.
   */
  forward(
    views: readonly ViewInput[],
    options: NetworkForwardOptions,
  ): NetworkOutput {
    const b = checkViews("ContrastiveNetwork.forward", views);
    const hs: tf.Tensor2D[] = [];
    const zs: tf.Tensor2D[] = [];
    const ps: tf.Tensor2D[] = [];
    tf.tidy(() => {
      for (const view of views) {
        const context = viewContext(view, b, options);
        // NOTE: encoders take sparse features too; Layer types x as dense
        const h = this.encoder.apply(view.x as tf.Tensor2D, context);
        const z =
          this.projector === null ? h : this.projector.apply(h, context);
        const p =
          this.predictor === null ? z : this.predictor.apply(z, context);
        hs.push(tf.keep(h));
        zs.push(z === h ? z : tf.keep(z));
        ps.push(p === z ? p : tf.keep(p));
      }
    });
    const out = tf.tidy(() => {
      const hidden = tf.concat(hs, 0);
      const projections = tf.concat(zs, 0);
      const predictions = tf.concat(ps, 0);
      const features = this.normalize
        ? l2Normalize(predictions)
        : predictions.clone();
      let targets: tf.Tensor2D | null = null;
      if (this.targets === "self") {
        targets = stopGradient(
          this.normalize ? l2Normalize(projections) : projections,
        );
      }
      tf.dispose(Array.from(new Set([...hs, ...zs, ...ps])));
      const result: NetworkOutput = {
        features,
        targets,
        hidden,
        projections,
      };
      return result as unknown as tf.TensorContainer;
    });
    return out as unknown as NetworkOutput;
  }

  /**
   * BYOL's targets T `[m·B, k]`: the EMA target encoder and projector on
   * the views, normalized; no gradient flows (run it outside gradient
   * computations).
   *
   * @throws ConfigError unless the network has "ema" targets.
   */
  targetForward(
    views: readonly ViewInput[],
    options: NetworkForwardOptions,
  ): tf.Tensor2D {
    if (this.targets !== "ema" || this.targetEncoder === null) {
      throw new ConfigError(
        `ContrastiveNetwork.targetForward: the network has ` +
          `"${this.targets}" targets, not "ema"`,
      );
    }
    const b = checkViews("ContrastiveNetwork.targetForward", views);
    const encoder = this.targetEncoder;
    const projector = this.targetProjector;
    return tf.tidy(() => {
      const zs = views.map((view) => {
        const context = viewContext(view, b, options);
        const h = encoder.apply(view.x as tf.Tensor2D, context);
        return projector === null ? h : projector.apply(h, context);
      });
      const z = tf.concat(zs, 0) as tf.Tensor2D;
      return this.normalize ? l2Normalize(z) : z;
    });
  }

  /** Frees every layer (target network included). */
  dispose(): void {
    this.encoder.dispose();
    this.projector?.dispose();
    this.predictor?.dispose();
    this.targetEncoder?.dispose();
    this.targetProjector?.dispose();
  }
}

/** Rows B shared by all views; ShapeError otherwise. */
function checkViews(fn: string, views: readonly ViewInput[]): number {
  if (!Array.isArray(views) || views.length === 0) {
    throw new ShapeError(`${fn}: expected at least one view, got none`);
  }
  const rows = views.map((v) =>
    v.x instanceof tf.Tensor ? v.x.shape[0] : v.x.rows,
  );
  if (rows.some((r) => r !== rows[0])) {
    throw new ShapeError(
      `${fn}: every view must have the same B rows, got [${rows}]`,
    );
  }
  return rows[0];
}

const edgeless = new Map<number, Graph>();

/** The forward context of one view (an edgeless graph when none). */
function viewContext(
  view: ViewInput,
  b: number,
  options: NetworkForwardOptions,
): ForwardContext {
  let graph = view.graph;
  if (graph === undefined) {
    graph = edgeless.get(b);
    if (graph === undefined) {
      graph = Graph.fromEdges([], [], { numNodes: b });
      edgeless.set(b, graph);
    }
  }
  return { graph, training: options.training, random: options.random };
}
