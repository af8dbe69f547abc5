/**
 * Multi-panel figures: several charts of this folder laid out in a grid
 * of a given number of columns, read left to right and top to bottom,
 * like the paper's Figure 1 (data and graph, initial features, alignment
 * only, alignment with uniformity).
 */

import { ConfigError } from "../errors.js";
import { FIGURE_CONFIG, title, VEGA_LITE_SCHEMA } from "./common.js";
import type { VegaLiteSpec } from "./render.js";

/** Options of {@link panels}. */
export interface PanelsOptions {
  /** Panels per row (an integer ≥ 1); the last row may be shorter. */
  columns: number;
  /** Title above the whole figure (default none). */
  title?: string;
  /** A second line under that title (default none). */
  subtitle?: string;
  /**
   * Whether each panel keeps its own colour scale and legend (true, the
   * default) or all panels share one colour scale and one legend
   * (false: right when every panel colours the same classes).
   */
  independentColors?: boolean;
  /** Pixels between panels (default 24). */
  spacing?: number;
}

/**
 * Lays out `specs` (each from {@link lineChart}, {@link scatterChart} or
 * any single or layered Vega-Lite view) in a grid of `columns` columns.
 * Each panel keeps its title, data and legend; its `width` and `height`
 * become the size of its plot area (axes, titles and legends are added
 * around it), so the figure is larger than the sum of the panels' sizes
 * and its size is read from the rendered SVG.
 *
 * Throws `ConfigError` on an empty list, a bad column count, or a panel
 * that is itself a concatenation.
 */
export function panels(
  specs: readonly VegaLiteSpec[],
  options: PanelsOptions,
): VegaLiteSpec {
  const caller = "panels";
  const { columns } = options;
  if (specs.length === 0) {
    throw new ConfigError(`${caller}: expected at least one panel`);
  }
  if (!Number.isInteger(columns) || columns < 1) {
    throw new ConfigError(
      `${caller}: expected columns, an integer ≥ 1, received ${columns}`,
    );
  }

  // Strip what only a top-level spec may carry.
  const children = specs.map((spec, i) => {
    const {
      $schema: _schema,
      config: _config,
      autosize: _autosize,
      ...child
    } = spec as unknown as Record<string, unknown>;
    for (const key of ["concat", "hconcat", "vconcat"]) {
      if (key in child) {
        throw new ConfigError(
          `${caller}: expected single or layered views, received a ` +
            `"${key}" at panel ${i}`,
        );
      }
    }
    return child;
  });

  const independent = options.independentColors ?? true;
  const colors = independent ? "independent" : "shared";
  const head =
    options.title === undefined
      ? {}
      : {
          title: {
            ...title(options.title, options.subtitle),
            fontSize: 18,
            subtitleFontSize: 13,
          },
        };
  return {
    $schema: VEGA_LITE_SCHEMA,
    ...head,
    config: FIGURE_CONFIG,
    columns,
    spacing: options.spacing ?? 24,
    concat: children,
    resolve: {
      scale: { color: colors, strokeDash: "independent" },
      legend: { color: colors, strokeDash: "independent" },
    },
  } as unknown as VegaLiteSpec;
}
