/**
 * Check 9 (the paper's Figure 1) at the small size: it passes, its figure
 * is a five-panel grid whose subtitles carry the probe accuracies, and a
 * perturbed prediction makes it fail.
 */

import { describe, expect, it } from "vitest";
import {
  figure1Check,
  PANEL_NAMES,
  runFigure1,
  withinComponentSpread,
} from "../../theory/09-figure1.js";

describe("check 9: Figure 1", () => {
  it("passes at the small size", async () => {
    const result = await figure1Check.run({ size: "small", seed: 0 });
    expect(result.id).toBe("9");
    expect(result.pass).toBe(true);
    expect(result.details?.n).toBe(100);
    expect(result.figures).toHaveLength(1);
    const spec = result.figures[0].spec as unknown as {
      concat: { title: { subtitle: string } }[];
    };
    expect(spec.concat).toHaveLength(PANEL_NAMES.length);
    for (const panel of spec.concat) {
      expect(panel.title.subtitle).toMatch(/^linear probe accuracy 0\.\d{3}$/);
    }
  }, 60_000);

  it("fails when the prediction is perturbed", async () => {
    const result = await figure1Check.run({ size: "small", perturbation: 1 });
    expect(result.pass).toBe(false);
  }, 60_000);

  it("gives spread 0 when collapsed, 1 when graph-free", () => {
    const components = Int32Array.from([0, 0, 1, 1]);
    const collapsed = [1, 2, 1, 2, -3, 0, -3, 0];
    expect(withinComponentSpread(collapsed, components, 2)).toBe(0);
    // component means equal the global mean: all spread is within
    const unrelated = [1, 0, -1, 0, 1, 0, -1, 0];
    expect(withinComponentSpread(unrelated, components, 2)).toBeCloseTo(1, 12);
  });

  it("keeps the data panel and initial features as drawn", () => {
    const run = runFigure1(0, 10, 5);
    expect(run.n).toBe(20);
    expect(run.features[0]).toBe(run.points);
    for (const v of run.features[1]) {
      expect(Math.abs(v)).toBeLessThanOrEqual(1);
    }
    // the InfoNCE features stay on the unit circle
    const f = run.features[4];
    for (let i = 0; i < run.n; i++) {
      expect(Math.hypot(f[2 * i], f[2 * i + 1])).toBeCloseTo(1, 5);
    }
  });
});
