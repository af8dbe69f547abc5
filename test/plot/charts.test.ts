import { describe, expect, it } from "vitest";
import { ConfigError, ShapeError } from "../../src/errors.js";
import {
  lineChart,
  panels,
  renderSpec,
  type Segment,
  scatterChart,
  type VegaLiteSpec,
} from "../../src/plot/index.js";
import { PNG_SIGNATURE, pngSize, svgTexts } from "./helpers.js";

const steps = Float64Array.from({ length: 30 }, (_, t) => t);
const measured = steps.map((t) => 0.9 ** t);
const predicted = steps.map((t) => 0.9 ** t * 1.01);

function decayChart(): VegaLiteSpec {
  return lineChart({
    title: "Decay of the non-top part",
    x: { label: "step t", values: steps },
    y: { label: "distance" },
    series: [
      { name: "measured", values: measured },
      { name: "predicted", values: predicted, dashed: true },
    ],
    logY: true,
  });
}

// Seeded points of two classes, and the edges between close pairs.
function twoClasses(n: number) {
  let state = 7;
  const uniform = () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const group = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    group[i] = i % 2;
    x[i] = (group[i] === 0 ? -1 : 1) + uniform() - 0.5;
    y[i] = uniform() - 0.5;
  }
  const edges: Segment[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (Math.hypot(x[i] - x[j], y[i] - y[j]) < 0.3) {
        edges.push([x[i], y[i], x[j], y[j]]);
      }
    }
  }
  return { x, y, group, edges };
}

function expectPng(png: Uint8Array, width: number, height: number) {
  expect(png.length).toBeGreaterThan(1000);
  expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
  expect(pngSize(png)).toEqual({ width, height });
}

describe("lineChart", () => {
  it("renders at the requested size with axis titles and legend", async () => {
    const figure = await renderSpec(decayChart(), { scale: 2 });
    expectPng(figure.png, 960, 600);
    const texts = svgTexts(figure.svg);
    expect(texts).toEqual(
      expect.arrayContaining([
        "Decay of the non-top part",
        "step t",
        "distance",
        "measured",
        "predicted",
      ]),
    );
    expect(figure.svg).toContain('width="480" height="300"');
    expect(figure.warnings).toEqual([]);
  });

  it("puts long series names under the plot and grows the figure", async () => {
    const spec = lineChart({
      title: "Residual",
      x: { label: "dimension k", values: [2, 4, 8, 16] },
      series: [{ name: "residual measured", values: [4, 2, 1, 0.5] }],
      width: 400,
    });
    const figure = await renderSpec(spec, { scale: 1 });
    expectPng(figure.png, 400, 324);
    const texts = svgTexts(figure.svg);
    expect(texts).toContain("dimension k");
    // One series: the y axis is titled with its name, so is the legend.
    expect(texts.filter((t) => t === "residual measured")).toHaveLength(2);
  });

  it("names the series and index of a non-finite value", () => {
    const bad = Float32Array.from(measured);
    bad[4] = Number.NaN;
    const build = () =>
      lineChart({
        title: "t",
        x: { label: "x", values: steps },
        series: [
          { name: "measured", values: measured },
          { name: "loss", values: bad },
        ],
      });
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/series "loss".*NaN at index 4/);
    const infiniteX = () =>
      lineChart({
        title: "t",
        x: { label: "x", values: [0, Number.POSITIVE_INFINITY] },
        series: [{ name: "a", values: [1, 2] }],
      });
    expect(infiniteX).toThrow(/x\.values.*Infinity at index 1/);
  });

  it("rejects bad shapes, names and log values", () => {
    const x = { label: "x", values: [1, 2, 3] };
    expect(() =>
      lineChart({ title: "t", x, series: [{ name: "a", values: [1, 2] }] }),
    ).toThrow(ShapeError);
    expect(() => lineChart({ title: "t", x, series: [] })).toThrow(ConfigError);
    const a = { name: "a", values: [1, 2, 3] };
    expect(() => lineChart({ title: "t", x, series: [a, a] })).toThrow(
      ConfigError,
    );
    expect(() =>
      lineChart({
        title: "t",
        x,
        series: [{ name: "a", values: [1, 0, 3] }],
        logY: true,
      }),
    ).toThrow(/series "a".*log y/);
  });
});

