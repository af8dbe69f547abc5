/**
 * Loader of mpcl's optional native kernels: the C++ addon in `native/`,
 * which `npm install` builds with node-gyp where a compiler and the Node
 * headers are present (`scripts/build-native.mjs`). The addon computes the
 * same float32 operations in the same order as the TypeScript kernels of
 * `kernels.ts`, split over a few threads, so its results are bit-identical
 * to theirs; `kernels.ts` uses it whenever it loads.
 *
 * Environment:
 * - `MPCL_KERNELS`: `native` insists on the addon (a
 *   `NativeKernelsUnavailableError` is raised when it is missing),
 *   `ts` (or `typescript`) forces the TypeScript kernels, unset or `auto`
 *   picks the addon when it loads.
 * - `MPCL_THREADS`: threads of the native kernels (default: the number of
 *   cores, at most 8).
 * - `MPCL_NATIVE_ADDON`: path of the addon binary, to load another build.
 */

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";

/**
 * Version of the addon's calling convention. The addon reports the one it
 * was built with; a binary built from other sources is not used.
 */
export const NATIVE_ABI_VERSION = 3;

/** Most threads a kernel call may use (the addon's own limit too). */
export const MAX_KERNEL_THREADS = 64;

/**
 * Status codes returned by the addon's entry points: 0 is success, the
 * others name the input that was rejected before any memory was touched.
 */
export const NativeStatus = {
  ok: 0,
  badColumn: 1,
  badRowPtr: 2,
  badArg: 3,
  badShape: 4,
  noMemory: 5,
} as const;

/**
 * The addon's entry points. Arrays are used in place (no copies); every
 * output must be allocated by the caller; the last argument is the thread
 * count; each returns a {@link NativeStatus} code.
 */
export interface NativeKernels {
  /** Rows `[rowStart, rowEnd)` of `out = A · X`, as `spmmRows`. */
  spmm(
    rowPtr: Int32Array,
    colIdx: Int32Array,
    weights: Float32Array | null,
    x: Float32Array,
    d: number,
    out: Float32Array,
    rowStart: number,
    rowEnd: number,
    threads: number,
  ): number;
  /** Max (isMin 0) or min (isMin 1) with arg, as `segmentExtreme`. */
  segmentExtreme(
    rowPtr: Int32Array,
    colIdx: Int32Array,
    weights: Float32Array | null,
    x: Float32Array,
    d: number,
    isMin: number,
    out: Float32Array,
    arg: Int32Array,
    threads: number,
  ): number;
  /** Per-entry dot products, as `edgeDot`. */
  edgeDot(
    rowPtr: Int32Array,
    colIdx: Int32Array,
    a: Float32Array,
    b: Float32Array,
    d: number,
    dots: Float32Array,
    threads: number,
  ): number;
  /** Backward of max/min into zero-filled `dx` and `dw`. */
  extremeBackward(
    rowPtr: Int32Array,
    colIdx: Int32Array,
    weights: Float32Array | null,
    arg: Int32Array,
    x: Float32Array | null,
    dy: Float32Array,
    d: number,
    dx: Float32Array,
    dw: Float32Array | null,
    threads: number,
  ): number;
  /**
   * Dense product `C (+)= op(A) · op(B)` of row-major float32 matrices:
   * op(A) is `[m, k]` (`a` holds `[m, k]`, or `[k, m]` when `transA` is
   * 1), op(B) is `[k, n]` (`b` holds `[k, n]`, or `[n, k]` when `transB`
   * is 1), `c` is `[m, n]`, overwritten unless `accumulate` is 1. Threads
   * own disjoint rows of C and every element is one chain of
   * multiply-adds over k in order, so the bits do not depend on the thread
   * count; the `avx2` variant fuses each multiply-add (FMA), the
   * `baseline` one rounds the product and the sum like the TypeScript
   * reference `gemmReference` of `src/mp/linear.ts`.
   */
  gemm(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    m: number,
    n: number,
    k: number,
    transA: number,
    transB: number,
    accumulate: number,
    threads: number,
  ): number;
  /**
   * Counter-based dropout: `out[i] = x[i] · scale` when the hash of
   * `(i, seed)` is at least `threshold` (a uint32), else 0; `x` null gives
   * the mask itself. `x` may be `out`. Same bits as `dropoutInto` of
   * `src/mp/linear.ts`, whatever the thread count.
   */
  dropout(
    x: Float32Array | null,
    out: Float32Array,
    seed: number,
    threshold: number,
    scale: number,
    threads: number,
  ): number;
  /** The calling convention the binary was built with. */
  readonly abiVersion: number;
  /**
   * The kernel variants this CPU runs, best first: `avx2` (x86-64 with
   * GCC) and `baseline` (4-lane vectors: SSE2, NEON).
   */
  readonly simdLevels: readonly string[];
  /** The variant in use (the best one unless {@link setSimd} chose). */
  simd(): string;
  /**
   * Use another variant for later calls; false when this CPU does not
   * run it. All variants give the same bits (tests run each).
   */
  setSimd(level: string): boolean;
}

/** Raised when `MPCL_KERNELS=native` but the addon cannot be loaded. */
export class NativeKernelsUnavailableError extends ConfigError {}

/** Which kernels run, for `mpcl info` and benchmark reports. */
export interface KernelInfo {
  /** `native` when the addon is in use, else `typescript`. */
  readonly implementation: "native" | "typescript";
  /** Threads a large kernel call uses (1 for TypeScript). */
  readonly threads: number;
  /** Instruction set of the native loops, null for TypeScript. */
  readonly simd: string | null;
  /** Why the TypeScript kernels run, null when native ones do. */
  readonly reason: string | null;
  /** Path of the addon binary that was looked for. */
  readonly addonPath: string;
}

