/**
 * Loaders of the real datasets shipped in `experiments/datasets/`: the
 * citation graphs Cora, CiteSeer and PubMed, the karate club, and the
 * digit image sets MNIST and optdigits. Every loader checks the sha256 of
 * each file it reads and the counts written in the folder's README.md,
 * and keeps the parsed result in memory for the rest of the process.
 */

import { ConfigError } from "../../errors.js";
import { loadKarate } from "./karate.js";
import { loadMnist } from "./mnist.js";
import { loadOptdigits } from "./optdigits.js";
import { loadCiteSeer, loadCora, loadPubMed } from "./planetoid.js";
import type { GraphDataset, ImageDataset, LoadOptions } from "./types.js";

export {
  clearDatasetCache,
  DATA_DIR_ENV,
  repositoryDataRoot,
} from "./files.js";
export { type IdxArray, parseIdx } from "./idx.js";
export type { ImageDatasetSpec, ImagePartSpec } from "./imageSet.js";
export { KARATE_SPEC, loadKarate } from "./karate.js";
export { loadMnist, MNIST_SPEC } from "./mnist.js";
export { loadOptdigits, OPTDIGITS_SPEC } from "./optdigits.js";
export {
  CITESEER_SPEC,
  CORA_SPEC,
  loadCiteSeer,
  loadCora,
  loadPubMed,
  PUBMED_SPEC,
} from "./planetoid.js";
export type { GraphDatasetSpec } from "./textGraph.js";
export type {
  BinaryCSR,
  GraphDataset,
  ImageDataset,
  ImageSplit,
  LoadOptions,
  NodeSplit,
} from "./types.js";

/** Names accepted by {@link loadDataset}, graphs first. */
export const DATASET_NAMES = [
  "cora",
  "citeseer",
  "pubmed",
  "karate",
  "mnist",
  "optdigits",
] as const;

/** One of {@link DATASET_NAMES}. */
export type DatasetName = (typeof DATASET_NAMES)[number];

/** The dataset type each name loads. */
export interface DatasetByName {
  cora: GraphDataset;
  citeseer: GraphDataset;
  pubmed: GraphDataset;
  karate: GraphDataset;
  mnist: ImageDataset;
  optdigits: ImageDataset;
}

const LOADERS: {
  [K in DatasetName]: (options?: LoadOptions) => DatasetByName[K];
} = {
  cora: loadCora,
  citeseer: loadCiteSeer,
  pubmed: loadPubMed,
  karate: loadKarate,
  mnist: loadMnist,
  optdigits: loadOptdigits,
};

/** Whether `name` is one of {@link DATASET_NAMES}. */
export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

/**
 * Load a dataset by name (`"cora" | "citeseer" | "pubmed" | "karate" |
 * "mnist" | "optdigits"`), with the same options and errors as its
 * loader. Graph datasets come back as `GraphDataset` (`kind: "graph"`),
 * image sets as `ImageDataset` (`kind: "image"`). Raises `ConfigError`
 * for an unknown name.
 */
export function loadDataset<K extends DatasetName>(
  name: K,
  options?: LoadOptions,
): DatasetByName[K];
export function loadDataset(
  name: string,
  options?: LoadOptions,
): GraphDataset | ImageDataset;
export function loadDataset(
  name: string,
  options: LoadOptions = {},
): GraphDataset | ImageDataset {
  if (!isDatasetName(name)) {
    throw new ConfigError(
      `loadDataset: expected one of ${DATASET_NAMES.join(", ")}, got ` +
        `${JSON.stringify(name)}`,
    );
  }
  return LOADERS[name](options);
}
