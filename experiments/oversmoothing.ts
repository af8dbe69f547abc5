/**
 * The oversmoothing study: test accuracy and Dirichlet energy of deep
 * GCNs (Kipf & Welling 2017) against depth, for a plain GCN and three
 * remedies — PairNorm (Zhao & Akoglu, ICLR 2020), ContraNorm (Guo et al.,
 * ICLR 2023) and jumping knowledge (Xu et al., ICML 2018) — on one
 * node-classification dataset (Cora's public split by default).
 *
 * The energy is the Rayleigh quotient of the last hidden layer's output
 * under the augmented normalized Laplacian, measured once at
 * initialization (pure propagation through random weights) and once at
 * the checkpoint that early stopping selects; the decay of the first is
 * oversmoothing itself (Cai & Wang 2020; Rusch, Bronstein & Mishra 2023).
 *
 * `mpcl oversmoothing` (src/cli/oversmoothing.ts) runs it and writes the
 * table, the figure and the JSON of experiments/results/.
 */

import { tf } from "../src/backend.js";
import { round } from "../src/cli/util.js";
import { ConfigError, ShapeError } from "../src/errors.js";
import type { Graph } from "../src/graph/graph.js";
import { featureShape, SparseFeatures } from "../src/mp/linear.js";
import {
  type NodeClassificationConfig,
  parseConfig,
} from "../src/nn/config.js";
import { buildModel } from "../src/nn/model.js";
import type { PairNormMode } from "../src/nn/pairnorm.js";
import {
  type EpochEvent,
  type NodeClassificationData,
  trainNodeClassifier,
} from "../src/nn/train.js";
import { type LineSeries, lineChart } from "../src/plot/line.js";
import { panels } from "../src/plot/panels.js";
import type { VegaLiteSpec } from "../src/plot/render.js";
import { mulberry32 } from "../src/random.js";
import { dirichletEnergy } from "../src/spectral/energy.js";

// ---------------------------------------------------------------------------
// the protocol
// ---------------------------------------------------------------------------

/** The four models compared. */
export const OVERSMOOTHING_VARIANTS = [
  "gcn",
  "pairnorm",
  "contranorm",
  "jk",
] as const;
/** One of {@link OVERSMOOTHING_VARIANTS}. */
export type OversmoothingVariant = (typeof OVERSMOOTHING_VARIANTS)[number];

/** How each variant is named in tables and figures. */
export const VARIANT_LABELS: Readonly<Record<OversmoothingVariant, string>> = {
  gcn: "GCN",
  pairnorm: "GCN + PairNorm",
  contranorm: "GCN + ContraNorm",
  jk: "GCN + JK",
};

/** Everything that fixes a run of the study. */
export interface OversmoothingProtocol {
  /** Dataset name, for the record (the data are passed separately). */
  dataset: string;
  /** Numbers of layers L, the output layer included (≥ 2 each). */
  depths: number[];
  /** Variants to train. */
  variants: OversmoothingVariant[];
  /** Seeds 0 .. seeds − 1 per (variant, depth). */
  seeds: number;
  /** Width of every hidden layer. */
  hidden: number;
  /** Dropout on the input features (first layer only). */
  inputDropout: number;
  /** Dropout on the input of every later layer (and of JK's classifier). */
  dropout: number;
  /** Adam learning rate. */
  lr: number;
  /** L2 weight decay on every weight (LayerNorm gains excepted). */
  weightDecay: number;
  /** Largest number of epochs. */
  epochs: number;
  /** Epochs without a better validation accuracy before stopping. */
  patience: number;
  /** PairNorm's variant and scale s. */
  pairNorm: { mode: PairNormMode; scale: number };
  /** ContraNorm's step size s, temperature τ, and trailing LayerNorm. */
  contraNorm: { scale: number; temperature: number; layerNorm: boolean };
  /** The jumping-knowledge readout. */
  jk: "cat" | "max";
}

