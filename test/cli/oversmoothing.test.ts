// Tests of the oversmoothing study (experiments/oversmoothing.ts) and of
// `mpcl oversmoothing`: the energy ratio against a dense float64
// Laplacian, the initial energy of a 2-layer GCN against a forward pass
// written out here in float64, the summaries against hand computations,
// reuse of earlier cells, tensor leaks, and one small end-to-end run.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkProtocol,
  DEFAULT_OVERSMOOTHING_PROTOCOL,
  energyRatio,
  type OversmoothingCell,
  type OversmoothingProtocol,
  oversmoothingConfig,
  oversmoothingFigure,
  oversmoothingTable,
  protocolKey,
  runOversmoothing,
  runOversmoothingCell,
  summarizeCells,
} from "../../experiments/oversmoothing.js";
import { tf } from "../../src/backend.js";
import { protocolFromOptions } from "../../src/cli/oversmoothing.js";
import { ConfigError, ShapeError } from "../../src/errors.js";
import { Graph } from "../../src/graph/graph.js";
import { buildModel } from "../../src/nn/model.js";
import type { NodeClassificationData } from "../../src/nn/train.js";
import { lastJsonLine, runMpcl } from "../helpers/cli.js";
import { mulberry32, type Rng } from "../helpers/random.js";

/** A standard normal draw (Box–Muller). */
function normal(rng: Rng): number {
  const u = 1 - rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * A symmetric graph without self-loops on n nodes in `classes` blocks:
 * each unordered pair is joined with probability pIn inside a block and
 * pOut across, both directions stored. Labels are the blocks.
 */
function blockGraph(
  rng: Rng,
  n: number,
  classes: number,
  pIn: number,
  pOut: number,
): { graph: Graph; labels: Int32Array } {
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % classes;
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (rng() < (labels[i] === labels[j] ? pIn : pOut)) {
        src.push(i, j);
        dst.push(j, i);
      }
    }
  }
  return { graph: Graph.fromEdges(src, dst, { numNodes: n }), labels };
}

/** A small node-classification problem: 3 blocks, Gaussian features. */
function tinyData(seed: number): NodeClassificationData {
  const rng = mulberry32(seed);
  const n = 45;
  const f = 6;
  const classes = 3;
  const { graph, labels } = blockGraph(rng, n, classes, 0.3, 0.03);
  const x = new Float32Array(n * f);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) {
      x[i * f + j] = (j % classes === labels[i] ? 1 : 0) + normal(rng);
    }
  }
  const ids = (from: number, to: number) =>
    Int32Array.from({ length: to - from }, (_, k) => from + k);
  return {
    graph,
    features: tf.tensor2d(x, [n, f]),
    labels,
    numClasses: classes,
    split: { train: ids(0, 15), val: ids(15, 30), test: ids(30, 45) },
  };
}

/** The dense `[n, n]` adjacency (weights 1) of a graph, in float64. */
function denseAdjacency(graph: Graph): Float64Array[] {
  const n = graph.numNodes;
  const a = Array.from({ length: n }, () => new Float64Array(n));
  for (let e = 0; e < graph.numEdges; e++) a[graph.dst[e]][graph.src[e]] += 1;
  return a;
}

/** Â = D̃^-1/2 (A + I) D̃^-1/2 in float64 (A without self-loops). */
function gcnMatrix(graph: Graph): Float64Array[] {
  const a = denseAdjacency(graph);
  const n = a.length;
  for (let i = 0; i < n; i++) a[i][i] += 1;
  const d = a.map((row) => row.reduce((s, v) => s + v, 0));
  return a.map((row, i) => row.map((v, j) => v / Math.sqrt(d[i] * d[j])));
}

/**
 * tr(Hᵀ Δ̃ H) / tr(Hᵀ H) with Δ̃ = I − Â, written out in float64 over
 * the float32 values of H.
 */
function referenceRatio(graph: Graph, h: Float32Array, k: number): number {
  const aHat = gcnMatrix(graph);
  const n = graph.numNodes;
  let energy = 0;
  let norm = 0;
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) {
      let ah = 0;
      for (let j = 0; j < n; j++) ah += aHat[i][j] * h[j * k + c];
      energy += h[i * k + c] * (h[i * k + c] - ah);
      norm += h[i * k + c] * h[i * k + c];
    }
  }
  return energy / norm;
}

