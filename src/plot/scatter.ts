/**
 * Scatter charts of 2-D points, optionally coloured by a class (nominal
 * legend) or by a value (gradient legend), over the edges of a graph
 * drawn as thin lines beneath them: the panels of data, augmentation
 * graph and features in the theory checks (the paper's Figure 1).
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

/** One edge of a scatter chart: from (x1, y1) to (x2, y2). */
export type Segment = readonly [number, number, number, number];

/** One axis of a {@link scatterChart}. */
export interface ScatterAxis {
  /** The axis title. */
  label: string;
  /** Fixed [min, max] of the axis (default: fitted to the data). */
  domain?: readonly [number, number];
}

/** Arguments of {@link scatterChart}. */
export interface ScatterChartArgs extends FigureSize {
  /** Title above the chart. */
  title: string;
  /**
   * A second line under the title (default none), e.g. the linear-probe
   * accuracy of the features shown.
   */
  subtitle?: string;
  /**
   * The points: coordinates, and at most one of `group` (a class per
   * point, coloured by category with a legend) or `color` (a number per
   * point, coloured on a continuous scale with a gradient legend).
   */
  points: {
    x: ArrayLike<number>;
    y: ArrayLike<number>;
    group?: ArrayLike<number> | readonly (string | number)[];
    color?: ArrayLike<number>;
  };
  /** The x axis (default title "x", domain fitted to the data). */
  x?: ScatterAxis;
  /** The y axis (default title "y", domain fitted to the data). */
  y?: ScatterAxis;
  /** Legend title of `group` (default "class") or `color` ("value"). */
  legendTitle?: string;
  /** Edges drawn as grey lines under the points (default none). */
  edges?: readonly Segment[];
  /** Area of a point in square pixels (default 36). */
  pointSize?: number;
}

/**
 * Builds the Vega-Lite spec of a scatter chart: the edges (if any) as
 * rule marks in light grey, then the points as filled circles, with axis
 * titles, a legend for `group` or `color`, and size `width` × `height`
 * (default 360 × 320) for the whole figure. Arrays may be typed arrays.
 *
 * Throws `ConfigError` on NaN or ±Infinity (naming `points.x`,
 * `points.y`, `points.color` or the edge), on both `group` and `color`,
 * or on an empty domain; `ShapeError` when the arrays' lengths differ.
 */
export function scatterChart(args: ScatterChartArgs): VegaLiteSpec {
  const caller = "scatterChart";
  const width = dimension(caller, "width", args.width, 360);
  const height = dimension(caller, "height", args.height, 320);
  const { points } = args;
  if (points.group !== undefined && points.color !== undefined) {
    throw new ConfigError(
      `${caller}: expected at most one of points.group and points.color`,
    );
  }

  // Check every array, then build the rows of the points.
  const xs = finiteValues(caller, "points.x", points.x);
  const ys = finiteValues(caller, "points.y", points.y);
  sameLength(caller, "points.y", ys.length, xs.length);
  const colors =
    points.color === undefined
      ? undefined
      : finiteValues(caller, "points.color", points.color);
  if (colors) sameLength(caller, "points.color", colors.length, xs.length);
  const groups =
    points.group === undefined ? undefined : Array.from(points.group);
  if (groups) sameLength(caller, "points.group", groups.length, xs.length);
  const rows = xs.map((x, i) => {
    const row: Record<string, number | string> = { x, y: ys[i] };
    if (groups) row.group = String(groups[i]);
    if (colors) row.value = colors[i];
    return row;
  });

  // The edges, each checked for finite end points.
  const segments = (args.edges ?? []).map((edge, i) => {
    const [x1, y1, x2, y2] = finiteValues(caller, `edge ${i}`, edge);
    sameLength(caller, `edge ${i}`, edge.length, 4);
    return { x1, y1, x2, y2 };
  });

  const xAxis = axis(caller, "x", args.x);
  const yAxis = axis(caller, "y", args.y);
  const clip = args.x?.domain !== undefined || args.y?.domain !== undefined;
  const legendTitle =
    args.legendTitle ?? (colors === undefined ? "class" : "value");
  const color = groups
    ? {
        color: {
          field: "group",
          type: "nominal",
          scale: { domain: distinctInOrder(groups.map(String)) },
          legend: { title: legendTitle, orient: "right" },
        },
      }
    : colors
      ? {
          color: {
            field: "value",
            type: "quantitative",
            scale: { scheme: "viridis" },
            legend: { title: legendTitle, orient: "right" },
          },
        }
      : {};

  const pointLayer = {
    data: { values: rows },
    mark: {
      type: "circle",
      size: args.pointSize ?? 36,
      opacity: 0.85,
      clip,
      ...(groups || colors ? {} : { color: "#4c78a8" }),
    },
    encoding: {
      x: { field: "x", type: "quantitative", ...xAxis },
      y: { field: "y", type: "quantitative", ...yAxis },
      ...color,
    },
  };
  const edgeLayer = {
    data: { values: segments },
    mark: { type: "rule", color: "#b0b0b0", strokeWidth: 0.6, clip },
    encoding: {
      x: { field: "x1", type: "quantitative", ...xAxis },
      y: { field: "y1", type: "quantitative", ...yAxis },
      x2: { field: "x2" },
      y2: { field: "y2" },
    },
  };

  return {
    $schema: VEGA_LITE_SCHEMA,
    title: title(args.title, args.subtitle),
    width,
    height,
    autosize: FIT_AUTOSIZE,
    config: FIGURE_CONFIG,
    layer: segments.length > 0 ? [edgeLayer, pointLayer] : [pointLayer],
  } as VegaLiteSpec;
}

/** The title and scale of one axis, with its domain checked. */
function axis(caller: string, name: "x" | "y", spec?: ScatterAxis) {
  const domain = spec?.domain;
  if (domain !== undefined) {
    const [lo, hi] = domain;
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
      throw new ConfigError(
        `${caller}: expected ${name}.domain [min, max] with finite ` +
          `min < max, received [${lo}, ${hi}]`,
      );
    }
  }
  return {
    title: spec?.label ?? name,
    // A title longer than the plot would break the fitted layout.
    axis: { titleLimit: { expr: name === "x" ? "width" : "height" } },
    scale:
      domain === undefined
        ? { zero: false }
        : { domain: [domain[0], domain[1]], nice: false },
  };
}

/** The distinct values of `values`, sorted with numbers in order. */
function distinctInOrder(values: readonly string[]): string[] {
  return [...new Set(values)].sort((a, b) =>
    a.localeCompare(b, "en", { numeric: true }),
  );
}
