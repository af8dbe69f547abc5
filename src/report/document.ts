/**
 * A report as data (sections of paragraphs, lists, tables and figures)
 * and its two renderings: one self-contained HTML page (figures inline as
 * SVG, one inline style sheet, no script, no font, no request: a content
 * security policy forbids every load) and its Markdown twin, whose
 * figures are image links to PNG files written next to it. Nothing here
 * touches the disk or prints.
 */

import { ConfigError } from "../errors.js";

/**
 * Text of a paragraph, list item or table cell. Spans between backticks
 * are code (`<code>` in HTML, kept as is in Markdown); everything else is
 * plain text, escaped in both renderings.
 */
export type ReportText = string;

/** A table cell: text, a number (printed as given), or a verdict. */
export type ReportCell =
  | ReportText
  | number
  | { text: ReportText; verdict: "pass" | "fail" };

/** A paragraph. */
export interface ReportParagraph {
  kind: "paragraph";
  text: ReportText;
}

/** A bulleted list. */
export interface ReportList {
  kind: "list";
  items: ReportText[];
}

/** A table with a header row; every row has the header's length. */
export interface ReportTable {
  kind: "table";
  header: ReportText[];
  rows: ReportCell[][];
  /** A sentence under the table (default none). */
  caption?: ReportText;
}

/** A figure, drawn once: SVG for the page, a PNG file for Markdown. */
export interface ReportFigure {
  kind: "figure";
  /**
   * A name unique in the document, letters, digits, `-` and `_` only: it
   * prefixes the SVG's ids so that several figures share one page.
   */
  name: string;
  /** The SVG document, as Vega writes it. */
  svg: string;
  /** Path of the PNG relative to the Markdown file (forward slashes). */
  png: string;
  /** What the figure shows, one or two sentences. */
  caption: ReportText;
}

/** One block of a section. */
export type ReportBlock =
  | ReportParagraph
  | ReportList
  | ReportTable
  | ReportFigure;

/** A section: an anchor id, a title and its blocks. */
export interface ReportSection {
  /** Anchor of the section (letters, digits, `-`), unique. */
  id: string;
  title: string;
  blocks: ReportBlock[];
}

/** The whole report. */
export interface ReportDocument {
  title: string;
  /** A line under the title (default none). */
  subtitle?: ReportText;
  sections: ReportSection[];
}

/** Escape `& < > " '` for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * Make the ids of an SVG document unique to one figure: every `id="x"`
 * becomes `id="<prefix>-x"`, and every reference to it (`url(#x)`,
 * `href="#x"`, `xlink:href="#x"`) follows. Vega numbers its clip paths
 * and gradients from 1 in every render, so two figures inlined in one
 * page would otherwise clip each other's marks with the first figure's
 * paths. A leading XML declaration is removed (it may not appear inside
 * HTML). References to ids the SVG does not define are left alone.
 *
 * @throws ConfigError when `prefix` is not made of letters, digits, `-`
 *   and `_`, starting with a letter.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  if (!/^[A-Za-z][\w-]*$/.test(prefix)) {
    throw new ConfigError(
      "scopeSvgIds: expected a prefix of letters, digits, - and _ " +
        `starting with a letter, received ${JSON.stringify(prefix)}`,
    );
  }
  const body = svg.replace(/^\s*<\?xml[^>]*\?>\s*/, "");

  // first the ids the document defines
  const ids = new Set<string>();
  for (const match of body.matchAll(/\sid="([^"]+)"/g)) ids.add(match[1]);
  if (ids.size === 0) return body;
  const scoped = (id: string) => (ids.has(id) ? `${prefix}-${id}` : id);

  // then the definitions and every reference to them
  return body
    .replace(/(\sid=")([^"]+)"/g, (_, head, id) => `${head}${scoped(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id) => `url(#${scoped(id)})`)
    .replace(
      /(\s(?:xlink:)?href=")#([^"]+)"/g,
      (_, head, id) => `${head}#${scoped(id)}"`,
    );
}