/**
 * The default protocol, with the reasons for each choice:
 *
 * - depths 2, 4, 8, 16, 32, 64; 3 seeds.
 * - hidden 32: deep-GCN studies use 32 to 128 (64 is common); 32 halves
 *   the dense products of every layer, which matters at 64 layers on a
 *   shared CPU, and is enough for Cora's 7 classes.
 * - dropout 0.5 on the input features only, none between hidden layers:
 *   dropout at every one of 64 layers makes a deep plain GCN untrainable
 *   for a reason other than oversmoothing, and the study should isolate
 *   oversmoothing.
 * - Adam, lr 0.01, weight decay 5e-4 on all weights (Kipf & Welling's
 *   values; they decay the first layer only, which leaves a 64-layer
 *   stack unregularized).
 * - at most 100 epochs, patience 20 on validation accuracy (ties broken
 *   by the lower validation loss); the selected weights are tested.
 * - PairNorm in mode PN-SI with s = 1: Zhao & Akoglu use PN-SI for GCN
 *   and GAT (their paper's experiments and their README's GCN command);
 *   plain PN is their choice for SGC.
 * - ContraNorm with s = 0.1, τ = 1 and the trailing LayerNorm: the
 *   defaults of the authors' released module (which always applies the
 *   LayerNorm); the paper tunes s per dataset and depth, this study does
 *   not.
 * - JK with `max`: its output width stays 32 at every depth, while `cat`
 *   grows to 32 · L inputs for the classifier (2,048 at 64 layers), so
 *   `max` compares depths at an equal classifier size.
 */
export const DEFAULT_OVERSMOOTHING_PROTOCOL: Readonly<OversmoothingProtocol> = {
  dataset: "cora",
  depths: [2, 4, 8, 16, 32, 64],
  variants: [...OVERSMOOTHING_VARIANTS],
  seeds: 3,
  hidden: 32,
  inputDropout: 0.5,
  dropout: 0,
  lr: 0.01,
  weightDecay: 5e-4,
  epochs: 100,
  patience: 20,
  pairNorm: { mode: "PN-SI", scale: 1 },
  contraNorm: { scale: 0.1, temperature: 1, layerNorm: true },
  jk: "max",
};

/**
 * Check a protocol: depths integers ≥ 2 without repeats, known variants
 * without repeats, positive integer seeds, hidden, epochs, a non-negative
 * integer patience. Raises `ConfigError` naming the field otherwise.
 */
export function checkProtocol(protocol: OversmoothingProtocol): void {
  const fn = "checkProtocol";
  const { depths, variants } = protocol;
  if (
    !Array.isArray(depths) ||
    depths.length === 0 ||
    depths.some((d) => !Number.isInteger(d) || d < 2) ||
    new Set(depths).size !== depths.length
  ) {
    throw new ConfigError(
      `${fn}: depths must be distinct integers >= 2, got ${JSON.stringify(depths)}`,
    );
  }
  if (
    !Array.isArray(variants) ||
    variants.length === 0 ||
    variants.some((v) => !OVERSMOOTHING_VARIANTS.includes(v)) ||
    new Set(variants).size !== variants.length
  ) {
    throw new ConfigError(
      `${fn}: variants must be distinct names among ${OVERSMOOTHING_VARIANTS.join(", ")}, got ${JSON.stringify(variants)}`,
    );
  }
  for (const key of ["seeds", "hidden", "epochs"] as const) {
    const v = protocol[key];
    if (!Number.isInteger(v) || v < 1) {
      throw new ConfigError(
        `${fn}: ${key} must be a positive integer, got ${v}`,
      );
    }
  }
  if (!Number.isInteger(protocol.patience) || protocol.patience < 0) {
    throw new ConfigError(
      `${fn}: patience must be a non-negative integer, got ${protocol.patience}`,
    );
  }
}

