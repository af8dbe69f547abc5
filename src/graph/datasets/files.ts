/**
 * Shared machinery of the dataset loaders: where the data lives, reading a
 * file with its sha256 checked, the per-process cache, a strict scanner
 * for text files of integers, and the count checks that raise
 * `DatasetError`.
 */

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DatasetError, GraphFormatError } from "../../errors.js";
import type { LoadOptions } from "./types.js";

/** Environment variable that overrides the data directory. */
export const DATA_DIR_ENV = "MPCL_DATA_DIR";

/** Path of the data copy inside the repository, from its root. */
const REPO_DATA_PATH = join("experiments", "datasets");

let repoDataRoot: string | null | undefined;

/**
 * The repository's `experiments/datasets/` directory, found by walking up
 * from this module's folder (so it works from `src/` as well as from a
 * build directory one level deeper), or null when there is none.
 */
export function repositoryDataRoot(): string | null {
  if (repoDataRoot !== undefined) return repoDataRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  repoDataRoot = null;
  for (let up = 0; up < 8; up++) {
    const candidate = join(dir, REPO_DATA_PATH);
    if (existsSync(candidate)) {
      repoDataRoot = candidate;
      break;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return repoDataRoot;
}

/**
 * The folder of dataset `name`: `options.root`, else `$MPCL_DATA_DIR`,
 * else the repository copy, joined with `name`. Raises `DatasetError`
 * when no root can be found or the folder does not exist.
 */
export function datasetDir(
  fn: string,
  name: string,
  options: LoadOptions,
): string {
  const env = process.env[DATA_DIR_ENV];
  const root =
    options.root ??
    (env !== undefined && env !== "" ? env : repositoryDataRoot());
  if (root === null) {
    throw new DatasetError(
      `${fn}: expected a data directory (option root, $${DATA_DIR_ENV} ` +
        `or ${REPO_DATA_PATH}/ above the loader module), found none`,
    );
  }
  const dir = resolve(root, name);
  if (!existsSync(dir)) {
    throw new DatasetError(
      `${fn}: expected the dataset folder ${dir}, which does not exist`,
    );
  }
  return dir;
}

/** Hex sha256 of a byte array. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Read `file` from `dir`; when `expectedSha256` is not null, check its
 * sha256 first. Raises `DatasetError` for a missing file or a checksum
 * that differs (naming the file, the expected and the actual hash).
 */
export function readVerified(
  fn: string,
  dir: string,
  file: string,
  expectedSha256: string | null,
): Buffer {
  const path = join(dir, file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DatasetError(`${fn}: cannot read ${path}: ${reason}`);
  }
  if (expectedSha256 !== null) {
    const actual = sha256Hex(bytes);
    if (actual !== expectedSha256) {
      throw new DatasetError(
        `${fn}: expected sha256 ${expectedSha256} for ${path}, got ` +
          `${actual} (the file is corrupted or was changed)`,
      );
    }
  }
  return bytes;
}

const cache = new Map<string, unknown>();

/**
 * Return the value cached under `key`, or build, cache and return it.
 * With `useCache` false the value is built afresh and not stored.
 */
export function cached<T>(key: string, useCache: boolean, build: () => T): T {
  if (useCache && cache.has(key)) return cache.get(key) as T;
  const value = build();
  if (useCache) cache.set(key, value);
  return value;
}

/**
 * Forget every dataset parsed so far in this process (frees their
 * memory; the next load reads the files again).
 */
export function clearDatasetCache(): void {
  cache.clear();
}

/** Cache key of one dataset folder under the given options. */
export function cacheKey(name: string, dir: string, opts: LoadOptions): string {
  return `${name}\u0000${dir}\u0000${opts.verifyChecksums !== false}`;
}

/** Raise `DatasetError` unless `received === expected`. */
export function expectCount(
  fn: string,
  what: string,
  expected: number,
  received: number,
): void {
  if (received !== expected) {
    throw new DatasetError(
      `${fn}: expected ${expected} ${what}, got ${received}`,
    );
  }
}

/** Raise `DatasetError` unless the two count lists are equal. */
export function expectCounts(
  fn: string,
  what: string,
  expected: readonly number[],
  received: ArrayLike<number>,
): void {
  const same =
    expected.length === received.length &&
    expected.every((v, i) => v === received[i]);
  if (!same) {
    throw new DatasetError(
      `${fn}: expected ${what} [${expected.join(", ")}], got ` +
        `[${Array.from(received).join(", ")}]`,
    );
  }
}

/** Count how often each class `0 .. numClasses - 1` occurs. */
export function classCounts(
  labels: ArrayLike<number>,
  numClasses: number,
): Int32Array {
  const counts = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c >= 0 && c < numClasses) counts[c]++;
  }
  return counts;
}

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;
const SPACE = 32;
const TAB = 9;
const COMMA = 44;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;
const MAX_INT = 0x7fffffff;

