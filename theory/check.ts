/**
 * The framework of the theory checks: each check states one result of
 * Wang et al. (2023), "A Message Passing Perspective on Learning Dynamics
 * of Contrastive Learning", as a claim in one sentence, runs it on seeded
 * synthetic data, and returns the number the theory predicts, the number
 * measured, the tolerance between them, pass or fail, and the Vega-Lite
 * specs of its figures. Checks return data only; `run.ts` writes the
 * figures and the report, and the command line prints.
 */

import { ConfigError } from "../src/errors.js";
import type { VegaLiteSpec } from "../src/plot/render.js";

/** How large a check's problem is. */
export type CheckSize = "small" | "full";

/** Options of {@link TheoryCheck.run}. */
export interface CheckOptions {
  /**
   * `"small"` (default): a few seconds, the size the test suite runs;
   * `"full"`: the size of the report, under 20 s per check.
   */
  size?: CheckSize;
  /** Seed of every random draw of the check (default 0). */
  seed?: number;
  /**
   * A relative error deliberately put into the theory's prediction
   * (default 0); each check says where it enters. For tests: a check that
   * still passes with a wrong prediction would be a defect.
   */
  perturbation?: number;
}

/** One figure of a check: its file name (no extension) and its spec. */
export interface CheckFigure {
  /** File name without extension, e.g. `"04-singular-values"`. */
  name: string;
  /** The Vega-Lite spec; `run.ts` renders it to SVG and PNG. */
  spec: VegaLiteSpec;
}

/** What a check returns. */
export interface CheckResult {
  /** The check's id (see {@link TheoryCheck.id}). */
  id: string;
  /** The claim, one sentence. */
  claim: string;
  /** The value the theory predicts. */
  predicted: number | string;
  /** The value measured. */
  measured: number | string;
  /** The tolerance between them, in words and numbers. */
  tolerance: string;
  /** Whether the measured value agrees with the prediction. */
  pass: boolean;
  /** Further numbers worth reporting (sizes, seeds, errors). */
  details?: Record<string, number | string>;
  /** The figures, as specs. */
  figures: CheckFigure[];
}

/** One executable check of a theoretical result. */
export interface TheoryCheck {
  /** The number of the result, `"1"`, `"4"`, … (no leading zero). */
  id: string;
  /** A short title. */
  title: string;
  /** The claim, one sentence. */
  claim: string;
  /** Run the check. */
  run(options?: CheckOptions): Promise<CheckResult>;
}

/** The options with their defaults filled in, checked. */
export interface ResolvedCheckOptions {
  /** See {@link CheckOptions.size}. */
  size: CheckSize;
  /** See {@link CheckOptions.seed}. */
  seed: number;
  /** See {@link CheckOptions.perturbation}. */
  perturbation: number;
}

/**
 * Fill in the defaults of {@link CheckOptions} (size "small", seed 0,
 * perturbation 0). Raises `ConfigError`, naming `fn`, for an unknown size,
 * a seed that is not an integer, or a perturbation that is not finite.
 */
export function resolveCheckOptions(
  fn: string,
  options: CheckOptions = {},
): ResolvedCheckOptions {
  const size = options.size ?? "small";
  if (size !== "small" && size !== "full") {
    throw new ConfigError(
      `${fn}: size must be "small" or "full", got ${JSON.stringify(size)}`,
    );
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) {
    throw new ConfigError(`${fn}: seed must be an integer, got ${seed}`);
  }
  const perturbation = options.perturbation ?? 0;
  if (!Number.isFinite(perturbation)) {
    throw new ConfigError(
      `${fn}: perturbation must be finite, got ${perturbation}`,
    );
  }
  return { size, seed, perturbation };
}

/**
 * `|a − b| / max(|b|, tiny)`: the relative error of a against the
 * reference b (tiny = 1e-300 keeps a zero reference finite).
 */
export function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

/** A number in the short form the report prints (4 significant digits). */
export function formatNumber(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e5
    ? String(Number(x.toPrecision(4)))
    : x.toExponential(2);
}