/**
 * The experiment config of one variant at one depth: a GCN of `depth`
 * layers on the protocol's dataset, with PairNorm or ContraNorm after
 * every hidden layer, or a JK readout over all layers followed by a
 * linear classifier. Validated by `parseConfig` (`ConfigError` on a bad
 * value).
 */
export function oversmoothingConfig(
  variant: OversmoothingVariant,
  depth: number,
  protocol: OversmoothingProtocol,
): NodeClassificationConfig {
  const normOptions =
    variant === "pairnorm"
      ? { mode: protocol.pairNorm.mode, scale: protocol.pairNorm.scale }
      : variant === "contranorm"
        ? { ...protocol.contraNorm }
        : {};
  return parseConfig(
    {
      task: "node-classification",
      name: `oversmoothing-${variant}-${depth}`,
      dataset: { name: protocol.dataset },
      model: {
        conv: "gcn",
        layers: depth,
        hidden: protocol.hidden,
        activation: "relu",
        inputDropout: protocol.inputDropout,
        dropout: protocol.dropout,
        norm:
          variant === "pairnorm" || variant === "contranorm" ? variant : "none",
        normOptions,
        jk: variant === "jk" ? protocol.jk : "none",
      },
      train: {
        epochs: protocol.epochs,
        lr: protocol.lr,
        weightDecay: protocol.weightDecay,
        weightDecayOn: "all",
        patience: protocol.patience,
        stopOn: "val_acc",
        optimizer: "adam",
      },
      seeds: protocol.seeds,
    },
    "oversmoothing",
  );
}

// ---------------------------------------------------------------------------
// the energy
// ---------------------------------------------------------------------------

/** The energy of one feature matrix, see {@link energyRatio}. */
export interface EnergyMeasure {
  /** `tr(Hᵀ Δ̃ H)`, the degree-normalized Dirichlet energy. */
  energy: number;
  /** `tr(Hᵀ H) = ‖H‖_F²`. */
  squaredNorm: number;
  /** `energy / squaredNorm`, in [0, 2); NaN when H = 0. */
  ratio: number;
}

/**
 * The Dirichlet energy of node features H `[N, k]` on a symmetric graph,
 * normalized by their squared Frobenius norm:
 *
 *     ratio(H) = tr(Hᵀ Δ̃ H) / tr(Hᵀ H),
 *     Δ̃ = I − D̃^{-1/2} (A + I) D̃^{-1/2},  D̃ = D + I,
 *
 * the Rayleigh quotient of the augmented normalized Laplacian, GCN's own
 * (Cai & Wang 2020). It lies in [0, 2), is 0 exactly when every column of
 * H is a multiple of D̃^{1/2} 1 (the fixed direction of repeated GCN
 * propagation), and does not change when H is rescaled — so PairNorm's
 * and ContraNorm's rescaling does not move it, only the shape of H does.
 * Computed in float64 by `dirichletEnergy`.
 *
 * `h` is a float32 tensor (read, not disposed) or row-major values with
 * `cols` columns. Raises `ShapeError` when the rows are not one per node.
 */
export function energyRatio(
  graph: Graph,
  h: tf.Tensor2D | Float32Array,
  cols?: number,
): EnergyMeasure {
  let data: Float32Array;
  let k: number;
  if (h instanceof Float32Array) {
    if (cols === undefined || !Number.isInteger(cols) || cols < 1) {
      throw new ShapeError(
        `energyRatio: cols must be a positive integer with a Float32Array, got ${cols}`,
      );
    }
    data = h;
    k = cols;
  } else {
    data = h.dataSync() as Float32Array;
    k = h.shape[1];
  }
  const rows = data.length / k;
  if (rows !== graph.numNodes) {
    throw new ShapeError(
      `energyRatio: expected ${graph.numNodes} rows (one per node), got ${rows}`,
    );
  }
  const energy = dirichletEnergy(graph, { data, rows, cols: k });
  let squaredNorm = 0;
  for (let i = 0; i < data.length; i++) squaredNorm += data[i] * data[i];
  return { energy, squaredNorm, ratio: energy / squaredNorm };
}

