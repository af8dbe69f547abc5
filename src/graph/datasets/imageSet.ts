/**
 * The reader behind every image dataset: reads a train and a test part,
 * each from its own files (checksums pinned in an `ImageDatasetSpec`),
 * hands the bytes to a format-specific parser and checks what the
 * dataset's README states (image counts, size, class sizes).
 */

import { DatasetError } from "../../errors.js";
import {
  cached,
  cacheKey,
  classCounts,
  datasetDir,
  expectCount,
  expectCounts,
  readVerified,
} from "./files.js";
import type { ImageDataset, ImageSplit, LoadOptions } from "./types.js";

/** One part of an image dataset: its files and class sizes. */
export interface ImagePartSpec {
  /** Files handed to the parser, in this order. */
  readonly files: readonly string[];
  /** Images of each class `0 .. C-1`; their sum is the image count. */
  readonly classSizes: readonly number[];
}

/** What an image dataset folder must contain, as its README states it. */
export interface ImageDatasetSpec {
  readonly name: string;
  /** Name of the public loader, used in error messages. */
  readonly fn: string;
  /** sha256 (hex) of every file the loader reads, by file name. */
  readonly sha256: Readonly<Record<string, string>>;
  readonly height: number;
  readonly width: number;
  readonly numClasses: number;
  readonly train: ImagePartSpec;
  readonly test: ImagePartSpec;
  /** Parse one part from its files' bytes (raise on a malformed file). */
  readonly parse: (
    fn: string,
    files: { path: string; bytes: Buffer }[],
  ) => ImageSplit;
}

/**
 * Load, check and (by default) cache the image dataset described by
 * `spec`. Raises `DatasetError` for a missing file, a wrong checksum or
 * a count that differs from the spec; the parser raises
 * `GraphFormatError` for malformed content.
 */
export function loadImageDataset(
  spec: ImageDatasetSpec,
  options: LoadOptions = {},
): ImageDataset {
  const dir = datasetDir(spec.fn, spec.name, options);
  const verify = options.verifyChecksums !== false;
  return cached(
    cacheKey(spec.name, dir, options),
    options.cache !== false,
    () =>
      Object.freeze({
        kind: "image" as const,
        name: spec.name,
        train: readPart(spec, spec.train, dir, verify),
        test: readPart(spec, spec.test, dir, verify),
        height: spec.height,
        width: spec.width,
        numClasses: spec.numClasses,
      }),
  );
}

/** Read, parse and check one part. */
function readPart(
  spec: ImageDatasetSpec,
  part: ImagePartSpec,
  dir: string,
  verify: boolean,
): ImageSplit {
  const { fn, numClasses } = spec;
  const files = part.files.map((file) => {
    const sha = spec.sha256[file];
    if (sha === undefined) {
      throw new DatasetError(`${fn}: no sha256 is pinned for ${file}`);
    }
    const bytes = readVerified(fn, dir, file, verify ? sha : null);
    return { path: `${dir}/${file}`, bytes };
  });
  const split = spec.parse(fn, files);
  const where = part.files.join(" + ");

  // image count, size and class sizes as the spec states them
  const count = part.classSizes.reduce((a, b) => a + b, 0);
  const pixels = spec.height * spec.width;
  expectCount(fn, `images in ${where}`, count, split.count);
  expectCount(fn, `labels in ${where}`, count, split.labels.length);
  expectCount(
    fn,
    `pixel values in ${where}`,
    count * pixels,
    split.images.length,
  );
  for (let i = 0; i < count; i++) {
    const c = split.labels[i];
    if (!(c >= 0 && c < numClasses)) {
      throw new DatasetError(
        `${fn}: expected labels in 0..${numClasses - 1} in ${where}, got ` +
          `${c} for image ${i}`,
      );
    }
  }
  expectCounts(
    fn,
    `class sizes in ${where}`,
    part.classSizes,
    classCounts(split.labels, numClasses),
  );
  return Object.freeze(split);
}
