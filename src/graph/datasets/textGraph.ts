/**
 * The reader behind every graph dataset: a folder of plain-text files
 * (written for this project from the original releases; each folder's
 * README.md gives provenance and format):
 *
 * - `edges.txt`: one undirected edge `u v` per line, `u < v`, no
 *   duplicates, no self-loops;
 * - `labels.txt`: N lines, the class `0 .. C-1` of node i, or -1;
 * - `features.txt` (optional): N lines, the ascending column indices where
 *   node i's binary feature is 1 (an empty line is an all-zero row);
 * - `split_public.json` (optional): `{"train": [...], "val": [...],
 *   "test": [...]}`.
 *
 * Every count the README states is pinned in a `GraphDatasetSpec` and
 * checked on load.
 */

import { DatasetError, GraphFormatError } from "../../errors.js";
import { Graph } from "../graph.js";
import {
  cached,
  cacheKey,
  classCounts,
  datasetDir,
  expectCount,
  expectCounts,
  IntLines,
  readVerified,
} from "./files.js";
import type {
  BinaryCSR,
  GraphDataset,
  LoadOptions,
  NodeSplit,
} from "./types.js";

/** What a graph dataset folder must contain, as its README states it. */
export interface GraphDatasetSpec {
  /** Dataset and folder name. */
  readonly name: string;
  /** Name of the public loader, used in error messages. */
  readonly fn: string;
  /** sha256 (hex) of every file the loader reads, by file name. */
  readonly sha256: Readonly<Record<string, string>>;
  readonly numNodes: number;
  /** Undirected edges in `edges.txt`. */
  readonly numUndirectedEdges: number;
  /** Feature columns; 0 when there is no `features.txt`. */
  readonly numFeatures: number;
  /** Non-zero entries of the binary feature matrix. */
  readonly featureNonZeros: number;
  readonly numClasses: number;
  /** Number of nodes of each class `0 .. C-1`. */
  readonly classSizes: readonly number[];
  /** Nodes with label -1. */
  readonly numUnlabeled: number;
  /**
   * Sizes of the split read from `split_public.json`, or a fixed split
   * given in code when the folder has no split file.
   */
  readonly split:
    | { readonly train: number; readonly val: number; readonly test: number }
    | {
        readonly fixed: {
          readonly train: readonly number[];
          readonly val: readonly number[];
          readonly test: readonly number[];
        };
      };
  /** Exact number of training nodes of each class. */
  readonly trainPerClass: number;
}

/**
 * Load, check and (by default) cache the graph dataset described by
 * `spec`. Raises `DatasetError` for a missing file, a wrong checksum or a
 * count that differs from the spec, and `GraphFormatError` (with path
 * and line) for a malformed line.
 */
export function loadTextGraph(
  spec: GraphDatasetSpec,
  options: LoadOptions = {},
): GraphDataset {
  const dir = datasetDir(spec.fn, spec.name, options);
  return cached(
    cacheKey(spec.name, dir, options),
    options.cache !== false,
    () => parseTextGraph(spec, dir, options.verifyChecksums !== false),
  );
}

/** Read every file of the folder and assemble the dataset. */
function parseTextGraph(
  spec: GraphDatasetSpec,
  dir: string,
  verify: boolean,
): GraphDataset {
  const { fn } = spec;
  const read = (file: string): [Buffer, string] => {
    const sha = spec.sha256[file];
    if (sha === undefined) {
      throw new DatasetError(`${fn}: no sha256 is pinned for ${file}`);
    }
    return [readVerified(fn, dir, file, verify ? sha : null), `${dir}/${file}`];
  };

  const labels = readLabels(spec, ...read("labels.txt"));
  const graph = readEdges(spec, ...read("edges.txt"));

  let features: Float32Array | null = null;
  let featureCSR: BinaryCSR | null = null;
  if (spec.numFeatures > 0) {
    featureCSR = readFeatures(spec, ...read("features.txt"));
    features = densify(featureCSR, spec.numFeatures);
  }

  const split =
    "fixed" in spec.split
      ? {
          train: Int32Array.from(spec.split.fixed.train),
          val: Int32Array.from(spec.split.fixed.val),
          test: Int32Array.from(spec.split.fixed.test),
        }
      : readSplit(spec, ...read("split_public.json"));
  checkSplit(spec, split, labels);

  return Object.freeze({
    kind: "graph" as const,
    name: spec.name,
    graph,
    numNodes: spec.numNodes,
    numUndirectedEdges: spec.numUndirectedEdges,
    numFeatures: spec.numFeatures,
    features,
    featureCSR,
    labels,
    numClasses: spec.numClasses,
    split: Object.freeze(split),
  });
}

