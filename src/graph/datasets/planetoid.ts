/**
 * The Planetoid citation graphs Cora, CiteSeer and PubMed with their
 * public split (Yang, Cohen & Salakhutdinov, "Revisiting Semi-Supervised
 * Learning with Graph Embeddings", ICML 2016), in the node order used by
 * the GCN reference code, PyTorch Geometric and DGL. The files are plain
 * text converted from the Planetoid pickles; see each folder's README.md
 * under `experiments/datasets/`.
 */

import { type GraphDatasetSpec, loadTextGraph } from "./textGraph.js";
import type { GraphDataset, LoadOptions } from "./types.js";

/** Cora: what `experiments/datasets/cora/README.md` states. */
export const CORA_SPEC: GraphDatasetSpec = {
  name: "cora",
  fn: "loadCora",
  sha256: {
    "edges.txt":
      "75e53a6dd7ff2ead7b2fcc3e31e6319debdb33f5537eeb24054e16535cfa277e",
    "features.txt":
      "03d7ce13c1e6fae5bbcbba8ab5e366f9aa269a608796acac4df9047d07795d8a",
    "labels.txt":
      "8f929c6f3a938980341b2bcfa82a96e69e8d494d0c741396fd4bd87f460385c4",
    "split_public.json":
      "a84c56270b2dbe845ba00af13fbbe06487a86c2f27fd0b5402039f5c199921ce",
  },
  numNodes: 2708,
  numUndirectedEdges: 5278,
  numFeatures: 1433,
  featureNonZeros: 49216,
  numClasses: 7,
  classSizes: [351, 217, 418, 818, 426, 298, 180],
  numUnlabeled: 0,
  split: { train: 140, val: 500, test: 1000 },
  trainPerClass: 20,
};

/** CiteSeer: what `experiments/datasets/citeseer/README.md` states. */
export const CITESEER_SPEC: GraphDatasetSpec = {
  name: "citeseer",
  fn: "loadCiteSeer",
  sha256: {
    "edges.txt":
      "1a689c95807a38c60f4ac5ed7a8a8f4565e9b5084b83d8ce62fa1e452e0c71cf",
    "features.txt":
      "837d5dc8f1eb127530493f961272f16451d28de71b5c647953b1d5ace7c7240d",
    "labels.txt":
      "03ec73b7634b911922ff78983676c9a577590e8e00c1b097ed4970e933ad714d",
    "split_public.json":
      "259e61235d2ba4648848d5923d83088408ed14c899b63e9f255807760b738028",
  },
  numNodes: 3327,
  numUndirectedEdges: 4552,
  numFeatures: 3703,
  featureNonZeros: 105165,
  numClasses: 6,
  classSizes: [249, 590, 668, 701, 596, 508],
  numUnlabeled: 15,
  split: { train: 120, val: 500, test: 1000 },
  trainPerClass: 20,
};

/** PubMed (structure only): what its README.md states. */
export const PUBMED_SPEC: GraphDatasetSpec = {
  name: "pubmed",
  fn: "loadPubMed",
  sha256: {
    "edges.txt":
      "bb00685e25e15de27f397579309b12ca25a58fc7531d757ec6aeffd58c9ce054",
    "labels.txt":
      "d48a582e64f106deb746656dc18a446f13c11b421d1f7de19301c4415a6b354d",
    "split_public.json":
      "1e581b14e1dd98931e636d3fde1b9ddaa44580d0e3e7603fa1bd9fb2f981653b",
  },
  numNodes: 19717,
  numUndirectedEdges: 44324,
  numFeatures: 0,
  featureNonZeros: 0,
  numClasses: 3,
  classSizes: [4103, 7739, 7875],
  numUnlabeled: 0,
  split: { train: 60, val: 500, test: 1000 },
  trainPerClass: 20,
};

/**
 * Cora (Planetoid): 2,708 papers, 5,278 undirected citation edges
 * (`graph` holds 10,556 directed), 1,433 binary bag-of-words features
 * (raw 0/1, not row-normalised; GCN-style code usually row-normalises),
 * 7 classes, every node labelled. Public split: 140 train (20 per
 * class), 500 validation, 1,000 test.
 *
 * Options: see `LoadOptions` (data root, checksum check, cache). Raises
 * `DatasetError` for a missing file, a wrong sha256 or a wrong count, and
 * `GraphFormatError` for a malformed line.
 */
export function loadCora(options: LoadOptions = {}): GraphDataset {
  return loadTextGraph(CORA_SPEC, options);
}

/**
 * CiteSeer (Planetoid): 3,327 papers, 4,552 undirected edges (self-loops
 * of the raw graph removed; 48 isolated nodes), 3,703 binary features,
 * 6 classes. 15 nodes have neither features nor a label (label -1, zero
 * feature row) and lie in no split set. Public split: 120 train (20 per
 * class), 500 validation, 1,000 test.
 *
 * Options and errors as for `loadCora`.
 */
export function loadCiteSeer(options: LoadOptions = {}): GraphDataset {
  return loadTextGraph(CITESEER_SPEC, options);
}

/**
 * PubMed (Planetoid), structure, labels and split only: 19,717 papers,
 * 44,324 undirected edges, 3 classes, every node labelled. Public split:
 * 60 train (20 per class), 500 validation, 1,000 test.
 *
 * LIMITATION: the 500-dimensional TF-IDF node features are not shipped
 * (too large for the repository), so `features` and `featureCSR` are null
 * and `numFeatures` is 0. Results are then not comparable with published
 * PubMed numbers, which all use those features; use this graph for
 * structure-only methods and scaling tests.
 *
 * Options and errors as for `loadCora`.
 */
export function loadPubMed(options: LoadOptions = {}): GraphDataset {
  return loadTextGraph(PUBMED_SPEC, options);
}
