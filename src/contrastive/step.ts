/**
 * The contrastive gradient step as message passing (Wang et al. 2023, "A
 * Message Passing Perspective on Learning Dynamics of Contrastive
 * Learning"): the network computes features F of a batch of views, the
 * objective's feature update ΔF = −∂L/∂F is computed by propagation over
 * the augmentation graph (alignment) and the affinity graph (uniformity),
 * and −ΔF is pushed back through the network as the upstream gradient, a
 * vector–Jacobian product. By the chain rule this is the parameter
 * gradient of the loss; {@link contrastiveGradients} computes it either
 * way ("update" or "loss" path), and the tests prove the two equal.
 */

import { tf } from "../backend.js";
import { ConfigError, ShapeError } from "../errors.js";
import type { Graph } from "../graph/graph.js";
import { type RandomOptions, resolveRandom } from "../random.js";
import { sampledAugmentationGraph } from "./augmentation.js";
import type { ContrastiveNetwork, NetworkOutput, ViewInput } from "./heads.js";
import type { ContrastiveObjective, ObjectiveInput } from "./objectives.js";

/** A batch of m views of the same B samples. */
export interface ContrastiveBatch {
  /** The m views; row s of every view is sample s. */
  views: ViewInput[];
  /**
   * The augmentation graph over the m·B rows, view-major (row v·B + s).
   * Default: `sampledAugmentationGraph({ batchSize: B, views: m })`,
   * views of one sample positives of each other.
   */
  augmentation?: Graph;
  /**
   * Per-anchor weights of InfoNCE and GRACE (length m·B), or a function
   * that computes them from this pass's outputs (e.g. SimCLR-Attn's
   * softmax of detached cosines); default 1/(m·B) each.
   */
  anchorWeights?:
    | ArrayLike<number>
    | ((out: NetworkOutput) => ArrayLike<number>);
}

/** Options of {@link contrastiveGradients}. */
export interface ContrastiveGradientsOptions extends RandomOptions {
  /**
   * `"update"` (default): the gradient as the vector–Jacobian product of
   * the network with upstream −ΔF, ΔF from the objective's message
   * passing. `"loss"`: autodiff of the written-out loss.
   */
  path?: "update" | "loss";
  /** Training mode (BatchNorm batch statistics, dropout); default true. */
  training?: boolean;
  /**
   * Also evaluate the loss on the "update" path, for logging (default
   * false: it costs the loss's forward pass, a dense n × n for InfoNCE).
   * The "loss" path always reports it.
   */
  computeLoss?: boolean;
  /**
   * Return detached copies of the pass's outputs (features, targets,
   * hidden, projections), e.g. for a memory bank; default false.
   */
  returnOutputs?: boolean;
}

/** What {@link contrastiveGradients} returns; the caller owns tensors. */
export interface ContrastiveGradients {
  /** ∂L/∂θ for every online parameter, by `Parameter.name`. */
  gradients: Map<string, tf.Tensor>;
  /** The loss L, or null ("update" path without `computeLoss`). */
  loss: number | null;
  /**
   * ‖alignment‖ and ‖uniformity‖ of ΔF (Frobenius), "update" path only
   * (uniformity 0 without negatives); null on the "loss" path.
   */
  updateNorms: { alignment: number; uniformity: number } | null;
  /** Detached outputs of the pass, with `returnOutputs`; else null. */
  outputs: NetworkOutput | null;
}

/**
 * One contrastive gradient: the parameter gradient of the objective on a
 * batch of views, for an optimizer.
 *
 * "update" path, one forward pass and one backward pass:
 *
 *   F = net(views);  ΔF = objective.featureUpdate(F)  (message passing);
 *   ∂L/∂θ = (∂F/∂θ)ᵀ (−ΔF)
 *
 * The VJP is the gradient of the surrogate `−Σ F ⊙ ΔF` with ΔF held
 * constant: a custom operation whose forward pass computes ΔF from F
 * (untaped) and whose gradient is −ΔF. "loss" path: autodiff of
 * `objective.loss(F)`. Both see the same F (same random draws for the
 * same seed) and give the same gradient, up to float32 rounding.
 *
 * NOTE: the "update" path is also the fast one. One GRACE step at Cora's
 * size (2 views × 2708 nodes, sparse 1433-d input, GCN 1433 → 256 → 128,
 * projector 128 → 128 → 128, WASM backend with the native GEMM, on two
 * cores shared with other jobs, load about 20) took 4.4-5.0 s on the
 * "update" path (ΔF alone 2.3-3.4 s, blockwise) and 29 s on the "loss"
 * path (dense 5416 × 5416 logits through TF.js autodiff).
 *
 * SimSiam and BYOL: targets T come from the network ("self": its own
 * stop-gradient projections) or, for "ema" targets, from
 * `network.targetForward` run before the pass (no gradient).
 *
 * @param network encoder and heads (see `ContrastiveNetwork`).
 * @param batch the views, and optionally the augmentation graph and
 *   anchor weights.
 * @param objective the contrastive objective.
 * @param options `path` (default "update"), `training` (default true),
 *   `seed` / `random` for dropout (default seed 0), `computeLoss`,
 *   `returnOutputs`.
 * @throws ConfigError for a bad path or an objective whose targets the
 *   network does not provide; ShapeError for views of different sizes or
 *   an augmentation graph that is not over m·B nodes.
 */
