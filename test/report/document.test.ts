// The report's document model and its two renderings: HTML escaping,
// the scoping of SVG ids (two figures from fresh Vega renders share id
// numbers), the self-contained page (policy, no script, escaped text,
// code spans, verdict cells, inline figures), the Markdown twin (pipe
// tables with escaped cells, image links), the errors on malformed
// documents, and the atomic writers.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { lineChart } from "../../src/plot/line.js";
import {
  escapeHtml,
  type ReportDocument,
  reportHtml,
  reportMarkdown,
  scopeSvgIds,
} from "../../src/report/document.js";
import {
  readReportFigure,
  writeReport,
  writeReportFigure,
  writeTextAtomic,
} from "../../src/report/write.js";

/** A small SVG with a clip path, a gradient and an outside reference. */
const SVG =
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<svg xmlns="http://www.w3.org/2000/svg" ' +
  'xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="20">' +
  '<defs><clipPath id="clip1"><rect width="10" height="10"/></clipPath>' +
  '<linearGradient id="gradient_1"/></defs>' +
  '<g clip-path="url(#clip1)"><path d="M0,0L5,5" ' +
  'fill="url(#gradient_1)"/></g>' +
  '<use href="#clip1"/><use xlink:href="#gradient_1"/>' +
  '<path fill="url(#elsewhere)" d="M1,1"/></svg>';

/** A document with one of every block. */
function sampleDocument(): ReportDocument {
  return {
    title: "A <report> & more",
    subtitle: "seed `0`",
    sections: [
      {
        id: "first",
        title: "First | section",
        blocks: [
          { kind: "paragraph", text: "x < y and `a<b` *not bold* [link]" },
          { kind: "list", items: ["one_two", "`code`"] },
          {
            kind: "table",
            header: ["name", "value", "pass"],
            rows: [
              ["a|b", 1.5, { text: "yes", verdict: "pass" }],
              ["c", 2, { text: "NO", verdict: "fail" }],
            ],
            caption: "a caption",
          },
        ],
      },
      {
        id: "second",
        title: "Second",
        blocks: [
          {
            kind: "figure",
            name: "fig-a",
            svg: SVG,
            png: "figures/a.png",
            caption: "the first figure",
          },
          {
            kind: "figure",
            name: "fig-b",
            svg: SVG,
            png: "figures/b.png",
            caption: "the second figure",
          },
        ],
      },
    ],
  };
}

