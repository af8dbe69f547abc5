import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { eigengap, eigengaps } from "../../src/spectral/eigengap.js";

describe("eigengap", () => {
  const values = [0.2, 1, -0.5, 0.9, 0.95];

  it("measures gaps from the top by default", () => {
    // sorted descending: 1, 0.95, 0.9, 0.2, −0.5
    expect(eigengap(values, 1)).toBeCloseTo(0.05, 15);
    expect(eigengap(values, 3)).toBeCloseTo(0.7, 15);
    expect(Array.from(eigengaps(values))).toEqual(
      [1 - 0.95, 0.95 - 0.9, 0.9 - 0.2, 0.2 + 0.5].map((g) =>
        expect.closeTo(g, 15),
      ),
    );
  });

  it("measures gaps from the bottom with which: smallest", () => {
    expect(eigengap(values, 1, { which: "smallest" })).toBeCloseTo(0.7, 15);
    const gaps = eigengaps(values, { which: "smallest" });
    for (let k = 1; k < values.length; k++) {
      expect(gaps[k - 1]).toBe(eigengap(values, k, { which: "smallest" }));
    }
  });

  it("rejects bad k and values", () => {
    expect(() => eigengap(values, 0)).toThrow(ConfigError);
    expect(() => eigengap(values, 5)).toThrow(ConfigError);
    expect(() => eigengap([1, Number.NaN], 1)).toThrow(ConfigError);
    expect(eigengaps([1]).length).toBe(0);
  });
});
