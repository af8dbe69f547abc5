import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { normalizedFeatureStd } from "../../src/spectral/collapse.js";
import { randomMatrix, seededRandom, unitRows } from "./helpers.js";

describe("normalizedFeatureStd", () => {
  it("matches a direct computation", () => {
    const n = 50;
    const k = 6;
    const x = randomMatrix(seededRandom(53), n, k);
    const u = unitRows(x, n, k);
    let mean = 0;
    const per: number[] = [];
    for (let c = 0; c < k; c++) {
      const col = u.map((r) => r[c]);
      const mu = col.reduce((s, v) => s + v, 0) / n;
      const sd = Math.sqrt(col.reduce((s, v) => s + (v - mu) ** 2, 0) / n);
      per.push(sd);
      mean += sd / k;
    }
    const got = normalizedFeatureStd({ data: x, rows: n, cols: k });
    expect(got.std).toBeCloseTo(mean, 14);
    for (let c = 0; c < k; c++)
      expect(got.perDimension[c]).toBeCloseTo(per[c], 14);
    expect(got.reference).toBe(1 / Math.sqrt(k));
    const unbiased = normalizedFeatureStd(
      { data: x, rows: n, cols: k },
      { unbiased: true },
    );
    expect(unbiased.std).toBeCloseTo(mean * Math.sqrt(n / (n - 1)), 14);
  });

  it("is 0 when collapsed and 1/√k for ±e_c", () => {
    const k = 4;
    const collapsed = new Float64Array(10 * k).fill(2);
    expect(
      normalizedFeatureStd({ data: collapsed, rows: 10, cols: k }).std,
    ).toBe(0);

    // rows ±e_c, scaled: each coordinate has mean 0 and variance 1/k
    const rows = 2 * k;
    const x = new Float64Array(rows * k);
    for (let c = 0; c < k; c++) {
      x[2 * c * k + c] = 3;
      x[(2 * c + 1) * k + c] = -0.5;
    }
    const got = normalizedFeatureStd({ data: x, rows, cols: k });
    expect(got.std).toBeCloseTo(got.reference, 15);
    expect(() =>
      normalizedFeatureStd({ data: new Float64Array(0), rows: 0, cols: 3 }),
    ).toThrow(ConfigError);
  });
});
