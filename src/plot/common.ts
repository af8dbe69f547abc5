/**
 * What the spec builders of this folder share: the theme (font sizes
 * readable at the size figures are written), the autosize rule that makes
 * a figure exactly as large as asked, and the checks on input arrays.
 */

import { ConfigError, ShapeError } from "../errors.js";

/** The Vega-Lite schema the builders declare. */
export const VEGA_LITE_SCHEMA =
  "https://vega.github.io/schema/vega-lite/v6.json";

/**
 * The theme of mpcl figures: larger text than Vega's defaults, light
 * grid, no frame around the plot area.
 */
export const FIGURE_CONFIG = {
  font: "sans-serif",
  title: { fontSize: 15, subtitleFontSize: 12, anchor: "start" },
  axis: {
    labelFontSize: 11,
    titleFontSize: 13,
    titleFontWeight: "normal",
    gridColor: "#e6e6e6",
  },
  legend: {
    labelFontSize: 12,
    titleFontSize: 12,
    symbolSize: 120,
    labelLimit: 320,
  },
  view: { stroke: null },
} as const;

/** Autosize so that `width` × `height` is the whole figure. */
export const FIT_AUTOSIZE = {
  type: "fit",
  contains: "padding",
} as const;

/** Size of a figure in pixels (before the render scale). */
export interface FigureSize {
  /** Width of the whole figure. */
  width?: number;
  /** Height of the whole figure. */
  height?: number;
}

/**
 * Checks a figure dimension: a finite number of at least 50 pixels, or
 * undefined for `fallback`.
 */
export function dimension(
  caller: string,
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 50) {
    throw new ConfigError(
      `${caller}: expected ${name} ≥ 50 pixels, received ${value}`,
    );
  }
  return value;
}

/**
 * Copies `values` to a plain array (JSON keeps no typed arrays), throwing
 * `ConfigError` at the first NaN or ±Infinity, with `what` naming the
 * array ("series \"loss\"") and the index of the value.
 */
export function finiteValues(
  caller: string,
  what: string,
  values: ArrayLike<number>,
): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new ConfigError(
        `${caller}: expected finite numbers in ${what}, received ` +
          `${value} at index ${i}`,
      );
    }
    out[i] = value;
  }
  return out;
}

/** Throws `ShapeError` unless `length` equals `expected`. */
export function sameLength(
  caller: string,
  what: string,
  length: number,
  expected: number,
): void {
  if (length !== expected) {
    throw new ShapeError(
      `${caller}: expected ${what} of length ${expected}, received ${length}`,
    );
  }
}

/** The `title` of a spec, with its subtitle when there is one. */
export function title(
  text: string,
  subtitle?: string,
): { text: string; subtitle?: string } {
  return subtitle === undefined ? { text } : { text, subtitle };
}
