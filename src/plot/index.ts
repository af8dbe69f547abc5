/**
 * Figures: Vega-Lite specs built from typed arrays (line charts, scatter
 * charts over graph edges, multi-panel grids), rendered headless to SVG
 * and PNG, and written beside the spec they come from.
 */

export {
  FIGURE_CONFIG,
  type FigureSize,
  VEGA_LITE_SCHEMA,
} from "./common.js";
export * from "./figure.js";
export * from "./line.js";
export * from "./panels.js";
export * from "./render.js";
export * from "./scatter.js";