// ---------------------------------------------------------------------------
// running
// ---------------------------------------------------------------------------

/** The outcome of one (variant, depth, seed). */
export interface OversmoothingCell {
  variant: OversmoothingVariant;
  depth: number;
  seed: number;
  /** Test accuracy of the selected weights, in percent. */
  testAcc: number;
  /** Validation accuracy of the selected weights, in percent. */
  valAcc: number;
  /** Epoch (from 1) whose weights were selected. */
  bestEpoch: number;
  /** Epochs run. */
  epochs: number;
  /** Energy ratio of the last hidden output at the selected weights. */
  energy: number;
  /** Energy ratio of the last hidden output at initialization. */
  energyInit: number;
  /** Unnormalized `tr(Hᵀ Δ̃ H)` at the selected weights. */
  rawEnergy: number;
  /** Unnormalized `tr(Hᵀ Δ̃ H)` at initialization. */
  rawEnergyInit: number;
  /** Wall-clock seconds of the cell. */
  seconds: number;
}

/**
 * The energy of the last hidden output of `model` in inference mode.
 * Tensors are freed.
 */
function lastHiddenEnergy(
  model: ReturnType<typeof buildModel>,
  data: NodeClassificationData,
): EnergyMeasure {
  const { logits, hidden } = model.forward(data.features, data.graph, {
    training: false,
    random: mulberry32(0),
  });
  try {
    return energyRatio(data.graph, hidden[hidden.length - 1]);
  } finally {
    logits.dispose();
    tf.dispose(hidden);
  }
}

/**
 * Train one variant at one depth with one seed and measure it.
 *
 * The model is built as `trainNodeClassifier` would build it (initial
 * weights from seed 2·seed), its energy is measured before training,
 * it is trained in place, and its energy is measured again with the
 * weights that early stopping selected. No tensor is left behind.
 */
export function runOversmoothingCell(
  data: NodeClassificationData,
  variant: OversmoothingVariant,
  depth: number,
  seed: number,
  protocol: OversmoothingProtocol,
  onEpoch?: (event: EpochEvent) => void,
): OversmoothingCell {
  const start = performance.now();
  const config = oversmoothingConfig(variant, depth, protocol);
  const [, inputDim] = featureShape(data.features);
  const model = buildModel(config.model, {
    inputDim,
    numClasses: data.numClasses,
    seed: 2 * seed,
  });
  try {
    const init = lastHiddenEnergy(model, data);
    const result = trainNodeClassifier(config, data, { seed, model, onEpoch });
    const trained = lastHiddenEnergy(model, data);
    return {
      variant,
      depth,
      seed,
      testAcc: round(100 * result.testAcc, 2),
      valAcc: round(100 * result.valAcc, 2),
      bestEpoch: result.bestEpoch,
      epochs: result.epochs,
      energy: trained.ratio,
      energyInit: init.ratio,
      rawEnergy: trained.energy,
      rawEnergyInit: init.energy,
      seconds: round((performance.now() - start) / 1000, 2),
    };
  } finally {
    model.dispose();
  }
}

/** Mean and spread of one (variant, depth) over its seeds. */
export interface OversmoothingSummary {
  variant: OversmoothingVariant;
  depth: number;
  /** Number of seeds. */
  seeds: number;
  /** Mean test accuracy, percent. */
  accMean: number;
  /** Population standard deviation of the test accuracy, percent. */
  accStd: number;
  /** Geometric mean of the energy ratio at the selected weights. */
  energy: number;
  /** Geometric mean of the energy ratio at initialization. */
  energyInit: number;
  /** Mean selected epoch. */
  bestEpoch: number;
}

