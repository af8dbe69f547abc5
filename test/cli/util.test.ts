/** The option parsing and rounding the sub-commands share. */

import { describe, expect, it } from "vitest";
import {
  integerOption,
  round,
  table,
  trainRunOptions,
} from "../../src/cli/util.js";
import { ConfigError } from "../../src/errors.js";

describe("integerOption", () => {
  it("reads integers at or above the minimum", () => {
    expect(integerOption("train", "seeds", "5", 1)).toBe(5);
    expect(integerOption("train", "first-seed", "0", 0)).toBe(0);
  });

  it("names the command, the option and the text it refuses", () => {
    for (const bad of ["", " ", "0", "2.5", "x", "-1"]) {
      expect(() => integerOption("train", "seeds", bad, 1)).toThrow(
        ConfigError,
      );
    }
    expect(() => integerOption("spectrum", "k", "", 1)).toThrow(
      'mpcl spectrum: --k must be an integer >= 1, got ""',
    );
  });
});

describe("round and table", () => {
  it("rounds to the given decimals, halves up", () => {
    expect(round(81.456, 2)).toBe(81.46);
    expect(round(0.25, 1)).toBe(0.3);
    expect(round(12.5, 0)).toBe(13);
  });

  it("aligns columns under a rule", () => {
    expect(
      table(
        ["a", "bb"],
        [
          [1, "x"],
          ["ccc", 22],
        ],
      ),
    ).toBe(["a    bb", "---  --", "1    x", "ccc  22"].join("\n"));
  });
});

describe("trainRunOptions", () => {
  const config = { name: "c", seeds: 5, train: { epochs: 200, lr: 0.01 } };

  it("keeps the config's epochs and seeds when no option is given", () => {
    const r = trainRunOptions(config, {});
    expect(r).toEqual({ config, seeds: 5, firstSeed: 0 });
    expect(r.config).toBe(config);
  });

  it("applies --epochs, --seeds and --first-seed without changing the input", () => {
    const r = trainRunOptions(config, {
      epochs: "10",
      seeds: "2",
      firstSeed: "3",
    });
    expect(r.config.train).toEqual({ epochs: 10, lr: 0.01 });
    expect(r.seeds).toBe(2);
    expect(r.firstSeed).toBe(3);
    expect(config.train.epochs).toBe(200);
  });

  it("names the bad option", () => {
    expect(() => trainRunOptions(config, { seeds: "0" })).toThrow(
      'mpcl train: --seeds must be an integer >= 1, got "0"',
    );
    expect(() => trainRunOptions(config, { firstSeed: "-1" })).toThrow(
      "--first-seed",
    );
  });
});
