/**
 * Rewired augmentation graphs, the contrastive side of graph rewiring
 * (Wang et al. 2023, "A Message Passing Perspective on Learning Dynamics
 * of Contrastive Learning", §5): besides the views of one sample, pairs
 * of samples that are close in some sense become extra positives, so
 * that the alignment update also passes messages between them. Three
 * sources of pairs over the N samples: the k nearest neighbours in input
 * feature space, the largest entries of a personalized-PageRank diffusion
 * of the data graph (GDC, Gasteiger et al. 2019), or random partners
 * inside the Louvain communities of the feature kNN graph.
 */

import { ConfigError, ShapeError } from "../../errors.js";
import { Graph } from "../../graph/graph.js";
import {
  communityRewire,
  diffusionRewire,
  knnRewire,
  louvainCommunities,
} from "../../graph/rewire/index.js";
import type { Random } from "../../random.js";

/** Options of {@link extraPositiveGraph}. */
export interface ExtraPositiveOptions {
  /** Where the pairs come from. */
  kind: "knn" | "diffusion" | "community";
  /**
   * kNN: neighbours per sample (cosine); diffusion: entries kept per
   * column of the PPR matrix; community: neighbours of the kNN graph the
   * communities are found on. Default 5.
   */
  k?: number;
  /** Teleport probability of the PPR diffusion (default 0.15). */
  alpha?: number;
  /** Louvain resolution (default 1). */
  resolution?: number;
  /** Partners drawn per sample inside its community (default 1). */
  partners?: number;
}

/**
 * The graph of extra positive pairs over N samples: symmetric (both
 * directions of every pair), unweighted, without self-loops or
 * duplicates.
 *
 * - `"knn"`: i — j when either is among the other's k nearest in cosine
 *   distance of the input features (`knnRewire`).
 * - `"diffusion"`: i — j when S[i, j] is among the k largest entries of
 *   column j of the PPR diffusion S of `graph` (`diffusionRewire`, no
 *   self-loops), read as undirected.
 * - `"community"`: Louvain communities (seeded by `random`) of the
 *   k-NN graph, then `partners` random partners per sample within its
 *   community (`communityRewire`, "add-within").
 *
 * @param data `features`, N × d row-major input features (kNN,
 *   community), with `numSamples` N and `dim` d; `graph`, the data graph
 *   (diffusion only).
 * @param options the kind and its options.
 * @param random the seeded stream (community partners).
 * @throws ConfigError for an unknown kind, bad options, or diffusion
 *   without a graph; ShapeError for features that are not N × d.
 */
export function extraPositiveGraph(
  data: {
    features: Float32Array;
    numSamples: number;
    dim: number;
    graph?: Graph;
  },
  options: ExtraPositiveOptions,
  random: Random,
): Graph {
  const fn = "extraPositiveGraph";
  const n = data.numSamples;
  const k = options.k ?? 5;
  if (!Number.isInteger(k) || k < 1) {
    throw new ConfigError(`${fn}: k must be a positive integer, got ${k}`);
  }
  if (data.features.length !== n * data.dim) {
    throw new ShapeError(
      `${fn}: features must be ${n} × ${data.dim}, got ${data.features.length} values`,
    );
  }
  let raw: Graph;
  switch (options.kind) {
    case "knn":
      raw = knnRewire(data.features, n, data.dim, { k, symmetric: true });
      break;
    case "diffusion":
      if (data.graph === undefined) {
        throw new ConfigError(`${fn}: "diffusion" needs the data graph`);
      }
      raw = diffusionRewire(data.graph, {
        kernel: "ppr",
        alpha: options.alpha ?? 0.15,
        sparsify: { topK: k },
        selfLoops: false,
        normalization: "none",
      });
      break;
    case "community": {
      const knn = knnRewire(data.features, n, data.dim, { k, symmetric: true });
      const communities = louvainCommunities(knn, {
        random,
        resolution: options.resolution ?? 1,
      });
      const empty = Graph.fromEdges([], [], { numNodes: n });
      raw = communityRewire(empty, {
        mode: "add-within",
        communities,
        partnersPerNode: options.partners ?? 1,
        random,
      });
      break;
    }
    default:
      throw new ConfigError(
        `${fn}: kind must be "knn", "diffusion" or "community", got ` +
          `${String((options as { kind?: unknown }).kind)}`,
      );
  }
  return symmetricPairs(raw);
}