/** `labels.txt`: one class id (or -1) per node. */
function readLabels(
  spec: GraphDatasetSpec,
  bytes: Buffer,
  path: string,
): Int32Array {
  const { fn, numNodes, numClasses } = spec;
  const lines = new IntLines(fn, path, bytes);
  expectCount(fn, `label lines in ${path}`, numNodes, lines.count);

  const labels = new Int32Array(numNodes);
  const row: number[] = [];
  for (let i = 0; i < numNodes; i++) {
    const c = lines.ints(i, "whitespace", row) === 1 ? row[0] : -2;
    if (c < -1 || c >= numClasses) {
      lines.fail(i, `expected one class id in -1..${numClasses - 1}`);
    }
    labels[i] = c;
  }

  const unlabeled = labels.reduce((n, c) => n + (c === -1 ? 1 : 0), 0);
  expectCount(fn, "unlabeled nodes", spec.numUnlabeled, unlabeled);
  expectCounts(
    fn,
    "class sizes",
    spec.classSizes,
    classCounts(labels, numClasses),
  );
  return labels;
}

/** `edges.txt`: undirected edges `u v`, u < v, made into both directions. */
function readEdges(spec: GraphDatasetSpec, bytes: Buffer, path: string): Graph {
  const { fn, numNodes } = spec;
  const lines = new IntLines(fn, path, bytes);
  expectCount(
    fn,
    `edge lines in ${path}`,
    spec.numUndirectedEdges,
    lines.count,
  );

  // edge k is stored as k (u → v) and m + k (v → u)
  const m = lines.count;
  const src = new Int32Array(2 * m);
  const dst = new Int32Array(2 * m);
  const row: number[] = [];
  for (let k = 0; k < m; k++) {
    const ok = lines.ints(k, "whitespace", row) === 2;
    const u = row[0];
    const v = row[1];
    if (!ok || u < 0 || u >= v || v >= numNodes) {
      lines.fail(k, `expected two node ids u < v < ${numNodes}`);
    }
    src[k] = u;
    dst[k] = v;
    src[m + k] = v;
    dst[m + k] = u;
  }
  const graph = Graph.fromEdges(src, dst, { numNodes });

  // NOTE: sources are sorted within each CSR row, and u < v on every line
  // rules out the reversed copy, so a duplicate is two equal neighbours
  for (let i = 0; i < numNodes; i++) {
    for (let e = graph.rowPtr[i] + 1; e < graph.rowPtr[i + 1]; e++) {
      if (graph.colIdx[e] === graph.colIdx[e - 1]) {
        const j = graph.colIdx[e];
        throw new DatasetError(
          `${fn}: expected each edge once in ${path}, got ` +
            `${Math.min(i, j)} ${Math.max(i, j)} more than once`,
        );
      }
    }
  }
  return graph;
}

/** `features.txt`: ascending column indices of each node's 1 entries. */
function readFeatures(
  spec: GraphDatasetSpec,
  bytes: Buffer,
  path: string,
): BinaryCSR {
  const { fn, numNodes, numFeatures } = spec;
  const lines = new IntLines(fn, path, bytes);
  expectCount(fn, `feature lines in ${path}`, numNodes, lines.count);

  const rowPtr = new Int32Array(numNodes + 1);
  let colIdx = new Int32Array(spec.featureNonZeros);
  let nnz = 0;
  const row: number[] = [];
  for (let i = 0; i < numNodes; i++) {
    const n = lines.ints(i, "whitespace", row);
    for (let t = 0; t < n; t++) {
      const j = row[t];
      if (j < 0 || j >= numFeatures || (t > 0 && j <= row[t - 1])) {
        lines.fail(i, `expected ascending column ids in 0..${numFeatures - 1}`);
      }
      if (nnz === colIdx.length) {
        // more entries than the spec says: grow, and let the count fail
        const grown = new Int32Array(2 * colIdx.length + 16);
        grown.set(colIdx);
        colIdx = grown;
      }
      colIdx[nnz++] = j;
    }
    rowPtr[i + 1] = nnz;
  }
  expectCount(fn, "feature non-zeros", spec.featureNonZeros, nnz);
  return { rowPtr, colIdx };
}