/** A protocol for the tiny data: 2 and 3 layers, 1 seed, 4 epochs. */
function tinyProtocol(
  overrides: Partial<OversmoothingProtocol> = {},
): OversmoothingProtocol {
  return {
    ...structuredClone({ ...DEFAULT_OVERSMOOTHING_PROTOCOL }),
    depths: [2, 3],
    seeds: 1,
    hidden: 8,
    epochs: 4,
    patience: 0,
    ...overrides,
  };
}

describe("energyRatio", () => {
  const rng = mulberry32(11);
  const { graph } = blockGraph(rng, 30, 3, 0.4, 0.05);
  const k = 5;
  const h = Float32Array.from({ length: 30 * k }, () => normal(rng));

  it("matches tr(HᵀΔ̃H)/tr(HᵀH) of a dense float64 Laplacian", () => {
    const got = energyRatio(graph, h, k);
    const want = referenceRatio(graph, h, k);
    expect(Math.abs(got.ratio - want)).toBeLessThan(1e-12 * Math.abs(want));
    let norm = 0;
    for (const v of h) norm += v * v;
    expect(got.squaredNorm).toBeCloseTo(norm, 9);
    expect(got.energy / got.squaredNorm).toBe(got.ratio);
  });

  it("is scale-free, equal for tensors and arrays, 0 on D̃^1/2 1", () => {
    const scaled = h.map((v) => 4 * v);
    expect(energyRatio(graph, scaled, k).ratio).toBeCloseTo(
      energyRatio(graph, h, k).ratio,
      12,
    );
    const t = tf.tensor2d(h, [30, k]);
    expect(energyRatio(graph, t).ratio).toBe(energyRatio(graph, h, k).ratio);
    t.dispose();
    // the fixed direction of GCN propagation has no energy
    const a = denseAdjacency(graph);
    const root = Float32Array.from(a, (row) =>
      Math.sqrt(1 + row.reduce((s, v) => s + v, 0)),
    );
    expect(energyRatio(graph, root, 1).ratio).toBeLessThan(1e-7);
  });

  it("raises ShapeError for the wrong number of rows", () => {
    expect(() => energyRatio(graph, new Float32Array(29 * k), k)).toThrow(
      ShapeError,
    );
    expect(() => energyRatio(graph, h)).toThrow(ShapeError);
  });
});

describe("protocol and configs", () => {
  it("builds the config of each variant", () => {
    const p = tinyProtocol();
    const gcn = oversmoothingConfig("gcn", 8, p);
    expect(gcn.model).toMatchObject({
      conv: "gcn",
      layers: 8,
      hidden: 8,
      norm: "none",
      jk: "none",
      inputDropout: 0.5,
      dropout: 0,
    });
    expect(gcn.train).toMatchObject({
      epochs: 4,
      weightDecayOn: "all",
      stopOn: "val_acc",
    });
    expect(oversmoothingConfig("pairnorm", 4, p).model).toMatchObject({
      norm: "pairnorm",
      normOptions: { mode: "PN-SI", scale: 1 },
    });
    expect(oversmoothingConfig("contranorm", 4, p).model).toMatchObject({
      norm: "contranorm",
      normOptions: { scale: 0.1, temperature: 1, layerNorm: true },
    });
    expect(oversmoothingConfig("jk", 4, p).model).toMatchObject({
      jk: "max",
      norm: "none",
    });
  });

  it("rejects bad protocols with ConfigError", () => {
    expect(() => checkProtocol(tinyProtocol({ depths: [1, 2] }))).toThrow(
      ConfigError,
    );
    expect(() => checkProtocol(tinyProtocol({ depths: [2, 2] }))).toThrow(
      ConfigError,
    );
    expect(() =>
      checkProtocol(tinyProtocol({ variants: ["gcn", "batchnorm" as "gcn"] })),
    ).toThrow(ConfigError);
    expect(() => checkProtocol(tinyProtocol({ seeds: 0 }))).toThrow(
      ConfigError,
    );
    expect(() => checkProtocol(tinyProtocol({ patience: -1 }))).toThrow(
      ConfigError,
    );
  });

  it("reads command-line options over the defaults", () => {
    const p = protocolFromOptions({
      depths: "2,8",
      variants: "gcn,jk",
      seeds: "2",
      epochs: "7",
      patience: "0",
    });
    expect(p).toMatchObject({
      depths: [2, 8],
      variants: ["gcn", "jk"],
      seeds: 2,
      epochs: 7,
      patience: 0,
      hidden: DEFAULT_OVERSMOOTHING_PROTOCOL.hidden,
    });
    expect(() => protocolFromOptions({ depths: "2,x" })).toThrow(ConfigError);
    expect(() => protocolFromOptions({ depths: "1" })).toThrow(ConfigError);
    expect(() => protocolFromOptions({ variants: "gcn,gat" })).toThrow(
      ConfigError,
    );
    expect(() => protocolFromOptions({ seeds: "1.5" })).toThrow(ConfigError);
    // the training key ignores the lists that --resume may widen
    expect(protocolKey(p)).toBe(
      protocolKey({ ...p, depths: [4], seeds: 9, variants: ["pairnorm"] }),
    );
    expect(protocolKey(p)).not.toBe(protocolKey({ ...p, epochs: 8 }));
  });
});

