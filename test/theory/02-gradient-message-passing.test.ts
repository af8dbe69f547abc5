/**
 * Check 2, gradient = message passing: at the small size the autodiff
 * gradients of the spectral and InfoNCE losses match the message-passing
 * updates to a relative error < 1e-5, and with the update scaled by
 * 1 + 1e-3 the check fails.
 */

import { describe, expect, it } from "vitest";
import {
  GRADIENT_TOLERANCE,
  gradientMessagePassingCheck,
} from "../../theory/02-gradient-message-passing.js";

describe("gradientMessagePassingCheck", () => {
  it("passes at the small size", async () => {
    const result = await gradientMessagePassingCheck.run({ size: "small" });
    expect(result.id).toBe("2");
    expect(result.pass).toBe(true);
    expect(result.predicted).toBe(0);
    expect(result.measured as number).toBeLessThan(GRADIENT_TOLERANCE);
    expect(Number(result.details?.maxSpectralError)).toBeLessThan(1e-5);
    expect(Number(result.details?.maxInfoNCEError)).toBeLessThan(1e-5);
    expect(result.figures.map((f) => f.name)).toEqual([
      "02-gradient-message-passing",
    ]);
  });

  it("fails when the update is scaled by 1 + 1e-3", async () => {
    const result = await gradientMessagePassingCheck.run({
      size: "small",
      perturbation: 1e-3,
    });
    expect(result.pass).toBe(false);
    expect(result.measured as number).toBeGreaterThan(5e-4);
  });

  it("passes for another seed", async () => {
    const result = await gradientMessagePassingCheck.run({ seed: 5 });
    expect(result.pass).toBe(true);
  });
});