/** How the integers of one line are separated. */
export type Separator = "whitespace" | "comma";

/**
 * A text file of integers split into lines, read without building
 * strings. Lines are 0-based here and 1-based in errors. A final newline
 * does not start an extra line; empty lines elsewhere are kept (they are
 * meaningful, e.g. an all-zero feature row).
 */
export class IntLines {
  /** Number of lines. */
  readonly count: number;
  readonly #fn: string;
  readonly #path: string;
  readonly #bytes: Uint8Array;
  readonly #starts: Int32Array;

  constructor(fn: string, path: string, bytes: Uint8Array) {
    this.#fn = fn;
    this.#path = path;
    this.#bytes = bytes;

    // starts[k] is where line k begins; starts[count] is one past the end
    // of the last line, plus one for its newline (found with the native
    // indexOf, which is much faster than a byte loop on a cold start)
    const newlines: number[] = [];
    for (let i = bytes.indexOf(NEWLINE); i >= 0; ) {
      newlines.push(i);
      i = bytes.indexOf(NEWLINE, i + 1);
    }
    const endsWithNewline =
      bytes.length > 0 && bytes[bytes.length - 1] === NEWLINE;
    const count =
      bytes.length === 0
        ? 0
        : endsWithNewline
          ? newlines.length
          : newlines.length + 1;
    const starts = new Int32Array(count + 1);
    for (let k = 1; k < count; k++) starts[k] = newlines[k - 1] + 1;
    starts[count] = bytes.length + (endsWithNewline ? 0 : 1);
    this.count = count;
    this.#starts = starts;
  }

  /** Whether line k holds nothing but whitespace. */
  isBlank(k: number): boolean {
    const end = this.#end(k);
    for (let i = this.#starts[k]; i < end; i++) {
      const b = this.#bytes[i];
      if (b !== SPACE && b !== TAB && b !== CARRIAGE_RETURN) return false;
    }
    return true;
  }

  /**
   * Parse line k into `out` (its length is reset) and return the number
   * of integers. Whitespace-separated lines may use runs of spaces or
   * tabs; comma-separated lines need exactly one comma between fields.
   * Raises `GraphFormatError` with the line number for anything else.
   */
  ints(k: number, sep: Separator, out: number[]): number {
    const bytes = this.#bytes;
    const end = this.#end(k);
    out.length = 0;
    let i = this.#starts[k];
    const skipSpace = (): void => {
      while (i < end) {
        const b = bytes[i];
        if (b !== SPACE && b !== TAB && b !== CARRIAGE_RETURN) break;
        i++;
      }
    };

    skipSpace();
    while (i < end) {
      // one integer: optional minus sign, then at least one digit
      const tokenStart = i;
      let negative = false;
      if (bytes[i] === MINUS) {
        negative = true;
        i++;
      }
      let value = 0;
      let digits = 0;
      while (i < end && bytes[i] >= ZERO && bytes[i] <= NINE) {
        value = value * 10 + (bytes[i] - ZERO);
        digits++;
        i++;
      }
      if (digits === 0 || value > MAX_INT) {
        this.fail(
          k,
          `expected an integer at column ${tokenStart - this.#starts[k] + 1}`,
        );
      }
      out.push(negative ? -value : value);

      // then the separator
      const afterToken = i;
      skipSpace();
      if (i >= end) break;
      if (sep === "comma") {
        if (bytes[i] !== COMMA) {
          this.fail(k, `expected "," at column ${i - this.#starts[k] + 1}`);
        }
        i++;
        skipSpace();
        if (i >= end) this.fail(k, "expected a value after the last comma");
      } else if (i === afterToken) {
        this.fail(k, `expected a space at column ${i - this.#starts[k] + 1}`);
      }
    }
    return out.length;
  }

  /** Raise `GraphFormatError` for line k, quoting it. */
  fail(k: number, expected: string): never {
    const text = Buffer.from(
      this.#bytes.subarray(this.#starts[k], this.#end(k)),
    ).toString("latin1");
    const quoted = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    throw new GraphFormatError(
      this.#path,
      k + 1,
      `${this.#fn}: ${expected}, got "${quoted}"`,
    );
  }

  /** Index one past the last character of line k (newline excluded). */
  #end(k: number): number {
    return this.#starts[k + 1] - 1;
  }
}