describe("runOversmoothingCell", () => {
  it("measures the initial energy of a 2-layer GCN as a float64 forward pass does", () => {
    const data = tinyData(3);
    const p = tinyProtocol();
    const cell = runOversmoothingCell(data, "gcn", 2, 1, p);

    // the same initial weights (seed 2 · 1), then relu(Â X W + b) by hand
    const config = oversmoothingConfig("gcn", 2, p);
    const model = buildModel(config.model, {
      inputDim: 6,
      numClasses: 3,
      seed: 2,
    });
    const params = new Map(
      model.parameters().map((q) => [q.name, q.variable.dataSync()]),
    );
    model.dispose();
    const w = params.get("layers.0.weight") as Float32Array;
    const b = params.get("layers.0.bias") as Float32Array;
    const x = (data.features as tf.Tensor2D).dataSync();
    const aHat = gcnMatrix(data.graph);
    const n = 45;
    const k = 8;
    const xw = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < k; c++) {
        for (let j = 0; j < 6; j++)
          xw[i * k + c] += x[i * 6 + j] * w[j * k + c];
      }
    }
    const h = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < k; c++) {
        let s = b[c];
        for (let j = 0; j < n; j++) s += aHat[i][j] * xw[j * k + c];
        h[i * k + c] = Math.max(0, s);
      }
    }
    const want = referenceRatio(data.graph, h, k);
    expect(Math.abs(cell.energyInit - want)).toBeLessThan(1e-5 * want);

    // the record of the run
    expect(cell).toMatchObject({ variant: "gcn", depth: 2, seed: 1 });
    expect(cell.epochs).toBe(4);
    expect(cell.bestEpoch).toBeGreaterThanOrEqual(1);
    expect(cell.bestEpoch).toBeLessThanOrEqual(4);
    expect(cell.testAcc).toBeGreaterThanOrEqual(0);
    expect(cell.testAcc).toBeLessThanOrEqual(100);
    expect(cell.energy).toBeGreaterThan(0);
    expect(cell.energy).toBeLessThan(2);
    (data.features as tf.Tensor2D).dispose();
  });

  it("is deterministic for a seed and frees its tensors", () => {
    const data = tinyData(5);
    const p = tinyProtocol({ variants: ["pairnorm", "jk"] });
    const before = tf.memory().numTensors;
    const first = runOversmoothing(data, p);
    const second = runOversmoothing(data, p);
    expect(tf.memory().numTensors).toBe(before);
    const strip = (c: OversmoothingCell) => ({ ...c, seconds: 0 });
    expect(second.cells.map(strip)).toEqual(first.cells.map(strip));
    expect(first.cells.map((c) => `${c.variant}/${c.depth}`)).toEqual([
      "pairnorm/2",
      "pairnorm/3",
      "jk/2",
      "jk/3",
    ]);
    // the ratios of the input features and of constant rows
    const x = (data.features as tf.Tensor2D).dataSync() as Float32Array;
    expect(first.inputEnergy).toBeCloseTo(referenceRatio(data.graph, x, 6), 10);
    const ones = new Float32Array(45).fill(1);
    expect(first.constantEnergy).toBeCloseTo(
      referenceRatio(data.graph, ones, 1),
      10,
    );
    expect(first.constantEnergy).toBeGreaterThan(1e-3);
    (data.features as tf.Tensor2D).dispose();
  });

  it("reuses earlier cells instead of training them again", () => {
    const data = tinyData(7);
    const p = tinyProtocol({ variants: ["gcn"], depths: [2] });
    const earlier: OversmoothingCell = {
      variant: "gcn",
      depth: 2,
      seed: 0,
      testAcc: 55.5,
      valAcc: 44.4,
      bestEpoch: 3,
      epochs: 9,
      energy: 0.25,
      energyInit: 0.5,
      rawEnergy: 1,
      rawEnergyInit: 2,
      seconds: 1,
    };
    const result = runOversmoothing(data, p, { previous: [earlier] });
    expect(result.cells).toEqual([earlier]);
    (data.features as tf.Tensor2D).dispose();
  });
});

