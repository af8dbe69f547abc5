// Each theory check passes at its small size and default seed, fails
// when its prediction is deliberately wrong, and returns well-formed
// results; the registry lists the checks in id order.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { featureSpaceCheck } from "../../theory/01-feature-space.js";
import { uniformitySingularValuesCheck } from "../../theory/04-uniformity-singular-values.js";
import { oversmoothingCheck } from "../../theory/07-oversmoothing.js";
import {
  type CheckResult,
  relativeError,
  resolveCheckOptions,
  THEORY_CHECKS,
} from "../../theory/index.js";

/** The fields every result must carry, checked. */
function expectWellFormed(result: CheckResult, id: string): void {
  expect(result.id).toBe(id);
  expect(result.claim.length).toBeGreaterThan(20);
  expect(result.tolerance.length).toBeGreaterThan(0);
  expect(result.figures.length).toBeGreaterThan(0);
  for (const figure of result.figures) {
    expect(figure.name).toMatch(/^0\d-[a-z-]+$/);
    expect(figure.spec).toHaveProperty("$schema");
  }
}

describe("theory registry", () => {
  it("lists the checks in id order with distinct ids", () => {
    const ids = THEORY_CHECKS.map((c) => Number(c.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining([1, 4, 7]));
  });

  it("rejects bad options with ConfigError", () => {
    expect(() => resolveCheckOptions("t", { seed: 1.5 })).toThrow(ConfigError);
    expect(() => resolveCheckOptions("t", { size: "huge" as "small" })).toThrow(
      ConfigError,
    );
    expect(resolveCheckOptions("t")).toEqual({
      size: "small",
      seed: 0,
      perturbation: 0,
    });
    expect(relativeError(1.1, 1)).toBeCloseTo(0.1, 12);
  });
});

describe("check 1: feature-space equivalence", () => {
  it("passes: both forms agree to 1e-6 in float64", async () => {
    const result = await featureSpaceCheck.run({ size: "small", seed: 0 });
    expectWellFormed(result, "1");
    expect(result.pass).toBe(true);
    expect(
      relativeError(result.measured as number, result.predicted as number),
    ).toBeLessThan(1e-6);
  });

  it("fails when D's exponent in the prediction is off by 1e-3", async () => {
    const result = await featureSpaceCheck.run({ perturbation: 1e-3 });
    expect(result.pass).toBe(false);
  });
});

describe("check 4: uniformity maps σ to σ − βσ³", () => {
  it("passes per step within 1e-5 on float32 features", async () => {
    const result = await uniformitySingularValuesCheck.run({ seed: 3 });
    expectWellFormed(result, "4");
    expect(result.pass).toBe(true);
    expect(Number(result.details?.maxRelativeError)).toBeLessThan(1e-5);
  });

  it("fails when β in the prediction is 0.1% off", async () => {
    const result = await uniformitySingularValuesCheck.run({
      perturbation: 1e-3,
    });
    expect(result.pass).toBe(false);
  });
});

describe("check 7: oversmoothing is collapse", () => {
  it("passes: GCN layers and alignment steps are identical", async () => {
    const result = await oversmoothingCheck.run({ seed: 0 });
    expectWellFormed(result, "7");
    expect(result.pass).toBe(true);
    expect(result.measured).toBe(0);
    const first = Number(result.details?.energyAtDepth0);
    const last = Number(result.details?.energyAtDepthL);
    expect(last).toBeLessThan(first / 1000);
  });

  it("fails when each alignment step is scaled by 1 + 1e-4", async () => {
    const result = await oversmoothingCheck.run({ perturbation: 1e-4 });
    expect(result.pass).toBe(false);
  });
});