export function contrastiveGradients(
  network: ContrastiveNetwork,
  batch: ContrastiveBatch,
  objective: ContrastiveObjective,
  options: ContrastiveGradientsOptions = {},
): ContrastiveGradients {
  const fn = "contrastiveGradients";
  const path = options.path ?? "update";
  if (path !== "update" && path !== "loss") {
    throw new ConfigError(
      `${fn}: path must be "update" or "loss", got ${String(path)}`,
    );
  }
  if (objective.usesTargets && network.targets === "none") {
    throw new ConfigError(
      `${fn}: objective ${objective.name} needs targets; build the ` +
        'network with targets "self" (SimSiam) or "ema" (BYOL)',
    );
  }
  const views = batch.views;
  if (!Array.isArray(views) || views.length === 0) {
    throw new ShapeError(`${fn}: expected at least one view, got none`);
  }
  const b =
    views[0].x instanceof tf.Tensor ? views[0].x.shape[0] : views[0].x.rows;
  const n = views.length * b;
  const augmentation =
    batch.augmentation ??
    sampledAugmentationGraph({ batchSize: b, views: views.length }).graph;
  if (augmentation.numNodes !== n) {
    throw new ShapeError(
      `${fn}: the augmentation graph must have m·B = ${views.length}·${b} ` +
        `= ${n} nodes, got ${augmentation.numNodes}`,
    );
  }
  const training = options.training ?? true;
  const random = resolveRandom(options);
  const forwardOptions = { training, random };
  const params = network.parameters();
  const variables = params.map((p) => p.variable);

  // BYOL: the EMA target network's features, outside the gradient
  const emaTargets =
    objective.usesTargets && network.targets === "ema"
      ? network.targetForward(views, forwardOptions)
      : null;

  let loss: number | null = null;
  let updateNorms: ContrastiveGradients["updateNorms"] = null;
  let outputs: NetworkOutput | null = null;

  // the input of the objective from one forward pass
  const objectiveInput = (out: NetworkOutput): ObjectiveInput => {
    const weights =
      typeof batch.anchorWeights === "function"
        ? batch.anchorWeights(out)
        : batch.anchorWeights;
    return {
      features: out.features,
      augmentation,
      targets: objective.usesTargets
        ? ((emaTargets ?? out.targets) as tf.Tensor2D)
        : undefined,
      anchorWeights: weights,
    };
  };
  const keepOutputs = (out: NetworkOutput) => {
    if (options.returnOutputs !== true) return;
    const copy = (t: tf.Tensor2D) =>
      tf.keep(tf.tensor2d(t.dataSync(), t.shape));
    outputs = {
      features: copy(out.features),
      targets: out.targets === null ? null : copy(out.targets),
      hidden: copy(out.hidden),
      projections: copy(out.projections),
    };
  };

  try {
    const result = tf.variableGrads(() => {
      const out = network.forward(views, forwardOptions);
      keepOutputs(out);
      const input = objectiveInput(out);
      if (path === "loss") return objective.loss(input);

      // the surrogate −Σ F ⊙ ΔF, with gradient −ΔF in F
      const surrogate = tf.customGrad((f, save) => {
        const features = f as tf.Tensor2D;
        const terms = objective.featureUpdateTerms({ ...input, features });
        const delta =
          terms.uniformity === null
            ? terms.alignment
            : tf.sub(terms.alignment, terms.uniformity);
        updateNorms = {
          alignment: tf.tidy(() => tf.norm(terms.alignment).dataSync()[0]),
          uniformity:
            terms.uniformity === null
              ? 0
              : tf.tidy(
                  () => tf.norm(terms.uniformity as tf.Tensor).dataSync()[0],
                ),
        };
        if (options.computeLoss === true) {
          loss = tf.tidy(
            () => objective.loss({ ...input, features }).dataSync()[0],
          );
        }
        (save as tf.GradSaveFunc)([delta]);
        const value = tf.neg(tf.sum(tf.mul(features, delta)));
        tf.dispose([terms.alignment, terms.uniformity ?? [], delta]);
        return {
          value,
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
            tf.mul(tf.neg(saved[0]), dy),
        };
      });
      return surrogate(out.features) as tf.Scalar;
    }, variables);

    if (path === "loss") loss = result.value.dataSync()[0];
    result.value.dispose();

    // gradients by parameter name
    const gradients = new Map<string, tf.Tensor>();
    for (const p of params) {
      const g = result.grads[p.variable.name];
      if (g !== undefined) gradients.set(p.name, g);
    }
    return { gradients, loss, updateNorms, outputs };
  } finally {
    emaTargets?.dispose();
  }
}