describe("summaries and reports", () => {
  const cell = (
    variant: OversmoothingCell["variant"],
    depth: number,
    seed: number,
    testAcc: number,
    energy: number,
  ): OversmoothingCell => ({
    variant,
    depth,
    seed,
    testAcc,
    valAcc: 0,
    bestEpoch: seed + 1,
    epochs: 10,
    energy,
    energyInit: energy / 10,
    rawEnergy: 0,
    rawEnergyInit: 0,
    seconds: 0,
  });
  const cells = [
    cell("gcn", 2, 0, 80, 0.01),
    cell("gcn", 2, 1, 70, 1),
    cell("gcn", 2, 2, 75, 0.1),
    cell("jk", 2, 0, 60, Number.NaN),
  ];

  it("takes the mean, population std and geometric means", () => {
    const [gcn, jk] = summarizeCells(cells);
    expect(gcn.seeds).toBe(3);
    expect(gcn.accMean).toBe(75);
    expect(gcn.accStd).toBeCloseTo(Math.sqrt(50 / 3), 2);
    expect(gcn.energy).toBeCloseTo(0.1, 12);
    expect(gcn.energyInit).toBeCloseTo(0.01, 12);
    expect(gcn.bestEpoch).toBe(2);
    expect(jk.energy).toBeNaN();
  });

  it("writes a table row per (variant, depth) and a two-panel figure", () => {
    const result = {
      protocol: tinyProtocol({ variants: ["gcn", "jk"], depths: [2] }),
      inputEnergy: 0.5,
      constantEnergy: 0.07,
      cells,
      summary: summarizeCells(cells),
      seconds: 0,
    };
    const table = oversmoothingTable(result).split("\n");
    expect(table).toHaveLength(4);
    expect(table[2]).toBe("| GCN | 2 | 75.0 ± 4.1 | 0.100 | 0.0100 | 2 | 3 |");
    expect(table[3]).toBe("| GCN + JK | 2 | 60.0 ± 0.0 | — | — | 1 | 1 |");
    const spec = oversmoothingFigure(result) as unknown as {
      concat: { data: { values: { series: string }[] } }[];
    };
    expect(spec.concat).toHaveLength(2);
    // JK's undefined energy leaves it out of the energy panel only
    const names = (k: number) =>
      new Set(spec.concat[k].data.values.map((r) => r.series));
    expect([...names(0)]).toEqual(["GCN", "GCN + JK"]);
    expect([...names(1)]).toEqual(["GCN", "GCN, init", "constant rows"]);
  });
});

describe("mpcl oversmoothing", () => {
  it("runs a tiny study on Cora and writes its files", () => {
    const dir = mkdtempSync(join(tmpdir(), "mpcl-oversmoothing-"));
    const { stdout, status, stderr } = runMpcl([
      "oversmoothing",
      "--depths",
      "2",
      "--variants",
      "gcn",
      "--seeds",
      "1",
      "--epochs",
      "2",
      "--out",
      dir,
      "--json",
    ]);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    const report = lastJsonLine<{
      summary: { variant: string; depth: number; accMean: number }[];
      inputEnergy: number;
    }>(stdout);
    expect(report.summary).toHaveLength(1);
    expect(report.summary[0]).toMatchObject({ variant: "gcn", depth: 2 });
    expect(report.inputEnergy).toBeGreaterThan(0);
    expect(report.inputEnergy).toBeLessThan(2);
    for (const ext of ["json", "md", "svg", "png", "vl.json"]) {
      expect(existsSync(join(dir, `oversmoothing.${ext}`))).toBe(true);
    }
    const saved = JSON.parse(
      readFileSync(join(dir, "oversmoothing.json"), "utf8"),
    ) as { cells: OversmoothingCell[]; protocol: OversmoothingProtocol };
    expect(saved.cells).toHaveLength(1);
    expect(saved.protocol.epochs).toBe(2);
    expect(readFileSync(join(dir, "oversmoothing.md"), "utf8")).toMatch(
      /\| GCN \| 2 \| \d+\.\d ± 0\.0 \|/,
    );
  });
});