/** Both directions of every pair i ≠ j of `g`, once each, unweighted. */
function symmetricPairs(g: Graph): Graph {
  const n = g.numNodes;
  const seen = new Set<number>();
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let e = g.rowPtr[i]; e < g.rowPtr[i + 1]; e++) {
      const j = g.colIdx[e];
      if (j === i) continue;
      const a = Math.min(i, j);
      const b = Math.max(i, j);
      const key = a * n + b;
      if (seen.has(key)) continue;
      seen.add(key);
      src.push(a, b);
      dst.push(b, a);
    }
  }
  return Graph.fromEdges(src, dst, { numNodes: n });
}

/**
 * The augmentation graph of a batch with extra positives: over the m·B
 * rows (view-major, row v·B + p is view v of the batch's p-th sample),
 * views of one sample are positives of each other at weight 1 (as
 * `sampledAugmentationGraph`), and for every extra pair (u, w) of
 * samples both in the batch, view a of u and view b ≠ a of w are
 * positives at weight `weight` (cross-view, like the views' own pairs).
 * With one view, extra pairs join the same view's rows.
 *
 * @param samples the batch's sample ids, B of them, distinct.
 * @param extra pairs over all N samples (see {@link extraPositiveGraph}).
 * @throws ConfigError for m < 1, a weight that is not positive, or
 *   repeated or out-of-range sample ids.
 */
export function augmentationWithExtraPositives(
  views: number,
  samples: ArrayLike<number>,
  extra: Graph,
  weight = 1,
): Graph {
  const fn = "augmentationWithExtraPositives";
  if (!Number.isInteger(views) || views < 1) {
    throw new ConfigError(
      `${fn}: views must be a positive integer, got ${views}`,
    );
  }
  if (!(weight > 0 && Number.isFinite(weight))) {
    throw new ConfigError(`${fn}: weight must be positive, got ${weight}`);
  }
  const b = samples.length;
  const n = extra.numNodes;
  const position = new Int32Array(n).fill(-1);
  for (let p = 0; p < b; p++) {
    const s = samples[p];
    if (!Number.isInteger(s) || s < 0 || s >= n || position[s] !== -1) {
      throw new ConfigError(
        `${fn}: samples must be distinct ids in [0, ${n}), got ${s} at ${p}`,
      );
    }
    position[s] = p;
  }

  const src: number[] = [];
  const dst: number[] = [];
  const w: number[] = [];
  const link = (from: number, to: number, value: number) => {
    src.push(from);
    dst.push(to);
    w.push(value);
  };
  for (let p = 0; p < b; p++) {
    // the sample's own views
    for (let a = 0; a < views; a++) {
      for (let c = 0; c < views; c++) {
        if (a !== c) link(c * b + p, a * b + p, 1);
      }
    }

    // its extra partners inside the batch (edge w → u for u = samples[p])
    const u = samples[p];
    for (let e = extra.rowPtr[u]; e < extra.rowPtr[u + 1]; e++) {
      const q = position[extra.colIdx[e]];
      if (q < 0 || q === p) continue;
      for (let a = 0; a < views; a++) {
        for (let c = 0; c < views; c++) {
          if (a !== c || views === 1) link(c * b + q, a * b + p, weight);
        }
      }
    }
  }
  return Graph.fromEdges(src, dst, {
    numNodes: views * b,
    weights: Float32Array.from(w),
  });
}
