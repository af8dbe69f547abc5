/**
 * A short contrastive comparison for the report: the same config (GRACE
 * on Cora in `mpcl report`, Zhu et al. 2020) trained with and without
 * one trick of the message-passing view (Wang et al. 2023, §5: attentive
 * alignment, or extra positive edges from a rewired augmentation graph),
 * same seed, same epochs, each evaluated with the linear probe of the
 * frozen encoder. Returns data and a figure spec; nothing prints.
 */

import type {
  AttentionTrickConfig,
  ContrastiveConfig,
  RewireTrickConfig,
} from "../../src/contrastive/config.js";
import {
  type ContrastiveData,
  type ContrastiveEpochEvent,
  trainContrastive,
} from "../../src/contrastive/trainer.js";
import { ConfigError } from "../../src/errors.js";
import { lineChart } from "../../src/plot/line.js";
import { panels } from "../../src/plot/panels.js";
import type { VegaLiteSpec } from "../../src/plot/render.js";

/** The tricks {@link withTrick} knows, by name. */
export const REPORT_TRICKS = ["attention", "knn"] as const;

/** A trick's name: `attention` or `knn` (extra positive kNN edges). */
export type ReportTrick = (typeof REPORT_TRICKS)[number];

/** One run of the comparison: a name, a sentence, its config. */
export interface ContrastiveVariant {
  name: string;
  description: string;
  config: ContrastiveConfig;
}

/**
 * The config with one trick switched on (the others as they were):
 * `attention`, attentive alignment (temperature 0.5 over the detached
 * encoder features); `knn`, 5 extra positive edges per node from the
 * nearest neighbours in input-feature space (cosine), weight 1.
 *
 * @throws ConfigError for an unknown trick name.
 */
export function withTrick(
  config: ContrastiveConfig,
  trick: ReportTrick,
): ContrastiveVariant {
  if (trick === "attention") {
    const attention: AttentionTrickConfig = {
      temperature: 0.5,
      source: "hidden",
    };
    return {
      name: "attentive alignment",
      description:
        "each anchor's term weighted by a softmax (T = 0.5) of its " +
        "positives' cosine, as attention weighs edges",
      config: { ...config, tricks: { ...config.tricks, attention } },
    };
  }
  if (trick === "knn") {
    const rewire: RewireTrickConfig = {
      kind: "knn",
      k: 5,
      weight: 1,
      alpha: 0.15,
      resolution: 1,
      partners: 1,
    };
    return {
      name: "kNN extra positives",
      description:
        "each node's 5 nearest neighbours (cosine of the input features) " +
        "added as positive edges of the augmentation graph (rewiring)",
      config: { ...config, tricks: { ...config.tricks, rewire } },
    };
  }
  throw new ConfigError(
    `withTrick: expected one of ${REPORT_TRICKS.join(", ")}, got ` +
      JSON.stringify(trick),
  );
}

/** The probe accuracy of a variant at one epoch. */
export interface VariantEvaluation {
  epoch: number;
  /** Linear-probe accuracy on the test nodes, in [0, 1]. */
  testAccuracy: number;
}

/** What one variant gave. */
export interface ContrastiveVariantResult {
  name: string;
  description: string;
  /** Epochs trained. */
  epochs: number;
  /** Final linear-probe accuracy on the test nodes, in [0, 1]. */
  testAccuracy: number;
  /** Final linear-probe accuracy on the validation nodes, in [0, 1]. */
  valAccuracy: number;
  /** The probe's L2 penalty chosen on the validation nodes. */
  chosenL2: number;
  /** Wall-clock seconds of training and evaluation. */
  seconds: number;
  /** CPU seconds of this process (all its threads) over the same span. */
  cpuSeconds: number;
  /** One event per epoch (gradient norm, ‖alignment‖, ‖uniformity‖, …). */
  history: ContrastiveEpochEvent[];
  /** Periodic evaluations, then the final one. */
  evaluations: VariantEvaluation[];
}

/** Options of {@link runContrastiveVariants}. */
export interface ContrastiveComparisonOptions {
  /** Epochs of every variant (default: each config's `train.epochs`). */
  epochs?: number;
  /** Seed of every variant (default 0). */
  seed?: number;
  /**
   * Also evaluate every this many epochs, for the figure's curves
   * (default 0: only at the end).
   */
  evaluateEvery?: number;
  /** Called after every epoch of every variant. */
  onEpoch?: (variant: string, event: ContrastiveEpochEvent) => void;
}

/** CPU seconds used by this process so far. */
function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * Train every variant on the same data with the same seed and epochs,
 * one after the other, and report each one's final probe accuracy,
 * times and history.
 *
 * @throws whatever `trainContrastive` throws (ConfigError, NumericalError
 *   naming the epoch of a NaN gradient, …).
 */
export function runContrastiveVariants(
  variants: readonly ContrastiveVariant[],
  data: ContrastiveData,
  options: ContrastiveComparisonOptions = {},
): ContrastiveVariantResult[] {
  const seed = options.seed ?? 0;
  const every = options.evaluateEvery ?? 0;
  return variants.map((variant) => {
    const config: ContrastiveConfig = {
      ...variant.config,
      eval: { ...variant.config.eval, every },
    };
    const wall = performance.now();
    const cpu = cpuSeconds();
    const run = trainContrastive(config, data, {
      seed,
      epochs: options.epochs,
      onEpoch: (event) => options.onEpoch?.(variant.name, event),
    });
    const final = run.final;
    if (final === null) {
      // NOTE: only `untilEpoch` skips the final evaluation, and it is not
      // passed here
      throw new ConfigError(
        `runContrastiveVariants: variant "${variant.name}" ended without ` +
          "a final evaluation",
      );
    }
    const evaluations = run.evaluations
      .filter((e) => e.epoch !== final.epoch)
      .map((e) => ({ epoch: e.epoch, testAccuracy: e.testAccuracy }));
    evaluations.push({ epoch: final.epoch, testAccuracy: final.testAccuracy });
    return {
      name: variant.name,
      description: variant.description,
      epochs: run.epoch,
      testAccuracy: final.testAccuracy,
      valAccuracy: final.valAccuracy,
      chosenL2: final.chosenL2,
      seconds: (performance.now() - wall) / 1000,
      cpuSeconds: cpuSeconds() - cpu,
      history: run.history,
      evaluations,
    };
  });
}

/**
 * The figure of a comparison, two panels: the linear-probe test
 * accuracy of each variant at every evaluation, and the norm of the
 * parameter gradient per epoch.
 */
export function contrastiveFigure(
  results: readonly ContrastiveVariantResult[],
  title: string,
): VegaLiteSpec {
  const accuracy = lineChart({
    title: "linear-probe test accuracy",
    x: { label: "epoch", values: [] },
    y: { label: "accuracy" },
    series: results.map((r) => ({
      name: r.name,
      values: r.evaluations.map((e) => e.testAccuracy),
      x: r.evaluations.map((e) => e.epoch),
    })),
    points: true,
    width: 340,
    height: 220,
    legend: "bottom",
  });
  const gradient = lineChart({
    title: "gradient norm ‖∂L/∂θ‖",
    x: { label: "epoch", values: [] },
    y: { label: "norm" },
    series: results.map((r) => ({
      name: r.name,
      values: r.history.map((e) => e.gradNorm),
      x: r.history.map((e) => e.epoch),
    })),
    width: 340,
    height: 220,
    legend: "bottom",
  });
  return panels([accuracy, gradient], { columns: 2, title });
}