/** Row-major dense N × F copy of a binary CSR matrix. */
function densify(csr: BinaryCSR, numCols: number): Float32Array {
  const rows = csr.rowPtr.length - 1;
  const dense = new Float32Array(rows * numCols);
  for (let i = 0; i < rows; i++) {
    for (let e = csr.rowPtr[i]; e < csr.rowPtr[i + 1]; e++) {
      dense[i * numCols + csr.colIdx[e]] = 1;
    }
  }
  return dense;
}

/** `split_public.json`: three arrays of node ids. */
function readSplit(
  spec: GraphDatasetSpec,
  bytes: Buffer,
  path: string,
): NodeSplit {
  const { fn } = spec;
  const text = bytes.toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new GraphFormatError(
      path,
      jsonErrorLine(text, reason),
      `${fn}: expected valid JSON, got a parse error: ${reason}`,
    );
  }

  const out: Record<string, Int32Array> = {};
  for (const key of ["train", "val", "test"]) {
    const ids = (parsed as Record<string, unknown> | null)?.[key];
    if (!Array.isArray(ids) || !ids.every((v) => Number.isInteger(v))) {
      throw new GraphFormatError(
        path,
        undefined,
        `${fn}: expected "${key}" to be an array of integer node ids, ` +
          `got ${JSON.stringify(ids)?.slice(0, 60)}`,
      );
    }
    out[key] = Int32Array.from(ids as number[]);
  }
  return { train: out.train, val: out.val, test: out.test };
}

/** The 1-based line of a `JSON.parse` error that gives a position. */
function jsonErrorLine(text: string, reason: string): number | undefined {
  const match = /position (\d+)/.exec(reason);
  if (match === null) return undefined;
  const position = Number(match[1]);
  let line = 1;
  for (let i = 0; i < position && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) line++;
  }
  return line;
}

/**
 * The split's sizes match the spec; ids are in range, sorted, labelled
 * and disjoint; train holds `trainPerClass` nodes of every class.
 */
function checkSplit(
  spec: GraphDatasetSpec,
  split: NodeSplit,
  labels: Int32Array,
): void {
  const { fn, numNodes, numClasses } = spec;
  if (!("fixed" in spec.split)) {
    expectCount(fn, "training nodes", spec.split.train, split.train.length);
    expectCount(fn, "validation nodes", spec.split.val, split.val.length);
    expectCount(fn, "test nodes", spec.split.test, split.test.length);
  }

  const owner = new Int8Array(numNodes);
  const parts: [string, Int32Array][] = [
    ["train", split.train],
    ["val", split.val],
    ["test", split.test],
  ];
  parts.forEach(([part, ids], p) => {
    for (let k = 0; k < ids.length; k++) {
      const i = ids[k];
      if (i < 0 || i >= numNodes || (k > 0 && i <= ids[k - 1])) {
        throw new DatasetError(
          `${fn}: expected ${part} ids ascending in 0..${numNodes - 1}, ` +
            `got ${i} at position ${k}`,
        );
      }
      if (owner[i] !== 0) {
        throw new DatasetError(
          `${fn}: expected disjoint split sets, got node ${i} in ` +
            `${parts[owner[i] - 1][0]} and ${part}`,
        );
      }
      owner[i] = p + 1;
      if (labels[i] < 0) {
        throw new DatasetError(
          `${fn}: expected labelled ${part} nodes, got unlabelled node ${i}`,
        );
      }
    }
  });

  const perClass = classCounts(
    Array.from(split.train, (i) => labels[i]),
    numClasses,
  );
  expectCounts(
    fn,
    "training nodes per class",
    new Array(numClasses).fill(spec.trainPerClass),
    perClass,
  );
}
