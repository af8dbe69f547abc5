/**
 * Writing a report to disk: its figures (Vega-Lite spec, SVG and PNG,
 * through `writeFigure`), then `index.html` and `report.md` (see
 * `document.ts`), each file written to a temporary name in its folder
 * and renamed into place, so that a reader never sees half a file and a
 * page never names a figure that is not on disk yet.
 */

import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import { writeFigure } from "../plot/figure.js";
import type { VegaLiteSpec } from "../plot/render.js";
import {
  type ReportDocument,
  type ReportFigure,
  reportHtml,
  reportMarkdown,
} from "./document.js";

/**
 * Write `text` to `path` through a temporary `.<name>.<random>.tmp` in
 * the same folder (created if missing), renamed into place; the
 * temporary file is removed when writing fails.
 */
export async function writeTextAtomic(
  path: string,
  text: string,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const suffix = randomBytes(6).toString("hex");
  const temporary = join(dirname(path), `.${basename(path)}.${suffix}.tmp`);
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true });
    throw cause;
  }
}

/**
 * {@link writeTextAtomic} without yielding to the event loop, for a
 * caller that holds it (a synchronous training loop saving what it has
 * finished so far).
 */
export function writeTextAtomicSync(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const suffix = randomBytes(6).toString("hex");
  const temporary = join(dirname(path), `.${basename(path)}.${suffix}.tmp`);
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (cause) {
    rmSync(temporary, { force: true });
    throw cause;
  }
}

/** A path relative to `from` with forward slashes, as Markdown links it. */
function linkPath(from: string, to: string): string {
  return relative(from, to).split(sep).join("/");
}

/**
 * Read a figure already written by `writeFigure` (`<file>.svg` beside
 * `<file>.png`) into a {@link ReportFigure} whose PNG link is relative to
 * the report folder `out`.
 *
 * @param out the folder of `report.md`.
 * @param file the figure's path without extension.
 * @param name the figure's name in the document (see `ReportFigure`).
 * @param caption what it shows.
 */
export async function readReportFigure(
  out: string,
  file: string,
  name: string,
  caption: string,
): Promise<ReportFigure> {
  const svg = await readFile(`${file}.svg`, "utf8");
  return {
    kind: "figure",
    name,
    svg,
    png: linkPath(out, `${file}.png`),
    caption,
  };
}

/**
 * Render `spec` and write it as `<out>/<file>.{vl.json,svg,png}` (see
 * `writeFigure`), then return it as a {@link ReportFigure}.
 *
 * @param out the folder of `report.md`.
 * @param file the figure's path relative to `out`, without extension,
 *   e.g. `"figures/cora-spectrum"`.
 * @param name the figure's name in the document.
 * @param caption what it shows.
 */
export async function writeReportFigure(
  spec: VegaLiteSpec,
  out: string,
  file: string,
  name: string,
  caption: string,
): Promise<ReportFigure> {
  const path = join(out, file);
  const written = await writeFigure(spec, path);
  return {
    kind: "figure",
    name,
    svg: await readFile(written.svg, "utf8"),
    png: linkPath(out, written.png),
    caption,
  };
}

/** The paths {@link writeReport} wrote. */
export interface WrittenReport {
  /** `<out>/index.html`. */
  html: string;
  /** `<out>/report.md`. */
  markdown: string;
}

/**
 * Write `doc` as `<out>/index.html` and `<out>/report.md` (each atomic,
 * Markdown first, the page last). The figures' PNG files must already
 * be in place (see {@link writeReportFigure}).
 */
export async function writeReport(
  doc: ReportDocument,
  out: string,
): Promise<WrittenReport> {
  const html = join(out, "index.html");
  const markdown = join(out, "report.md");
  const page = reportHtml(doc);
  const text = reportMarkdown(doc);
  await writeTextAtomic(markdown, text);
  await writeTextAtomic(html, page);
  return { html, markdown };
}