/** Everything a run produced: the protocol, every cell, the summaries. */
export interface OversmoothingResult {
  protocol: OversmoothingProtocol;
  /**
   * The energy ratio of the input features X (row-normalized), the
   * level that propagation starts from.
   */
  inputEnergy: number;
  /**
   * The energy ratio of constant features (every row equal, e.g. a
   * bias alone): not 0 for the normalized energy, since its null
   * direction is D̃^{1/2} 1, not 1. A collapsed network whose rows are
   * all equal sits at this level.
   */
  constantEnergy: number;
  cells: OversmoothingCell[];
  summary: OversmoothingSummary[];
  /** Wall-clock seconds of the cells run now (reused ones excluded). */
  seconds: number;
}

/** Options of {@link runOversmoothing}. */
export interface RunOversmoothingOptions {
  /**
   * Cells of an earlier run of the same protocol to reuse instead of
   * training again, matched on (variant, depth, seed); default none.
   */
  previous?: readonly OversmoothingCell[];
  /** Called before each cell with its place in the run. */
  onCellStart?: (
    cell: { variant: OversmoothingVariant; depth: number; seed: number },
    index: number,
    total: number,
  ) => void;
  /** Called after each cell with the cells so far (reused ones included). */
  onCell?: (
    cell: OversmoothingCell,
    done: readonly OversmoothingCell[],
  ) => void;
  /** Called after every epoch of every cell. */
  onEpoch?: (event: EpochEvent) => void;
}

