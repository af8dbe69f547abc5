/**
 * Zachary's karate club (W. W. Zachary, "An Information Flow Model for
 * Conflict and Fission in Small Groups", J. Anthropological Research 33,
 * 1977): 34 members, 78 friendships, and the two factions the club split
 * into. The files are extracted from graphology-generators'
 * `social/karate-club` (see `experiments/datasets/karate/README.md`).
 */

import { type GraphDatasetSpec, loadTextGraph } from "./textGraph.js";
import type { GraphDataset, LoadOptions } from "./types.js";

/** Node 0 leads faction 0 (Mr. Hi), node 33 faction 1 (the Officer). */
const LEADERS = [0, 33];

/** Karate club: what `experiments/datasets/karate/README.md` states. */
export const KARATE_SPEC: GraphDatasetSpec = {
  name: "karate",
  fn: "loadKarate",
  sha256: {
    "edges.txt":
      "2095f3a8d35c292020188d1a0fd641effd209a09bc854973d8d6425604f91f6c",
    "labels.txt":
      "de3400591c6600bf6a2228d5b8f113bc4e5fc55bebafad98a892b6ad045eee9f",
  },
  numNodes: 34,
  numUndirectedEdges: 78,
  numFeatures: 0,
  featureNonZeros: 0,
  numClasses: 2,
  classSizes: [17, 17],
  numUnlabeled: 0,
  split: {
    fixed: {
      train: LEADERS,
      val: [],
      test: Array.from({ length: 34 }, (_, i) => i).filter(
        (i) => !LEADERS.includes(i),
      ),
    },
  },
  trainPerClass: 1,
};

/**
 * Zachary's karate club: 34 nodes, 78 undirected edges (`graph` holds
 * 156 directed), labels 0 = Mr. Hi's faction and 1 = the Officer's
 * faction, 17 nodes each. No node features (`features` and `featureCSR`
 * are null, `numFeatures` 0; use the identity as features if a model
 * needs some).
 *
 * The dataset has no published split; the one returned is the usual
 * semi-supervised demo: train = the two leaders (node 0, label 0, and
 * node 33, label 1), val empty, test = the other 32 nodes.
 *
 * Options and errors as for `loadCora`.
 */
export function loadKarate(options: LoadOptions = {}): GraphDataset {
  return loadTextGraph(KARATE_SPEC, options);
}
