/**
 * TensorFlow.js backend selection.
 *
 * Order of preference: `tensorflow` (native, from the optional packages
 * `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`, present only where
 * their install could download libtensorflow), then `wasm` (SIMD,
 * single-threaded in Node), then `cpu`. The environment variable
 * `MPCL_BACKEND` (`tensorflow`, `wasm` or `cpu`) overrides the choice.
 *
 * mpcl's sparse kernels run on typed arrays whatever the backend; the
 * backend serves dense tensor work (matrix products, element-wise ops).
 */

import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";
// NOTE: imported for its side effect, which registers the `wasm` backend;
// a named import that is never used would be dropped by the bundler.
import "@tensorflow/tfjs-backend-wasm";
import { ConfigError } from "./errors.js";

export { tf };

/** Names accepted by {@link initBackend} and `MPCL_BACKEND`. */
export type BackendName = "tensorflow" | "wasm" | "cpu";

const BACKENDS: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];

/** What {@link initBackend} chose, for `mpcl info` and reports. */
export interface BackendInfo {
  /** The active TensorFlow.js backend. */
  readonly backend: string;
  /** Which native package provided `tensorflow`, if any. */
  readonly nativePackage: string | null;
  /** Threads the dense backend uses (WASM in Node: 1). */
  readonly threads: number;
  /** The version of `@tensorflow/tfjs`. */
  readonly tfjsVersion: string;
}

let initialised: BackendInfo | null = null;
let nativePackage: string | null = null;

/**
 * Load the first native TensorFlow package that loads; returns its name
 * (or null) and, for each package that is installed but would not load
 * (a GPU build without its CUDA libraries, say), why.
 */
async function loadNative(): Promise<{
  name: string | null;
  failures: string[];
}> {
  const failures: string[] = [];
  for (const name of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      await import(name);
      return { name, failures };
    } catch (err) {
      // not installed (its install needs internet access): go on quietly;
      // installed but broken: keep the reason for the error below
      const code = (err as { code?: string }).code;
      const missing =
        (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
        String((err as Error).message).includes(name);
      if (!missing) {
        failures.push(`${name} failed to load: ${(err as Error).message}`);
      }
    }
  }
  return { name: null, failures };
}

/**
 * Pick and initialise the backend once; later calls return the first
 * answer. `preferred` (or `MPCL_BACKEND`) names a backend to insist on: a
 * `ConfigError` is raised when it is unknown or cannot start.
 */
export async function initBackend(
  preferred?: BackendName,
): Promise<BackendInfo> {
  if (initialised !== null) return initialised;
  const asked = preferred ?? process.env.MPCL_BACKEND;
  if (asked !== undefined && asked !== "") {
    if (!BACKENDS.includes(asked as BackendName)) {
      throw new ConfigError(
        `initBackend: MPCL_BACKEND must be one of ${BACKENDS.join(", ")}, ` +
          `got '${asked}'`,
      );
    }
  }
  const wanted = (asked || undefined) as BackendName | undefined;

  // the native backend registers itself when its package loads
  if (wanted === undefined || wanted === "tensorflow") {
    const native = await loadNative();
    nativePackage = native.name;
    if (wanted === "tensorflow" && nativePackage === null) {
      throw new ConfigError(
        "initBackend: MPCL_BACKEND=tensorflow, but " +
          (native.failures.length > 0
            ? native.failures.join("; ")
            : "neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node " +
              "is installed"),
      );
    }
  }
  const order: BackendName[] =
    wanted !== undefined
      ? [wanted]
      : nativePackage !== null
        ? ["tensorflow", "wasm", "cpu"]
        : ["wasm", "cpu"];
  let chosen: string | null = null;
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        chosen = name;
        break;
      }
    } catch {
      // this backend failed to start: try the next one
    }
  }
  if (chosen === null) {
    throw new ConfigError(
      `initBackend: no TensorFlow.js backend could start (tried ${order.join(
        ", ",
      )})`,
    );
  }
  initialised = {
    backend: chosen,
    nativePackage: chosen === "tensorflow" ? nativePackage : null,
    threads: chosen === "wasm" ? 1 : chosen === "cpu" ? 1 : 0,
    tfjsVersion: tfjsVersion(),
  };
  return initialised;
}

/** The installed version of `@tensorflow/tfjs`. */
export function tfjsVersion(): string {
  const require = createRequire(import.meta.url);
  try {
    return require("@tensorflow/tfjs/package.json").version as string;
  } catch {
    return tf.version.tfjs;
  }
}
