/**
 * Attentive alignment, the contrastive side of graph attention (Wang et
 * al. 2023, "A Message Passing Perspective on Learning Dynamics of
 * Contrastive Learning", §5; SimCLR-Attn): every anchor's term of
 * InfoNCE or GRACE is weighted by a softmax over the batch of the cosine
 * similarity between the anchor and its positives, computed on detached
 * encoder (or projector) features,
 *
 *   c_i = (1/d_i) Σ_j a_ij cos(h_i, h_j),   w_i = softmax_i(c_i / T),
 *
 * so that pairs the encoder already aligns weigh more, as attention
 * weighs the edges between similar nodes.
 */

import { ConfigError, ShapeError } from "../../errors.js";
import type { Graph } from "../../graph/graph.js";
import type { NetworkOutput } from "../heads.js";

/**
 * The attentive anchor weights of one batch: w (length n, summing to 1)
 * from features h (`[n, k]` row-major, n = the augmentation graph's
 * nodes), in float64. A view without positives gets c_i = 0.
 *
 * @param augmentation A over the n views (weights a_ij ≥ 0).
 * @param features h, read as plain numbers (detached).
 * @param k the width of h.
 * @param temperature T > 0 (default 1).
 * @throws ShapeError when `features` is not n × k; ConfigError for T.
 */
export function attentiveAnchorWeights(
  augmentation: Graph,
  features: ArrayLike<number>,
  k: number,
  temperature = 1,
): Float64Array {
  const fn = "attentiveAnchorWeights";
  if (!(typeof temperature === "number" && temperature > 0)) {
    throw new ConfigError(`${fn}: temperature must be > 0, got ${temperature}`);
  }
  const n = augmentation.numNodes;
  if (features.length !== n * k) {
    throw new ShapeError(
      `${fn}: features must be n × k = ${n} × ${k}, got ${features.length} values`,
    );
  }

  // inverse row norms (a zero row has cosine 0 with everything)
  const inv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += features[i * k + c] ** 2;
    inv[i] = s > 0 ? 1 / Math.sqrt(s) : 0;
  }

  // c_i, the weighted mean cosine to the positives, over T
  const { rowPtr, colIdx } = augmentation;
  const logits = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    let num = 0;
    let den = 0;
    for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
      const j = colIdx[e];
      const a = augmentation.weight(e);
      let dot = 0;
      for (let c = 0; c < k; c++) {
        dot += features[i * k + c] * features[j * k + c];
      }
      num += a * dot * inv[i] * inv[j];
      den += a;
    }
    logits[i] = (den > 0 ? num / den : 0) / temperature;
    if (logits[i] > max) max = logits[i];
  }

  // the softmax over the batch
  let z = 0;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    w[i] = Math.exp(logits[i] - max);
    z += w[i];
  }
  for (let i = 0; i < n; i++) w[i] /= z;
  return w;
}

/**
 * The `anchorWeights` function of a `ContrastiveBatch`: the attentive
 * weights of {@link attentiveAnchorWeights} on the pass's detached
 * `hidden` (encoder) or `projections` features.
 */
export function attentiveAlignment(
  augmentation: Graph,
  options: { temperature?: number; source?: "hidden" | "projections" } = {},
): (out: NetworkOutput) => Float64Array {
  const source = options.source ?? "hidden";
  if (source !== "hidden" && source !== "projections") {
    throw new ConfigError(
      `attentiveAlignment: source must be "hidden" or "projections", got ${String(source)}`,
    );
  }
  return (out) => {
    const h = out[source];
    return attentiveAnchorWeights(
      augmentation,
      h.dataSync(),
      h.shape[1],
      options.temperature ?? 1,
    );
  };
}
