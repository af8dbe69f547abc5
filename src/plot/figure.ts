/**
 * Writing a figure to disk: the Vega-Lite spec it comes from, its SVG and
 * its PNG, side by side, each file written atomically (a temporary file in
 * the same folder, then a rename), so that a reader never sees half a
 * figure and an interrupted run leaves the previous files intact.
 */

import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ConfigError } from "../errors.js";
import { type RenderOptions, renderSpec, type VegaLiteSpec } from "./render.js";

/** Options of {@link writeFigure}: those of rendering. */
export interface WriteFigureOptions extends RenderOptions {}

/** The files {@link writeFigure} wrote, and the PNG's size. */
export interface WrittenFigure {
  /** Path of the spec, `<name>.vl.json`. */
  spec: string;
  /** Path of the SVG, `<name>.svg`. */
  svg: string;
  /** Path of the PNG, `<name>.png`. */
  png: string;
  /** Width of the PNG in pixels. */
  width: number;
  /** Height of the PNG in pixels. */
  height: number;
  /** Warnings of the Vega-Lite compiler and of Vega. */
  warnings: string[];
}

/**
 * Renders `spec` and writes `<name>.vl.json` (the spec, indented JSON),
 * `<name>.svg` and `<name>.png`, where `<name>` is `pathWithoutExtension`.
 * The folder is created if missing. Rendering happens first, so a spec
 * that fails to render writes nothing; each file then goes to a
 * temporary `.<file>.<random>.tmp` beside it and is renamed into place.
 *
 * Throws `ConfigError` for an empty name or a spec that does not render
 * (see {@link renderSpec}); file system errors pass through.
 */
export async function writeFigure(
  spec: VegaLiteSpec,
  pathWithoutExtension: string,
  options: WriteFigureOptions = {},
): Promise<WrittenFigure> {
  const name = basename(pathWithoutExtension);
  if (
    name === "" ||
    name === "." ||
    name === ".." ||
    /[/\\]$/.test(pathWithoutExtension)
  ) {
    throw new ConfigError(
      "writeFigure: expected a path ending in a file name, received " +
        `"${pathWithoutExtension}"`,
    );
  }
  const figure = await renderSpec(spec, options);

  const folder = dirname(pathWithoutExtension);
  await mkdir(folder, { recursive: true });
  const paths = {
    spec: join(folder, `${name}.vl.json`),
    svg: join(folder, `${name}.svg`),
    png: join(folder, `${name}.png`),
  };
  await writeAtomic(paths.spec, `${JSON.stringify(spec, null, 2)}\n`);
  await writeAtomic(paths.svg, figure.svg);
  await writeAtomic(paths.png, figure.png);
  return {
    ...paths,
    width: figure.width,
    height: figure.height,
    warnings: figure.warnings,
  };
}

/** Writes `data` to `path` through a temporary file in the same folder. */
async function writeAtomic(
  path: string,
  data: string | Uint8Array,
): Promise<void> {
  const suffix = randomBytes(6).toString("hex");
  const temporary = join(dirname(path), `.${basename(path)}.${suffix}.tmp`);
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true });
    throw cause;
  }
}