describe("escapeHtml", () => {
  it("escapes the five characters of HTML", () => {
    expect(escapeHtml(`<a href="x">Tom & 'Jerry'</a>`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;",
    );
    expect(escapeHtml("plain λ text")).toBe("plain λ text");
  });
});

describe("scopeSvgIds", () => {
  it("prefixes every id and every reference to it", () => {
    const scoped = scopeSvgIds(SVG, "f1");
    expect(scoped.startsWith("<svg")).toBe(true);
    expect(scoped).toContain('id="f1-clip1"');
    expect(scoped).toContain('id="f1-gradient_1"');
    expect(scoped).toContain('clip-path="url(#f1-clip1)"');
    expect(scoped).toContain('fill="url(#f1-gradient_1)"');
    expect(scoped).toContain('<use href="#f1-clip1"/>');
    expect(scoped).toContain('<use xlink:href="#f1-gradient_1"/>');
    // a reference to an id the SVG does not define stays as it was
    expect(scoped).toContain('fill="url(#elsewhere)"');
    expect(scoped).not.toMatch(/id="clip1"|#clip1\b/);
  });

  it("gives two copies of one SVG disjoint ids", () => {
    const ids = (svg: string) =>
      [...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    const a = ids(scopeSvgIds(SVG, "a"));
    const b = ids(scopeSvgIds(SVG, "b"));
    expect(a).toEqual(["a-clip1", "a-gradient_1"]);
    expect(b).toEqual(["b-clip1", "b-gradient_1"]);
  });

  it("leaves an SVG without ids unchanged, but for the declaration", () => {
    const plain = '<svg width="1" height="1"><path d="M0,0"/></svg>';
    expect(scopeSvgIds(`<?xml version="1.0"?>\n${plain}`, "p")).toBe(plain);
  });

  it("raises ConfigError for a prefix that is not a name", () => {
    for (const prefix of ["", "1a", "a b", 'a"']) {
      expect(() => scopeSvgIds(SVG, prefix)).toThrow(ConfigError);
    }
  });
});

describe("reportHtml", () => {
  const html = reportHtml(sampleDocument());

  it("is one page that may load nothing and runs no script", () => {
    expect(html.startsWith("<!DOCTYPE html>\n")).toBe(true);
    expect(html).toContain(
      '<meta http-equiv="Content-Security-Policy" ' +
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
    );
    expect(html).not.toMatch(/<script|<img|<link|\ssrc=/i);
    expect(html).toContain("<title>A &lt;report&gt; &amp; more</title>");
  });

  it("escapes text and turns backtick spans into code", () => {
    expect(html).toContain(
      "<p>x &lt; y and <code>a&lt;b</code> *not bold* [link]</p>",
    );
    expect(html).toContain("<li>one_two</li>\n<li><code>code</code></li>");
    expect(html).toContain('<p class="subtitle">seed <code>0</code></p>');
  });

  it("writes tables with number and verdict cells", () => {
    expect(html).toContain(
      '<tr><td>a|b</td><td class="number">1.5</td>' +
        '<td class="pass">yes</td></tr>',
    );
    expect(html).toContain(
      '<tr><td>c</td><td class="number">2</td><td class="fail">NO</td></tr>',
    );
    expect(html).toContain('<p class="caption">a caption</p>');
  });

  it("links every section from the contents and inlines the figures", () => {
    expect(html).toContain('<li><a href="#first">First | section</a></li>');
    expect(html).toContain('<section id="second">');
    expect(html).toContain('<figure id="figure-fig-a">\n<svg');
    expect(html).toContain('id="fig-a-clip1"');
    expect(html).toContain('id="fig-b-clip1"');
    expect(html).not.toContain("<?xml");
    expect(html).toContain("<figcaption>the second figure</figcaption>");
    // every id of the page is unique
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("reportMarkdown", () => {
  const markdown = reportMarkdown(sampleDocument());

  it("has the title, one heading per section, and escaped text", () => {
    const lines = markdown.split("\n");
    expect(lines[0]).toBe("# A \\<report\\> & more");
    expect(lines).toContain("## First \\| section");
    expect(lines).toContain("## Second");
    expect(lines).toContain("x \\< y and `a<b` \\*not bold\\* \\[link\\]");
    expect(lines).toContain("- one\\_two");
    expect(markdown.endsWith("\n")).toBe(true);
  });

  it("writes pipe tables, a failed verdict in bold", () => {
    expect(markdown).toContain(
      "| name | value | pass |\n| --- | --- | --- |\n" +
        "| a\\|b | 1.5 | yes |\n| c | 2 | **NO** |\n\n*a caption*",
    );
  });

  it("links each figure's PNG with its caption", () => {
    expect(markdown).toContain("![fig-a](figures/a.png)\n\n*the first figure*");
    expect(markdown).toContain("![fig-b](figures/b.png)");
    expect(markdown).not.toContain("<svg");
  });
});

describe("malformed documents", () => {
  const render = [reportHtml, reportMarkdown];

  it("raise ConfigError for a duplicate or malformed section id", () => {
    const doc = sampleDocument();
    doc.sections[1].id = "first";
    for (const f of render) expect(() => f(doc)).toThrow(ConfigError);
    doc.sections[1].id = "has space";
    for (const f of render) expect(() => f(doc)).toThrow(ConfigError);
  });

  it("raise ConfigError for a duplicate or malformed figure name", () => {
    const doc = sampleDocument();
    const figure = doc.sections[1].blocks[1];
    if (figure.kind !== "figure") throw new Error("the sample changed");
    figure.name = "fig-a";
    for (const f of render) expect(() => f(doc)).toThrow(ConfigError);
    figure.name = "9-starts-with-a-digit";
    for (const f of render) expect(() => f(doc)).toThrow(ConfigError);
  });

  it("raise ConfigError for a row of the wrong length", () => {
    const doc = sampleDocument();
    const table = doc.sections[0].blocks[2];
    if (table.kind !== "table") throw new Error("the sample changed");
    table.rows.push(["only", "two"]);
    for (const f of render) {
      expect(() => f(doc)).toThrow(/expected 3 cells in row 2/);
    }
  });
});

describe("writing a report", () => {
  const dir = mkdtempSync(join(tmpdir(), "mpcl-report-doc-"));

  it("writes text atomically, replacing a file and leaving no temporary", async () => {
    const path = join(dir, "nested", "a.txt");
    await writeTextAtomic(path, "first");
    await writeTextAtomic(path, "second");
    expect(readFileSync(path, "utf8")).toBe("second");
    expect(readdirSync(join(dir, "nested"))).toEqual(["a.txt"]);
  });

  it("leaves no temporary file when the rename fails", async () => {
    const folder = join(dir, "blocked");
    await writeTextAtomic(join(folder, "x"), "x");
    // a path that is a folder cannot be replaced by a file
    await expect(writeTextAtomic(folder, "text")).rejects.toThrow();
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("renders a figure beside the report and reads it back", async () => {
    const spec = lineChart({
      title: "t",
      x: { label: "x", values: [1, 2, 3] },
      series: [{ name: "y", values: [3, 1, 2] }],
    });
    const written = await writeReportFigure(
      spec,
      dir,
      "figures/line",
      "line",
      "a line",
    );
    expect(written.png).toBe("figures/line.png");
    expect(written.svg.startsWith("<svg")).toBe(true);
    for (const ext of ["png", "svg", "vl.json"]) {
      expect(existsSync(join(dir, `figures/line.${ext}`))).toBe(true);
    }
    const read = await readReportFigure(
      join(dir, "sub"),
      join(dir, "figures", "line"),
      "again",
      "same",
    );
    expect(read.svg).toBe(written.svg);
    expect(read.png).toBe("../figures/line.png");
  });

  it("writes index.html and report.md as the renderers give them", async () => {
    const out = join(dir, "out");
    const doc = sampleDocument();
    const paths = await writeReport(doc, out);
    expect(paths).toEqual({
      html: join(out, "index.html"),
      markdown: join(out, "report.md"),
    });
    expect(readFileSync(paths.html, "utf8")).toBe(reportHtml(doc));
    expect(readFileSync(paths.markdown, "utf8")).toBe(reportMarkdown(doc));
  });

  it("writes nothing for a malformed document", async () => {
    const out = join(dir, "bad");
    const doc = sampleDocument();
    doc.sections[1].id = "first";
    await expect(writeReport(doc, out)).rejects.toThrow(ConfigError);
    expect(existsSync(out)).toBe(false);
  });
});