describe("scatterChart", () => {
  const data = twoClasses(60);

  it("draws edges under class-coloured points, with a legend", async () => {
    const spec = scatterChart({
      title: "Data and augmentation graph",
      subtitle: "probe accuracy 97.5%",
      points: { x: data.x, y: data.y, group: data.group },
      edges: data.edges,
      x: { label: "x₁" },
      y: { label: "x₂" },
    });
    const figure = await renderSpec(spec, { scale: 1 });
    expectPng(figure.png, 360, 320);
    const texts = svgTexts(figure.svg);
    expect(texts).toEqual(
      expect.arrayContaining([
        "x₁",
        "x₂",
        "class",
        "0",
        "1",
        "probe accuracy 97.5%",
      ]),
    );

    // One line per edge, and the rule marks come before (under) points.
    expect(data.edges.length).toBeGreaterThan(10);
    const rules = figure.svg.indexOf("mark-rule role-mark");
    const points = figure.svg.indexOf("mark-symbol role-mark");
    expect(rules).toBeGreaterThan(0);
    expect(points).toBeGreaterThan(rules);
    const ruleGroup = figure.svg.slice(rules, points);
    expect(ruleGroup.match(/<line /g)).toHaveLength(data.edges.length);
  });

  it("colours by value with a gradient legend, in fixed domains", async () => {
    const spec = scatterChart({
      title: "Initial features",
      points: { x: data.y, y: data.x.map((v) => v / 2), color: data.x },
      x: { label: "f₁", domain: [-1, 1] },
      y: { label: "f₂", domain: [-1, 1] },
      legendTitle: "coordinate x₁",
      width: 300,
      height: 300,
    });
    const figure = await renderSpec(spec, { scale: 1 });
    expectPng(figure.png, 300, 300);
    expect(svgTexts(figure.svg)).toEqual(
      expect.arrayContaining(["f₁", "f₂", "coordinate x₁", "−1.0", "1.0"]),
    );
    expect(figure.svg).toContain("linearGradient");
  });

  it("names the array or edge holding a non-finite value", () => {
    const y = Float64Array.from(data.y);
    y[3] = Number.NEGATIVE_INFINITY;
    expect(() =>
      scatterChart({ title: "t", points: { x: data.x, y } }),
    ).toThrow(/points\.y.*-Infinity at index 3/);
    expect(() =>
      scatterChart({
        title: "t",
        points: { x: [0, 1], y: [0, 1] },
        edges: [
          [0, 0, 1, 1],
          [0, Number.NaN, 1, 1],
        ],
      }),
    ).toThrow(/edge 1.*NaN at index 1/);
  });

  it("rejects both colourings, mismatched lengths, empty domains", () => {
    const points = { x: [0, 1], y: [0, 1] };
    expect(() =>
      scatterChart({
        title: "t",
        points: { ...points, group: [0, 1], color: [0, 1] },
      }),
    ).toThrow(ConfigError);
    expect(() =>
      scatterChart({ title: "t", points: { x: [0, 1], y: [0] } }),
    ).toThrow(ShapeError);
    expect(() =>
      scatterChart({ title: "t", points, x: { label: "x", domain: [1, 1] } }),
    ).toThrow(ConfigError);
  });
});

describe("panels", () => {
  const data = twoClasses(40);
  const scatter = (title: string) =>
    scatterChart({
      title,
      points: { x: data.x, y: data.y, group: data.group },
      x: { label: "x₁" },
      y: { label: "x₂" },
    });

  it("lays out panels in columns, each with its titles", async () => {
    const spec = panels(
      [scatter("Data"), scatter("Alignment only"), decayChart()],
      { columns: 2, title: "Figure 1", subtitle: "seed 0" },
    );
    expect((spec as { concat: unknown[] }).concat).toHaveLength(3);
    const figure = await renderSpec(spec, { scale: 1 });
    const texts = svgTexts(figure.svg);
    expect(texts).toEqual(
      expect.arrayContaining([
        "Figure 1",
        "seed 0",
        "Data",
        "Alignment only",
        "Decay of the non-top part",
        "step t",
        "predicted",
      ]),
    );

    // Two columns: wider than two scatter plot areas, taller than two rows.
    const size = figure.svg.match(/width="([\d.]+)" height="([\d.]+)"/);
    const [width, height] = [Number(size?.[1]), Number(size?.[2])];
    expect(width).toBeGreaterThan(2 * 360);
    expect(height).toBeGreaterThan(320 + 300);
    expectPng(figure.png, Math.round(width), Math.round(height));
  });

  it("rejects no panels, bad columns and nested grids", () => {
    expect(() => panels([], { columns: 1 })).toThrow(ConfigError);
    expect(() => panels([scatter("a")], { columns: 0 })).toThrow(ConfigError);
    expect(() => panels([scatter("a")], { columns: 1.5 })).toThrow(ConfigError);
    const grid = panels([scatter("a")], { columns: 1 });
    expect(() => panels([grid], { columns: 1 })).toThrow(ConfigError);
  });
});

describe("determinism", () => {
  it("renders the same spec to the same SVG and PNG", async () => {
    const data = twoClasses(30);
    const spec = panels(
      [
        scatterChart({
          title: "a",
          points: { x: data.x, y: data.y, group: data.group },
          edges: data.edges,
          x: { label: "x₁", domain: [-2, 2] },
        }),
        decayChart(),
      ],
      { columns: 2 },
    );
    const first = await renderSpec(spec, { scale: 1 });
    await renderSpec(decayChart(), { scale: 1 });
    const [second, third] = await Promise.all([
      renderSpec(spec, { scale: 1 }),
      renderSpec(spec, { scale: 1 }),
    ]);
    expect(second.svg).toBe(first.svg);
    expect(third.svg).toBe(first.svg);
    expect(second.png).toEqual(first.png);
    expect(first.svg).toContain("clipPath");
  });
});
