/** Small helpers shared by the sub-commands of the CLI. */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";

/** The version field of mpcl's package.json. */
export function packageVersion(): string {
  const path = fileURLToPath(new URL("../../package.json", import.meta.url));
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string })
    .version;
}

/** Milliseconds since `start` (from `performance.now()`), 1 decimal. */
export function since(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

/** Format rows as an aligned plain-text table with a header line. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = header.map((_, j) =>
    Math.max(...cells.map((r) => (r[j] ?? "").length)),
  );
  const line = (r: string[]) =>
    r
      .map((c, j) => c.padEnd(widths[j]))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join("\n");
}

/**
 * The integer ≥ `min` an option's text gives, or a `ConfigError` naming
 * the command, the option and the text (`mpcl train: --seeds must be an
 * integer >= 1, got "x"`); an empty text is an error, not 0.
 */
export function integerOption(
  command: string,
  name: string,
  value: string,
  min: number,
): number {
  const x = Number(value);
  if (value.trim() === "" || !Number.isInteger(x) || x < min) {
    throw new ConfigError(
      `mpcl ${command}: --${name} must be an integer >= ${min}, got ` +
        `${JSON.stringify(value)}`,
    );
  }
  return x;
}

/** `x` rounded to `digits` decimals (for printing and JSON). */
export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * What `mpcl train`'s options make of a config (supervised or
 * contrastive): the config with `--epochs` applied, the seed count
 * (`--seeds`, or the config's) and the first seed (`--first-seed`,
 * default 0).
 *
 * @throws ConfigError naming the option for a value that is not an
 *   integer in range.
 */
export function trainRunOptions<
  C extends { seeds: number; train: { epochs: number } },
>(
  config: C,
  opts: { epochs?: string; seeds?: string; firstSeed?: string },
): { config: C; seeds: number; firstSeed: number } {
  const epochs =
    opts.epochs === undefined
      ? undefined
      : integerOption("train", "epochs", opts.epochs, 1);
  return {
    config:
      epochs === undefined
        ? config
        : { ...config, train: { ...config.train, epochs } },
    seeds:
      opts.seeds === undefined
        ? config.seeds
        : integerOption("train", "seeds", opts.seeds, 1),
    firstSeed: integerOption("train", "first-seed", opts.firstSeed ?? "0", 0),
  };
}
