/**
 * Rendering of figures: a Vega-Lite spec is compiled to Vega, rendered to
 * SVG headless (no browser, no canvas) and rasterised to PNG with resvg,
 * on a white background and with the fonts installed on the system.
 *
 * Follows the Vega-Lite and Vega documentation for server-side rendering
 * (`vega-lite.compile`, `vega.View` with `renderer: "none"`, `toSVG`).
 */

import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { ConfigError } from "../errors.js";

/** A top-level Vega-Lite (v6) specification. */
export type VegaLiteSpec = TopLevelSpec;

/** Options of {@link renderSpec}. */
export interface RenderOptions {
  /**
   * Pixels per SVG unit of the PNG (default 2): a spec 480 wide gives a
   * PNG 960 pixels wide. Must be a finite number in (0, 16].
   */
  scale?: number;
  /**
   * The installed font family that the generic `sans-serif` of Vega's
   * default theme maps to in the PNG (default "DejaVu Sans", present on
   * Debian through `fonts-dejavu-core`).
   */
  fontFamily?: string;
}

/** What {@link renderSpec} returns. */
export interface RenderedFigure {
  /** The SVG document, as Vega writes it. */
  svg: string;
  /** The PNG file's bytes. */
  png: Uint8Array;
  /** Width of the PNG in pixels (SVG width × scale, rounded). */
  width: number;
  /** Height of the PNG in pixels (SVG height × scale, rounded). */
  height: number;
  /** Warnings of the Vega-Lite compiler and of Vega, in order. */
  warnings: string[];
}

/** The default {@link RenderOptions.scale}. */
export const DEFAULT_SCALE = 2;

// NOTE: Vega numbers its SVG clip paths and gradients with module-level
// counters. Renders are chained one after the other and the counters
// reset before each, so that the same spec always gives the same SVG.
let queue: Promise<unknown> = Promise.resolve();

/**
 * Renders a Vega-Lite spec to SVG and PNG.
 *
 * The size comes from the spec: with `autosize: { type: "fit", contains:
 * "padding" }` (what the builders of this module emit) the figure is
 * exactly `width` × `height`; otherwise `width` and `height` are the
 * plot area and axes, titles and legends add to them. Data must be
 * inline (`data.values` or `datasets`): nothing is loaded from a URL.
 *
 * Throws `ConfigError` when the spec does not compile or render, when an
 * inline data value is NaN or ±Infinity (naming the field and row), or
 * when an option is out of range.
 */
export function renderSpec(
  spec: VegaLiteSpec,
  options: RenderOptions = {},
): Promise<RenderedFigure> {
  const scale = options.scale ?? DEFAULT_SCALE;
  if (!Number.isFinite(scale) || scale <= 0 || scale > 16) {
    return Promise.reject(
      new ConfigError(
        `renderSpec: expected scale in (0, 16], received ${scale}`,
      ),
    );
  }
  const fontFamily = options.fontFamily ?? "DejaVu Sans";
  const run = queue.then(() => render(spec, scale, fontFamily));
  queue = run.catch(() => undefined);
  return run;
}

/** One render, run while no other render is in progress. */
async function render(
  spec: VegaLiteSpec,
  scale: number,
  fontFamily: string,
): Promise<RenderedFigure> {
  checkInlineData(spec);

  // NOTE: Vega tags every datum it ingests with a symbol-keyed id, in
  // place: compiling a copy keeps the caller's spec untouched.
  spec = structuredClone(spec);

  // Collect the messages of both compilers instead of printing them.
  const warnings: string[] = [];
  const errors: string[] = [];
  const logger = collectingLogger(warnings, errors);

  // Compile Vega-Lite to Vega.
  let vegaSpec: vega.Spec;
  try {
    vegaSpec = compile(spec, { logger }).spec as vega.Spec;
  } catch (cause) {
    throw new ConfigError(
      `renderSpec: the Vega-Lite spec does not compile: ${message(cause)}`,
    );
  }

  // Render the scenegraph to SVG, without a canvas or a browser.
  let svg: string;
  let view: vega.View | undefined;
  try {
    view = new vega.View(vega.parse(vegaSpec), {
      renderer: "none",
      logger,
      logLevel: vega.Warn,
    });
    await view.runAsync();
    vega.resetSVGDefIds();
    svg = await view.toSVG();
  } catch (cause) {
    throw new ConfigError(
      `renderSpec: the spec does not render: ${message(cause)}`,
    );
  } finally {
    view?.finalize();
  }
  if (errors.length > 0) {
    throw new ConfigError(
      `renderSpec: the spec does not render: ${errors.join("; ")}`,
    );
  }

  // Rasterise the SVG with resvg at the requested scale.
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: {
      loadSystemFonts: true,
      defaultFontFamily: fontFamily,
      sansSerifFamily: fontFamily,
    },
  });
  const image = resvg.render();
  const png = new Uint8Array(image.asPng());
  return { svg, png, width: image.width, height: image.height, warnings };
}

/** A Vega logger that keeps warnings and errors in the given arrays. */
function collectingLogger(warnings: string[], errors: string[]) {
  const text = (args: readonly unknown[]) => args.map(message).join(" ");
  let level = vega.Warn;
  const logger = {
    level(value?: number): never {
      if (value !== undefined) level = value;
      return (value === undefined ? level : logger) as never;
    },
    error(...args: readonly unknown[]) {
      errors.push(text(args));
      return logger;
    },
    warn(...args: readonly unknown[]) {
      if (level >= vega.Warn) warnings.push(text(args));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger;
}

/** The text of an error or of any other value. */
function message(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}

/**
 * Throws `ConfigError` at the first NaN or ±Infinity in the spec's inline
 * data (`data.values` of any view, and `datasets`), naming the row, the
 * field and, where the row has one, its `series` or `group`.
 */
function checkInlineData(spec: unknown): void {
  const visit = (node: unknown, where: string): void => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) visit(node[i], `${where}[${i}]`);
      return;
    }
    if (node === null || typeof node !== "object") return;
    const record = node as Record<string, unknown>;
    const data = record.data as Record<string, unknown> | undefined;
    if (data && Array.isArray(data.values)) {
      checkRows(data.values, `${where}.data.values`);
    }
    const datasets = record.datasets as Record<string, unknown> | undefined;
    if (datasets && typeof datasets === "object") {
      for (const [name, rows] of Object.entries(datasets)) {
        if (Array.isArray(rows)) checkRows(rows, `${where}.datasets.${name}`);
      }
    }
    for (const key of ["layer", "concat", "hconcat", "vconcat", "spec"]) {
      if (key in record) visit(record[key], `${where}.${key}`);
    }
  };
  visit(spec, "spec");
}

/** Checks one inline table; see {@link checkInlineData}. */
function checkRows(rows: readonly unknown[], where: string): void {
  rows.forEach((row, i) => {
    if (typeof row === "number" && !Number.isFinite(row)) {
      throw new ConfigError(
        `renderSpec: expected finite data, received ${row} at ${where}[${i}]`,
      );
    }
    if (row === null || typeof row !== "object") return;
    for (const [field, value] of Object.entries(row)) {
      if (typeof value === "number" && !Number.isFinite(value)) {
        const record = row as Record<string, unknown>;
        const owner = record.series ?? record.group;
        const of = owner === undefined ? "" : ` of series "${owner}"`;
        throw new ConfigError(
          `renderSpec: expected finite data, received ${value} in field ` +
            `"${field}"${of} at ${where}[${i}]`,
        );
      }
    }
  });
}
