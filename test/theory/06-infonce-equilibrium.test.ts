/**
 * Check 6 (InfoNCE equilibrium) at the small size: it passes, a perturbed
 * prediction makes it fail, and its residual is checked by hand: zero at
 * a case where the equilibrium holds exactly, and the definition of P
 * against a direct computation.
 */

import { describe, expect, it } from "vitest";
import {
  equilibriumMeasure,
  INFONCE_DIMENSIONS,
  infoNCEEquilibriumCheck,
  kernelAugmentationGraph,
} from "../../theory/06-infonce-equilibrium.js";

describe("check 6: InfoNCE equilibrium", () => {
  it("passes at the small size", async () => {
    const result = await infoNCEEquilibriumCheck.run({ size: "small" });
    expect(result.id).toBe("6");
    expect(result.pass).toBe(true);
    for (const k of INFONCE_DIMENSIONS) {
      expect(result.details?.[`residual k=${k}`]).toBeDefined();
    }
    expect(result.figures).toHaveLength(1);
  }, 60_000);

  it("fails when the prediction is perturbed", async () => {
    const result = await infoNCEEquilibriumCheck.run({
      size: "small",
      perturbation: 4,
    });
    expect(result.pass).toBe(false);
  }, 60_000);

  it("gives residual 0 at an exact equilibrium", () => {
    // f = 0 makes P(x, x') = D_x D_x', which equals A = d dᵀ
    const d = [0.1, 0.2, 0.3, 0.4];
    const a = Float64Array.from({ length: 16 }, (_, e) => {
      return d[Math.floor(e / 4)] * d[e % 4];
    });
    const m = equilibriumMeasure(a, new Float64Array(8), 4, 2);
    expect(m.residual).toBeLessThan(1e-15);
    // the loss at f = 0: Σ_x D_x log Σ_x' D_x' = 0
    expect(Math.abs(m.loss)).toBeLessThan(1e-15);
  });

  it("matches a direct computation of the residual", () => {
    const { dense } = kernelAugmentationGraph(5, 3);
    let sum = 0;
    for (const v of dense) sum += v;
    expect(sum).toBeCloseTo(1, 12);
    const f = [0.3, -0.2, 0.5, 0.1, -0.4, 0.2, 0, 0.7, 0.25, -0.6];
    const n = 5;
    const deg = [0, 1, 2, 3, 4].map((i) =>
      [0, 1, 2, 3, 4].reduce((s, j) => s + dense[i * n + j], 0),
    );
    const dot = (i: number, j: number) =>
      f[2 * i] * f[2 * j] + f[2 * i + 1] * f[2 * j + 1];
    const p = (i: number, j: number) => {
      let z = 0;
      for (let l = 0; l < n; l++) z += deg[l] * Math.exp(dot(i, l));
      return (deg[i] * deg[j] * Math.exp(dot(i, j))) / z;
    };
    let r = 0;
    let norm = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        r += ((p(i, j) + p(j, i)) / 2 - dense[i * n + j]) ** 2;
        norm += dense[i * n + j] ** 2;
      }
    }
    const m = equilibriumMeasure(dense, f, n, 2);
    expect(m.residual).toBeCloseTo(Math.sqrt(r / norm), 12);
  });
});