/**
 * Where the addon is loaded from: `MPCL_NATIVE_ADDON` when set, else
 * where `scripts/build-native.mjs` puts it
 * (`native/build/Release/mpcl_kernels.node`).
 */
export function nativeAddonPath(): string {
  const custom = process.env.MPCL_NATIVE_ADDON;
  if (custom !== undefined && custom !== "") return custom;
  return fileURLToPath(
    new URL("../../native/build/Release/mpcl_kernels.node", import.meta.url),
  );
}

interface Selection {
  readonly kernels: NativeKernels | null;
  readonly reason: string | null;
}

let selection: Selection | null = null;
let threadOverride: number | null = null;

/** The value of `MPCL_KERNELS`, checked. */
function requestedImplementation(): "auto" | "native" | "typescript" {
  const raw = (process.env.MPCL_KERNELS ?? "").trim().toLowerCase();
  if (raw === "" || raw === "auto") return "auto";
  if (raw === "native") return "native";
  if (raw === "ts" || raw === "typescript") return "typescript";
  throw new ConfigError(
    "nativeKernels: MPCL_KERNELS must be one of native, ts, typescript, " +
      `auto, got '${process.env.MPCL_KERNELS}'`,
  );
}

/** Load the addon, or say why it cannot be used. */
function loadAddon(path: string): Selection {
  if (!existsSync(path)) {
    return {
      kernels: null,
      reason: `addon is not built (${path} is missing; run npm run build:native)`,
    };
  }
  let mod: NativeKernels;
  try {
    const require = createRequire(import.meta.url);
    mod = require(path) as NativeKernels;
  } catch (err) {
    const why = err instanceof Error ? err.message.split("\n")[0] : `${err}`;
    return { kernels: null, reason: `addon failed to load: ${why}` };
  }
  if (mod.abiVersion !== NATIVE_ABI_VERSION) {
    return {
      kernels: null,
      reason:
        `addon is stale (ABI ${mod.abiVersion}, expected ` +
        `${NATIVE_ABI_VERSION}; run npm run build:native)`,
    };
  }
  return { kernels: mod, reason: null };
}

/**
 * The native kernels, or null when the TypeScript ones must run (forced by
 * `MPCL_KERNELS=ts`, or the addon is missing, stale or fails to load).
 * The choice is made once per process (see {@link resetKernelSelection}).
 * Raises `NativeKernelsUnavailableError` when `MPCL_KERNELS=native` and
 * the addon cannot be used, `ConfigError` for an unknown `MPCL_KERNELS`.
 */
export function nativeKernels(): NativeKernels | null {
  if (selection === null) {
    const wanted = requestedImplementation();
    const path = nativeAddonPath();
    const loaded =
      wanted === "typescript"
        ? { kernels: null, reason: "MPCL_KERNELS=ts" }
        : loadAddon(path);
    if (wanted === "native" && loaded.kernels === null) {
      throw new NativeKernelsUnavailableError(
        `nativeKernels: MPCL_KERNELS=native, but the ${loaded.reason}`,
      );
    }
    selection = loaded;
  }
  return selection.kernels;
}

/**
 * Forget the choice made by {@link nativeKernels} and any thread count set
 * by {@link setKernelThreads}, so that the environment is read again (for
 * tests).
 */
export function resetKernelSelection(): void {
  selection = null;
  threadOverride = null;
}

/** Parse `MPCL_THREADS`; undefined when unset. */
function envThreads(): number | undefined {
  const raw = process.env.MPCL_THREADS;
  if (raw === undefined || raw.trim() === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_KERNEL_THREADS) {
    throw new ConfigError(
      `kernelThreads: MPCL_THREADS must be an integer in ` +
        `[1, ${MAX_KERNEL_THREADS}], got '${raw}'`,
    );
  }
  return n;
}

/**
 * Threads a native kernel call may use: the value given to
 * {@link setKernelThreads}, else `MPCL_THREADS`, else the number of cores
 * up to 8. Small calls use fewer (the addon starts a thread only for
 * about 500,000 multiply-adds per thread). Results do not depend on it.
 */
export function kernelThreads(): number {
  if (threadOverride !== null) return threadOverride;
  return envThreads() ?? Math.min(availableParallelism(), 8);
}

/**
 * Set the thread count of the native kernels for this process (an integer
 * in [1, 64]); null goes back to `MPCL_THREADS` or the default. Raises
 * `ConfigError` for anything else.
 */
export function setKernelThreads(threads: number | null): void {
  if (threads !== null) {
    if (
      !Number.isInteger(threads) ||
      threads < 1 ||
      threads > MAX_KERNEL_THREADS
    ) {
      throw new ConfigError(
        `setKernelThreads: threads must be an integer in ` +
          `[1, ${MAX_KERNEL_THREADS}], got ${threads}`,
      );
    }
  }
  threadOverride = threads;
}

/** Which kernels this process uses, and with how many threads. */
export function kernelInfo(): KernelInfo {
  const kernels = nativeKernels();
  const reason = selection?.reason ?? null;
  return kernels === null
    ? {
        implementation: "typescript",
        threads: 1,
        simd: null,
        reason,
        addonPath: nativeAddonPath(),
      }
    : {
        implementation: "native",
        threads: kernelThreads(),
        simd: kernels.simd(),
        reason: null,
        addonPath: nativeAddonPath(),
      };
}
