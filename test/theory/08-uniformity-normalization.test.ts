/**
 * Check 8, uniformity is a normalization: at the small size the check
 * passes (plain propagation at rank 1 per component, PairNorm at
 * effective rank ≤ c, ContraNorm keeping at least half of the initial
 * effective rank), and with its predictions off by 10% it fails.
 */

import { describe, expect, it } from "vitest";
import {
  RETAINED_RANK_FRACTION,
  uniformityNormalizationCheck,
} from "../../theory/08-uniformity-normalization.js";

describe("uniformityNormalizationCheck", () => {
  it("passes at the small size", async () => {
    const result = await uniformityNormalizationCheck.run({ size: "small" });
    expect(result.id).toBe("8");
    expect(result.pass).toBe(true);
    const details = result.details ?? {};
    expect(details.components).toBe(3);
    expect(details.maxComponentRank).toBe(1);
    const initial = Number(details.initialEffectiveRank);
    expect(initial).toBeGreaterThan(7);
    expect(Number(details.plainEffectiveRank)).toBeLessThanOrEqual(3);
    expect(Number(details.pairNormEffectiveRank)).toBeLessThanOrEqual(3);
    expect(Number(details.contraNormEffectiveRank)).toBeGreaterThanOrEqual(
      RETAINED_RANK_FRACTION * initial,
    );
    expect(result.figures.map((f) => f.name)).toEqual([
      "08-uniformity-normalization",
    ]);
  });

  it("fails when the predictions are perturbed by 10%", async () => {
    const result = await uniformityNormalizationCheck.run({
      size: "small",
      perturbation: 0.1,
    });
    expect(result.pass).toBe(false);
  });

  it("passes for another seed", async () => {
    const result = await uniformityNormalizationCheck.run({ seed: 7 });
    expect(result.pass).toBe(true);
  });
});