// ---------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------

/** The page's only style sheet. */
const STYLE = `
body { font-family: "DejaVu Sans", Verdana, sans-serif; color: #222;
  max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { margin-bottom: 0.2em; }
.subtitle { color: #555; margin-top: 0; }
nav ul { columns: 2; padding-left: 1.2em; }
section { margin-top: 2.2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left;
  vertical-align: top; }
th { background: #f1f1f1; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.pass { color: #176b2c; font-weight: bold; }
td.fail { color: #b00020; font-weight: bold; }
.caption { color: #555; font-size: 0.9em; margin-top: 0; }
figure { margin: 1.2em 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9em; }
code { background: #f4f4f4; padding: 0 0.2em; }
`.trim();

/**
 * The content security policy of the page: nothing may be loaded, not
 * even from the page's own folder; only the inline style applies.
 */
const POLICY = "default-src 'none'; style-src 'unsafe-inline'";

/** Text with backtick code spans as HTML. */
function inlineHtml(text: ReportText): string {
  return text
    .split("`")
    .map((part, i) =>
      i % 2 === 1 ? `<code>${escapeHtml(part)}</code>` : escapeHtml(part),
    )
    .join("");
}

/** One table cell as HTML. */
function cellHtml(cell: ReportCell): string {
  if (typeof cell === "number") {
    return `<td class="number">${escapeHtml(String(cell))}</td>`;
  }
  if (typeof cell === "string") return `<td>${inlineHtml(cell)}</td>`;
  return `<td class="${cell.verdict}">${inlineHtml(cell.text)}</td>`;
}

/** One block as HTML. */
function blockHtml(block: ReportBlock): string {
  switch (block.kind) {
    case "paragraph":
      return `<p>${inlineHtml(block.text)}</p>`;
    case "list":
      return `<ul>\n${block.items
        .map((item) => `<li>${inlineHtml(item)}</li>`)
        .join("\n")}\n</ul>`;
    case "table": {
      const head = block.header
        .map((h) => `<th>${inlineHtml(h)}</th>`)
        .join("");
      const rows = block.rows
        .map((row) => `<tr>${row.map(cellHtml).join("")}</tr>`)
        .join("\n");
      const caption =
        block.caption === undefined
          ? ""
          : `\n<p class="caption">${inlineHtml(block.caption)}</p>`;
      return (
        `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows}\n` +
        `</tbody>\n</table>${caption}`
      );
    }
    case "figure":
      return (
        `<figure id="figure-${block.name}">\n` +
        `${scopeSvgIds(block.svg, block.name)}\n` +
        `<figcaption>${inlineHtml(block.caption)}</figcaption>\n</figure>`
      );
  }
}

/**
 * The report as one self-contained HTML5 page: a title, a table of
 * contents, then each section with its blocks; figures inline as SVG
 * (ids scoped per figure, see {@link scopeSvgIds}); an inline style
 * sheet; no script; a content security policy (`default-src 'none'`)
 * that lets the browser load nothing at all.
 *
 * @throws ConfigError for duplicate section ids or figure names, a figure
 *   name or section id with other characters than letters, digits, `-`
 *   and `_`, or a table row whose length differs from its header's.
 */
