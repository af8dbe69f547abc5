/**
 * Check 3, alignment alone collapses: at the small size the check passes
 * (fitted rate of the non-top part within 2% of (1 + βλ2)/(1 + β), every
 * component collapsed to one point), and with the predicted rate off by
 * 10% it fails.
 */

import { describe, expect, it } from "vitest";
import {
  alignmentCollapseCheck,
  fitDecayFactor,
} from "../../theory/03-alignment-collapse.js";

describe("alignmentCollapseCheck", () => {
  it("passes at the small size", async () => {
    const result = await alignmentCollapseCheck.run({ size: "small" });
    expect(result.id).toBe("3");
    expect(result.pass).toBe(true);
    const predicted = result.predicted as number;
    const measured = result.measured as number;
    expect(Math.abs(measured - predicted) / predicted).toBeLessThan(0.02);
    expect(result.details?.components).toBe(3);
    expect(Number(result.details?.finalSpread)).toBeLessThan(1e-4);
    expect(result.figures.map((f) => f.name)).toEqual([
      "03-alignment-collapse",
    ]);
  });

  it("fails when the predicted rate is perturbed by 10%", async () => {
    const result = await alignmentCollapseCheck.run({
      size: "small",
      perturbation: 0.1,
    });
    expect(result.pass).toBe(false);
  });

  it("passes for another seed", async () => {
    const result = await alignmentCollapseCheck.run({ seed: 7 });
    expect(result.pass).toBe(true);
  });
});

describe("fitDecayFactor", () => {
  it("recovers the factor of an exact geometric sequence", () => {
    const t = [3, 4, 5, 6, 7];
    const y = t.map((s) => 2 * 0.8 ** s);
    expect(fitDecayFactor(t, y)).toBeCloseTo(0.8, 12);
  });
});
