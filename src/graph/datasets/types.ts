/**
 * The shapes every dataset loader returns: a node-classification graph
 * (`GraphDataset`) or a labelled image set (`ImageDataset`), and the
 * options every loader takes.
 */

import type { Graph } from "../graph.js";

/** Options shared by every loader. */
export interface LoadOptions {
  /**
   * Directory that holds one folder per dataset (`cora/`, `mnist/`, …).
   * Defaults to the environment variable `MPCL_DATA_DIR` when set, else
   * to the repository copy `experiments/datasets/`, found relative to the
   * loader module.
   */
  root?: string;
  /**
   * Whether the sha256 of every file read is checked against the value
   * pinned in the loader (default true). Counts are checked either way;
   * switch this off only for a deliberately edited copy.
   */
  verifyChecksums?: boolean;
  /**
   * Whether the parsed dataset is kept in memory for the rest of the
   * process and handed out again on the next call with the same folder
   * and options (default true). Cached results are shared: treat their
   * arrays as read-only, or pass `cache: false` to get a private copy.
   */
  cache?: boolean;
}

/** A binary sparse matrix in CSR form (all stored entries are 1). */
export interface BinaryCSR {
  /** Row i's entries are `colIdx[rowPtr[i] .. rowPtr[i + 1] - 1]`. */
  readonly rowPtr: Int32Array;
  /** Column of each stored entry, ascending within a row. */
  readonly colIdx: Int32Array;
}

/** A train / validation / test split of node ids, each sorted ascending. */
export interface NodeSplit {
  readonly train: Int32Array;
  readonly val: Int32Array;
  readonly test: Int32Array;
}

/**
 * A node-classification dataset on one undirected graph.
 *
 * `graph` holds both directions of every undirected edge (so
 * `graph.numEdges` is twice the undirected count), no self-loops and no
 * weights. Node ids are `0 .. numNodes - 1` in the order of the files.
 */
export interface GraphDataset {
  readonly kind: "graph";
  /** Dataset name as accepted by `loadDataset`. */
  readonly name: string;
  /** The undirected graph, stored as two directed edges per edge. */
  readonly graph: Graph;
  /** Number of nodes N. */
  readonly numNodes: number;
  /** Number of undirected edges (half of `graph.numEdges`). */
  readonly numUndirectedEdges: number;
  /** Number of feature columns F; 0 when the dataset has no features. */
  readonly numFeatures: number;
  /**
   * Node features, row-major N × F, raw values (0/1 for bag-of-words;
   * not row-normalised), or null when the dataset ships none.
   */
  readonly features: Float32Array | null;
  /** The same binary features as a CSR matrix (N rows), or null. */
  readonly featureCSR: BinaryCSR | null;
  /** Class of every node, `0 .. numClasses - 1`, or -1 for no label. */
  readonly labels: Int32Array;
  /** Number of classes C. */
  readonly numClasses: number;
  /** The standard split of labelled nodes; the three sets are disjoint. */
  readonly split: NodeSplit;
}

/** One part (train or test) of an image dataset. */
export interface ImageSplit {
  /**
   * Pixels, row-major `count × (height · width)`, each image row-major.
   * MNIST: in [0, 1] (raw / 255). optdigits: block counts in [0, 16].
   */
  readonly images: Float32Array;
  /**
   * The integer values as stored in the files, same layout as `images`:
   * 0..255 for MNIST, 0..16 for optdigits.
   */
  readonly raw?: Uint8Array;
  /** Class of every image, `0 .. numClasses - 1`. */
  readonly labels: Int32Array;
  /** Number of images. */
  readonly count: number;
}

/** A labelled image dataset with a fixed train / test division. */
export interface ImageDataset {
  readonly kind: "image";
  /** Dataset name as accepted by `loadDataset`. */
  readonly name: string;
  readonly train: ImageSplit;
  readonly test: ImageSplit;
  /** Image height in pixels. */
  readonly height: number;
  /** Image width in pixels. */
  readonly width: number;
  /** Number of classes (10 for both digit sets). */
  readonly numClasses: number;
}