export function reportHtml(doc: ReportDocument): string {
  checkDocument("reportHtml", doc);
  const toc = doc.sections
    .map((s) => `<li><a href="#${s.id}">${inlineHtml(s.title)}</a></li>`)
    .join("\n");
  const sections = doc.sections
    .map(
      (s) =>
        `<section id="${s.id}">\n<h2>${inlineHtml(s.title)}</h2>\n` +
        `${s.blocks.map(blockHtml).join("\n")}\n</section>`,
    )
    .join("\n");
  const subtitle =
    doc.subtitle === undefined
      ? ""
      : `<p class="subtitle">${inlineHtml(doc.subtitle)}</p>\n`;
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${POLICY}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(doc.title)}</title>`,
    `<style>\n${STYLE}\n</style>`,
    "</head>",
    "<body>",
    `<h1>${escapeHtml(doc.title)}</h1>`,
    `${subtitle}<nav>\n<ul>\n${toc}\n</ul>\n</nav>`,
    sections,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------

/**
 * Plain text as Markdown: backtick spans kept, Markdown's punctuation
 * escaped elsewhere (and `|` too, so that a cell stays one cell).
 */
function inlineMarkdown(text: ReportText): string {
  return text
    .split("`")
    .map((part, i) =>
      i % 2 === 1
        ? `\`${part}\``
        : part.replace(/[\\*_[\]<>#|]/g, (c) => `\\${c}`),
    )
    .join("")
    .replace(/\n/g, " ");
}

/** One table cell as Markdown (a failed verdict in bold). */
function cellMarkdown(cell: ReportCell): string {
  if (typeof cell === "number") return String(cell);
  if (typeof cell === "string") return inlineMarkdown(cell);
  const text = inlineMarkdown(cell.text);
  return cell.verdict === "fail" ? `**${text}**` : text;
}

/** One block as Markdown lines. */
function blockMarkdown(block: ReportBlock): string {
  switch (block.kind) {
    case "paragraph":
      return inlineMarkdown(block.text);
    case "list":
      return block.items.map((item) => `- ${inlineMarkdown(item)}`).join("\n");
    case "table": {
      const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
      const lines = [
        line(block.header.map(inlineMarkdown)),
        line(block.header.map(() => "---")),
        ...block.rows.map((row) => line(row.map(cellMarkdown))),
      ];
      if (block.caption !== undefined) {
        lines.push("", `*${inlineMarkdown(block.caption)}*`);
      }
      return lines.join("\n");
    }
    case "figure":
      return (
        `![${inlineMarkdown(block.name)}](${block.png})\n\n` +
        `*${inlineMarkdown(block.caption)}*`
      );
  }
}

/**
 * The report as Markdown: the title, then one `##` heading per section
 * and its blocks; tables as pipe tables; each figure as an image link to
 * its PNG (relative to the Markdown file) and its caption in italics.
 *
 * @throws ConfigError on the same documents as {@link reportHtml}.
 */
export function reportMarkdown(doc: ReportDocument): string {
  checkDocument("reportMarkdown", doc);
  const parts = [`# ${inlineMarkdown(doc.title)}`];
  if (doc.subtitle !== undefined) parts.push(inlineMarkdown(doc.subtitle));
  for (const section of doc.sections) {
    parts.push(`## ${inlineMarkdown(section.title)}`);
    for (const block of section.blocks) parts.push(blockMarkdown(block));
  }
  return `${parts.join("\n\n")}\n`;
}

/** The checks shared by both renderings. */
function checkDocument(fn: string, doc: ReportDocument): void {
  const names = new Set<string>();
  const ids = new Set<string>();
  for (const section of doc.sections) {
    if (!/^[A-Za-z][\w-]*$/.test(section.id) || ids.has(section.id)) {
      throw new ConfigError(
        `${fn}: expected a unique section id of letters, digits, - and _, ` +
          `received ${JSON.stringify(section.id)}`,
      );
    }
    ids.add(section.id);
    for (const block of section.blocks) {
      if (block.kind === "table") {
        block.rows.forEach((row, i) => {
          if (row.length !== block.header.length) {
            throw new ConfigError(
              `${fn}: expected ${block.header.length} cells in row ${i} of ` +
                `a table of section "${section.id}", received ${row.length}`,
            );
          }
        });
      }
      if (block.kind !== "figure") continue;
      if (!/^[A-Za-z][\w-]*$/.test(block.name) || names.has(block.name)) {
        throw new ConfigError(
          `${fn}: expected a unique figure name of letters, digits, - and ` +
            `_, starting with a letter, received ${JSON.stringify(block.name)}`,
        );
      }
      names.add(block.name);
    }
  }
}
