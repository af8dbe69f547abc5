/**
 * Line charts: one or more series over a shared x axis, with a legend
 * naming each series; the figure of a curve measured against its
 * prediction (loss, eigengap, decay rate, residual) in the theory checks.
 */

import { ConfigError } from "../errors.js";
import {
  dimension,
  FIGURE_CONFIG,
  FIT_AUTOSIZE,
  type FigureSize,
  finiteValues,
  sameLength,
  title,
  VEGA_LITE_SCHEMA,
} from "./common.js";
import type { VegaLiteSpec } from "./render.js";

/** One curve of a {@link lineChart}. */
export interface LineSeries {
  /** Its name in the legend; names must be distinct. */
  name: string;
  /** Its y values, one per x value. */
  values: ArrayLike<number>;
  /** Its own x values (default: the chart's `x.values`). */
  x?: ArrayLike<number>;
  /** Draw it dashed (default false), e.g. for a predicted curve. */
  dashed?: boolean;
}

/** Arguments of {@link lineChart}. */
export interface LineChartArgs extends FigureSize {
  /** Title above the chart. */
  title: string;
  /** A second line under the title (default none). */
  subtitle?: string;
  /** The x axis: its title and the x values shared by the series. */
  x: { label: string; values: ArrayLike<number> };
  /**
   * The y axis title (default: the series name when there is one series,
   * otherwise "value").
   */
  y?: { label: string };
  /** The curves, drawn in this order and listed so in the legend. */
  series: readonly LineSeries[];
  /** Logarithmic y axis (default false); every value must be > 0. */
  logY?: boolean;
  /** Logarithmic x axis (default false); every x must be > 0. */
  logX?: boolean;
  /**
   * Where the legend goes (default: "right", or "bottom" when a series
   * name is longer than 16 characters, so the plot keeps its width).
   */
  legend?: "right" | "bottom";
  /**
   * Mark each data point with a dot (default: when no series has more
   * than 40 points).
   */
  points?: boolean;
}

/**
 * Builds the Vega-Lite spec of a line chart with one line per series,
 * a legend of the series names, axis titles from `x.label`
 * and `y.label`, and size `width` × `height` for the whole figure
 * (default 480 × 300, taller by 24 per series with a bottom legend).
 * Values may be typed arrays; they are copied. A y title longer than
 * the plot is cut with an ellipsis (Vega estimates text widths headless,
 * generously), so keep axis titles short.
 *
 * Throws `ConfigError` on NaN or ±Infinity (naming the series and the
 * index), non-positive values on a log axis, no series, or duplicate
 * names; `ShapeError` when a series' length differs from its x values'.
 */
export function lineChart(args: LineChartArgs): VegaLiteSpec {
  const caller = "lineChart";
  const width = dimension(caller, "width", args.width, 480);
  if (args.series.length === 0) {
    throw new ConfigError(`${caller}: expected at least one series`);
  }
  const names = args.series.map((s) => s.name);
  if (new Set(names).size !== names.length) {
    throw new ConfigError(
      `${caller}: expected distinct series names, received ` +
        JSON.stringify(names),
    );
  }
  const sharedX = finiteValues(caller, "x.values", args.x.values);

  // Long-format rows: one per (series, point), checked as they are made.
  const rows: { series: string; x: number; y: number }[] = [];
  let longest = 0;
  for (const series of args.series) {
    const what = `series "${series.name}"`;
    const xs =
      series.x === undefined
        ? sharedX
        : finiteValues(caller, `the x values of ${what}`, series.x);
    const ys = finiteValues(caller, what, series.values);
    sameLength(caller, what, ys.length, xs.length);
    longest = Math.max(longest, ys.length);
    for (let i = 0; i < ys.length; i++) {
      if (args.logY && ys[i] <= 0) {
        throw new ConfigError(
          `${caller}: expected values > 0 in ${what} for a log y axis, ` +
            `received ${ys[i]} at index ${i}`,
        );
      }
      if (args.logX && xs[i] <= 0) {
        throw new ConfigError(
          `${caller}: expected x values > 0 in ${what} for a log x ` +
            `axis, received ${xs[i]} at index ${i}`,
        );
      }
      rows.push({ series: series.name, x: xs[i], y: ys[i] });
    }
  }

  const yLabel = args.y?.label ?? (names.length === 1 ? names[0] : "value");
  const anyDashed = args.series.some((s) => s.dashed);
  const orient =
    args.legend ??
    (Math.max(...names.map((n) => n.length)) > 16 ? "bottom" : "right");
  // NOTE: a bottom legend laid out "vertical" overflows the fitted size
  // and pushes the title out; "horizontal" with one column does not.
  const height = dimension(
    caller,
    "height",
    args.height,
    orient === "bottom" ? 300 + 24 * names.length : 300,
  );
  const legend = {
    title: null,
    orient,
    direction: orient === "bottom" ? "horizontal" : "vertical",
    columns: 1,
    symbolType: "stroke",
    symbolStrokeWidth: 2.5,
  } as const;
  const strokeDash = anyDashed
    ? {
        strokeDash: {
          field: "series",
          type: "nominal",
          scale: {
            domain: names,
            range: args.series.map((s) => (s.dashed ? [6, 4] : [1, 0])),
          },
          legend,
        },
      }
    : {};

  return {
    $schema: VEGA_LITE_SCHEMA,
    title: title(args.title, args.subtitle),
    width,
    height,
    autosize: FIT_AUTOSIZE,
    config: FIGURE_CONFIG,
    data: { values: rows },
    mark: {
      type: "line",
      strokeWidth: 2,
      point: args.points ?? longest <= 40,
    },
    encoding: {
      x: {
        field: "x",
        type: "quantitative",
        title: args.x.label,
        scale: args.logX ? { type: "log" } : { zero: false, nice: false },
      },
      y: {
        field: "y",
        type: "quantitative",
        title: yLabel,
        // A y title longer than the plot would push the chart title out
        // of the fitted figure: cut it with an ellipsis instead.
        axis: { titleLimit: { expr: "height" } },
        scale: args.logY ? { type: "log" } : { zero: false },
      },
      color: {
        field: "series",
        type: "nominal",
        scale: { domain: names },
        legend,
      },
      ...strokeDash,
    },
  } as VegaLiteSpec;
}