/** The training hyperparameters of a protocol, as a comparable key. */
export function protocolKey(protocol: OversmoothingProtocol): string {
  const {
    depths: _depths,
    variants: _variants,
    seeds: _seeds,
    ...rest
  } = protocol;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

/**
 * Run the study: every variant at every depth with every seed (variants
 * outermost, then depths, then seeds), then summarize. Cells from
 * `options.previous` with the same (variant, depth, seed) are reused —
 * the caller must pass only cells of a protocol with the same
 * {@link protocolKey}. Raises `ConfigError` for a bad protocol.
 */
export function runOversmoothing(
  data: NodeClassificationData,
  protocol: OversmoothingProtocol,
  options: RunOversmoothingOptions = {},
): OversmoothingResult {
  checkProtocol(protocol);
  const start = performance.now();
  const previous = new Map(
    (options.previous ?? []).map((c) => [
      `${c.variant}/${c.depth}/${c.seed}`,
      c,
    ]),
  );
  const plan: { variant: OversmoothingVariant; depth: number; seed: number }[] =
    [];
  for (const variant of protocol.variants) {
    for (const depth of protocol.depths) {
      for (let seed = 0; seed < protocol.seeds; seed++) {
        plan.push({ variant, depth, seed });
      }
    }
  }

  // the energy of the input features and of constant rows
  const { inputEnergy, constantEnergy } = referenceEnergies(data);

  const cells: OversmoothingCell[] = [];
  for (const [index, { variant, depth, seed }] of plan.entries()) {
    options.onCellStart?.({ variant, depth, seed }, index, plan.length);
    const cell =
      previous.get(`${variant}/${depth}/${seed}`) ??
      runOversmoothingCell(
        data,
        variant,
        depth,
        seed,
        protocol,
        options.onEpoch,
      );
    cells.push(cell);
    options.onCell?.(cell, cells);
  }

  return {
    protocol,
    inputEnergy,
    constantEnergy,
    cells,
    summary: summarizeCells(cells),
    seconds: round((performance.now() - start) / 1000, 1),
  };
}

/**
 * The energy ratios a run is read against: that of the input features
 * X (where propagation starts) and that of constant rows (where a
 * network that forgot its input ends).
 */
export function referenceEnergies(data: NodeClassificationData): {
  inputEnergy: number;
  constantEnergy: number;
} {
  const [, cols] = featureShape(data.features);
  const n = data.graph.numNodes;
  return {
    inputEnergy: energyRatio(data.graph, featureValues(data), cols).ratio,
    constantEnergy: energyRatio(data.graph, new Float32Array(n).fill(1), 1)
      .ratio,
  };
}

/** The row-major values of the features, dense or sparse. */
function featureValues(data: NodeClassificationData): Float32Array {
  const x = data.features;
  if (!(x instanceof SparseFeatures)) return x.dataSync() as Float32Array;
  const out = new Float32Array(x.rows * x.cols);
  for (let i = 0; i < x.rows; i++) {
    for (let e = x.rowPtr[i]; e < x.rowPtr[i + 1]; e++) {
      out[i * x.cols + x.colIdx[e]] += x.values[e];
    }
  }
  return out;
}

/** Geometric mean of positive values; NaN if any is not > 0. */
function geometricMean(values: readonly number[]): number {
  if (values.some((v) => !(v > 0))) return Number.NaN;
  return Math.exp(values.reduce((s, v) => s + Math.log(v), 0) / values.length);
}

/**
 * One summary per (variant, depth) present in `cells`, in order of first
 * appearance: mean and population standard deviation of the test
 * accuracy, geometric means of the energy ratios (they span orders of
 * magnitude), mean selected epoch.
 */
export function summarizeCells(
  cells: readonly OversmoothingCell[],
): OversmoothingSummary[] {
  const groups = new Map<string, OversmoothingCell[]>();
  for (const c of cells) {
    const key = `${c.variant}/${c.depth}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [c]);
    else group.push(c);
  }
  return [...groups.values()].map((group) => {
    const accs = group.map((c) => c.testAcc);
    const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
    const variance =
      accs.reduce((a, b) => a + (b - mean) ** 2, 0) / accs.length;
    return {
      variant: group[0].variant,
      depth: group[0].depth,
      seeds: group.length,
      accMean: round(mean, 2),
      accStd: round(Math.sqrt(variance), 2),
      energy: geometricMean(group.map((c) => c.energy)),
      energyInit: geometricMean(group.map((c) => c.energyInit)),
      bestEpoch: round(
        group.reduce((s, c) => s + c.bestEpoch, 0) / group.length,
        1,
      ),
    };
  });
}

// ---------------------------------------------------------------------------
// reporting
// ---------------------------------------------------------------------------

/** An energy ratio in 3 significant digits, or "—" when undefined. */
export function formatEnergy(x: number): string {
  if (!Number.isFinite(x)) return "—";
  if (x === 0) return "0";
  return x >= 1e-3 ? x.toPrecision(3) : x.toExponential(2);
}

/**
 * The markdown table of a result: one row per (variant, depth) with the
 * test accuracy (mean ± population std over seeds, percent), the energy
 * ratio at the selected weights and at initialization (geometric means),
 * the mean selected epoch and the number of seeds.
 */
export function oversmoothingTable(result: OversmoothingResult): string {
  const lines = [
    "| model | layers | test accuracy (%) | energy, trained | energy, at init | best epoch | seeds |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const s of result.summary) {
    lines.push(
      `| ${VARIANT_LABELS[s.variant]} | ${s.depth} | ` +
        `${s.accMean.toFixed(1)} ± ${s.accStd.toFixed(1)} | ` +
        `${formatEnergy(s.energy)} | ${formatEnergy(s.energyInit)} | ` +
        `${s.bestEpoch} | ${s.seeds} |`,
    );
  }
  return lines.join("\n");
}

/** Colours of the variants (Vega's tableau10, in order). */
const VARIANT_COLOURS: Readonly<Record<OversmoothingVariant, string>> = {
  gcn: "#4c78a8",
  pairnorm: "#f58518",
  contranorm: "#e45756",
  jk: "#54a24b",
};

/** The variant a series of {@link oversmoothingFigure} is named after. */
function variantOf(series: string): OversmoothingVariant {
  const label = series.replace(/, init$/, "");
  return (
    OVERSMOOTHING_VARIANTS.find((v) => VARIANT_LABELS[v] === label) ?? "gcn"
  );
}

/** A line chart's encodings, as {@link lineChart} builds them. */
interface ChartEncoding {
  encoding: {
    x: { scale: object; axis?: object };
    color: { scale: { domain: string[]; range?: string[] } };
  };
}

/** Give a line chart's series these colours, in series order. */
function setColours(chart: VegaLiteSpec, colours: string[]): void {
  (chart as unknown as ChartEncoding).encoding.color.scale.range = colours;
}

/** A log2 depth axis whose ticks are the depths. */
function depthAxis(chart: VegaLiteSpec, depths: number[]): void {
  const x = (chart as unknown as ChartEncoding).encoding.x;
  x.scale = { type: "log", base: 2 };
  x.axis = { values: depths };
}

/**
 * The figure of a result: test accuracy against depth (left) and the
 * energy ratio of the last hidden layer against depth on a log scale
 * (right; solid at the selected weights, dashed at initialization), one
 * colour per variant, depth on a log2 axis, and in grey the level of
 * constant features (see {@link OversmoothingResult.constantEnergy}).
 * Points whose energy is 0 or undefined are left out of the right panel.
 */
export function oversmoothingFigure(result: OversmoothingResult): VegaLiteSpec {
  const variants = [...new Set(result.summary.map((s) => s.variant))];
  const of = (v: OversmoothingVariant) =>
    result.summary.filter((s) => s.variant === v);
  const accuracy = lineChart({
    title: "Test accuracy",
    x: { label: "layers", values: [] },
    y: { label: "test accuracy (%)" },
    logX: true,
    series: variants.map((v) => ({
      name: VARIANT_LABELS[v],
      x: of(v).map((s) => s.depth),
      values: of(v).map((s) => s.accMean),
    })),
    legend: "bottom",
    width: 360,
    height: 260,
  });
  const depths = [...new Set(result.summary.map((s) => s.depth))];
  const energySeries: LineSeries[] = variants.flatMap((v) => {
    const trained = of(v).filter((s) => s.energy > 0);
    const init = of(v).filter((s) => s.energyInit > 0);
    return [
      {
        name: VARIANT_LABELS[v],
        x: trained.map((s) => s.depth),
        values: trained.map((s) => s.energy),
      },
      {
        name: `${VARIANT_LABELS[v]}, init`,
        x: init.map((s) => s.depth),
        values: init.map((s) => s.energyInit),
        dashed: true,
      },
    ];
  });
  if (Number.isFinite(result.constantEnergy) && result.constantEnergy > 0) {
    energySeries.push({
      name: "constant rows",
      x: depths,
      values: depths.map(() => result.constantEnergy),
      dashed: true,
    });
  }
  const energy = lineChart({
    title: "Dirichlet energy of the last hidden layer",
    subtitle: "tr(HᵀΔ̃H) / tr(HᵀH); dashed: at initialization",
    x: { label: "layers", values: [] },
    y: { label: "energy ratio" },
    logX: true,
    logY: true,
    series: energySeries.filter((s) => s.values.length > 0),
    legend: "bottom",
    width: 360,
    height: 260,
  });
  // one colour per variant in both panels (the trained and the dashed
  // initial curve of a variant share it), and the depths as x ticks
  const colours = variants.map((v) => VARIANT_COLOURS[v]);
  setColours(accuracy, colours);
  setColours(
    energy,
    energySeries
      .filter((s) => s.values.length > 0)
      .map((s) =>
        s.name === "constant rows"
          ? "#888888"
          : VARIANT_COLOURS[variantOf(s.name)],
      ),
  );
  for (const chart of [accuracy, energy]) depthAxis(chart, depths);

  const { protocol } = result;
  return panels([accuracy, energy], {
    columns: 2,
    title: `Oversmoothing on ${protocol.dataset}`,
    subtitle:
      `GCN, hidden ${protocol.hidden}, ` +
      (protocol.seeds > 1 ? `up to ${protocol.seeds} seeds` : "1 seed") +
      `, at most ${protocol.epochs} epochs`,
  });
}
