/**
 * Check 5, the equilibrium of alignment and uniformity: at the small size
 * the check passes (subspace distance to the top-k eigenspace < 1e-6,
 * σ_i² = λ_i to 1e-6, escape factor within 5% of 1 − β(λk − λk+1), the
 * β > 1 run leaving the fixed point), and with the predicted escape
 * factor off by 10% it fails.
 */

import { describe, expect, it } from "vitest";
import { equilibriumCheck } from "../../theory/05-equilibrium.js";

describe("equilibriumCheck", () => {
  it("passes at the small size", async () => {
    const result = await equilibriumCheck.run({ size: "small" });
    expect(result.id).toBe("5");
    expect(result.pass).toBe(true);
    const predicted = result.predicted as number;
    const measured = result.measured as number;
    expect(Math.abs(measured - predicted) / predicted).toBeLessThan(0.05);
    const details = result.details ?? {};
    expect(Number(details.finalSubspaceDistance)).toBeLessThan(1e-6);
    expect(Number(details.maxEigenvalueError)).toBeLessThan(1e-6);
    expect(Number(details.unstableGrowth)).toBeGreaterThan(1e3);
    expect(Number(details.stableGrowth)).toBeLessThan(10);
    expect(result.figures.map((f) => f.name)).toEqual(["05-equilibrium"]);
  });

  it("fails when the predicted escape factor is perturbed by 10%", async () => {
    const result = await equilibriumCheck.run({
      size: "small",
      perturbation: 0.1,
    });
    expect(result.pass).toBe(false);
  });

  it("passes for another seed", async () => {
    const result = await equilibriumCheck.run({ seed: 3 });
    expect(result.pass).toBe(true);
  });
});
