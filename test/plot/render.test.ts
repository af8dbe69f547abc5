import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../../src/errors.js";
import {
  lineChart,
  renderSpec,
  type VegaLiteSpec,
  writeFigure,
} from "../../src/plot/index.js";
import { PNG_SIGNATURE, pngSize, svgTexts } from "./helpers.js";

// A hand-written spec without autosize: its size is the plot area plus
// axes, so the PNG's size is read from the SVG.
const barSpec = {
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  width: 200,
  height: 120,
  data: {
    values: [
      { k: "a", v: 1, series: "s" },
      { k: "b", v: 3, series: "s" },
    ],
  },
  mark: "bar",
  encoding: {
    x: { field: "k", type: "nominal", title: "key" },
    y: { field: "v", type: "quantitative", title: "count" },
  },
} as VegaLiteSpec;

function svgSize(svg: string): { width: number; height: number } {
  const match = svg.match(/<svg[^>]* width="([\d.]+)" height="([\d.]+)"/);
  if (!match) throw new Error("no svg size");
  return { width: Number(match[1]), height: Number(match[2]) };
}

const folders: string[] = [];
async function freshFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "mpcl-plot-"));
  folders.push(folder);
  return folder;
}
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true });
});

describe("renderSpec", () => {
  it("renders SVG and a PNG of the SVG's size times the scale", async () => {
    const figure = await renderSpec(barSpec, { scale: 1.5 });
    expect(figure.svg.startsWith("<svg")).toBe(true);
    expect(svgTexts(figure.svg)).toEqual(
      expect.arrayContaining(["key", "count", "a", "b"]),
    );
    expect([...figure.png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    const svg = svgSize(figure.svg);
    const png = pngSize(figure.png);
    expect(svg.width).toBeGreaterThan(200);
    expect(png).toEqual({
      width: Math.round(svg.width * 1.5),
      height: Math.round(svg.height * 1.5),
    });
    expect({ width: figure.width, height: figure.height }).toEqual(png);
  });

  it("collects compiler warnings instead of printing them", async () => {
    const spies = (["log", "warn", "error", "info"] as const).map((name) =>
      vi.spyOn(console, name).mockImplementation(() => undefined),
    );
    try {
      const spec = {
        ...barSpec,
        encoding: {
          ...(barSpec as { encoding: object }).encoding,
          size: { field: "k", type: "nominal" },
        },
      } as VegaLiteSpec;
      const figure = await renderSpec(spec, { scale: 1 });
      expect(figure.warnings.length).toBeGreaterThan(0);
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it("leaves the caller's spec untouched", async () => {
    const copy = structuredClone(barSpec);
    await renderSpec(barSpec, { scale: 1 });
    expect(barSpec).toStrictEqual(copy);
  });

  it("rejects non-finite inline data, naming field and series", async () => {
    const spec = structuredClone(barSpec) as {
      data: { values: { v: number }[] };
    };
    spec.data.values[1].v = Number.NaN;
    const rendering = renderSpec(spec as unknown as VegaLiteSpec);
    await expect(rendering).rejects.toThrow(ConfigError);
    await expect(rendering).rejects.toThrow(/"v".*series "s"/);
  });

  it("rejects a spec that does not compile and a bad scale", async () => {
    const bad = { ...barSpec, mark: "nonsense" } as unknown as VegaLiteSpec;
    await expect(renderSpec(bad)).rejects.toThrow(ConfigError);
    await expect(renderSpec(barSpec, { scale: 0 })).rejects.toThrow(
      ConfigError,
    );
    await expect(
      renderSpec(barSpec, { scale: Number.POSITIVE_INFINITY }),
    ).rejects.toThrow(ConfigError);
  });
});

describe("writeFigure", () => {
  const spec = lineChart({
    title: "Loss",
    x: { label: "epoch", values: [0, 1, 2] },
    series: [{ name: "train", values: [3, 2, 1.5] }],
    width: 300,
    height: 200,
  });

  it("writes spec, SVG and PNG atomically, leaving no temp file", async () => {
    const folder = join(await freshFolder(), "nested", "figures");
    const base = join(folder, "loss");
    const written = await writeFigure(spec, base, { scale: 1 });
    expect(written.spec).toBe(`${base}.vl.json`);
    expect((await readdir(folder)).sort()).toEqual([
      "loss.png",
      "loss.svg",
      "loss.vl.json",
    ]);

    // The spec round-trips, and the SVG and PNG are the rendered ones.
    const text = await readFile(written.spec, "utf8");
    expect(JSON.parse(text)).toEqual(spec);
    expect(text).toContain('\n  "title"');
    const rendered = await renderSpec(spec, { scale: 1 });
    expect(await readFile(written.svg, "utf8")).toBe(rendered.svg);
    const png = new Uint8Array(await readFile(written.png));
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(pngSize(png)).toEqual({ width: 300, height: 200 });

    // Writing again replaces the files and still leaves no temp file.
    await writeFigure(spec, base, { scale: 2 });
    expect((await readdir(folder)).sort()).toEqual([
      "loss.png",
      "loss.svg",
      "loss.vl.json",
    ]);
    const png2 = new Uint8Array(await readFile(written.png));
    expect(pngSize(png2)).toEqual({ width: 600, height: 400 });
  });

  it("writes nothing when the spec does not render", async () => {
    const folder = await freshFolder();
    const bad = { ...spec, mark: "nonsense" } as unknown as VegaLiteSpec;
    await expect(writeFigure(bad, join(folder, "bad"))).rejects.toThrow(
      ConfigError,
    );
    expect(await readdir(folder)).toEqual([]);
  });

  it("rejects a path without a file name", async () => {
    const folder = await freshFolder();
    for (const path of [`${folder}/..`, `${folder}/`, `${folder}/.`]) {
      await expect(writeFigure(spec, path)).rejects.toThrow(ConfigError);
    }
    expect(await readdir(folder)).toEqual([]);
  });
});
