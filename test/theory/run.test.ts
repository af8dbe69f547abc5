// runChecks writes every figure and report.md; the report's table holds
// one row per check; selectChecks keeps registry order and rejects
// unknown ids.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import {
  reportMarkdown,
  runChecks,
  selectChecks,
  THEORY_CHECKS,
  type TheoryCheck,
} from "../../theory/index.js";

/** A check that returns a fixed verdict, with one tiny figure. */
function fixedCheck(id: string, pass: boolean): TheoryCheck {
  return {
    id,
    title: `fixed ${id}`,
    claim: "A claim | with a pipe.",
    async run() {
      return {
        id,
        claim: "A claim | with a pipe.",
        predicted: 1,
        measured: pass ? 1 : 2,
        tolerance: "exact",
        pass,
        details: { n: 3 },
        figures: [
          {
            name: `0${id}-fixed`,
            spec: {
              $schema: "https://vega.github.io/schema/vega-lite/v6.json",
              data: { values: [{ x: 1, y: 2 }] },
              mark: "point",
              encoding: {
                x: { field: "x", type: "quantitative" },
                y: { field: "y", type: "quantitative" },
              },
            },
          },
        ],
      };
    },
  };
}

describe("selectChecks", () => {
  it("keeps registry order and rejects unknown ids", () => {
    expect(selectChecks(THEORY_CHECKS, ["7", "1"]).map((c) => c.id)).toEqual([
      "1",
      "7",
    ]);
    expect(selectChecks(THEORY_CHECKS).length).toBe(THEORY_CHECKS.length);
    expect(() => selectChecks(THEORY_CHECKS, ["99"])).toThrow(ConfigError);
  });
});

describe("runChecks", () => {
  it("writes the figures and report.md, and reports a failure", async () => {
    const out = mkdtempSync(join(tmpdir(), "mpcl-theory-run-"));
    const events: string[] = [];
    const run = await runChecks(
      [fixedCheck("1", true), fixedCheck("2", false)],
      {
        out,
        onProgress: (e) => events.push(`${e.phase} ${e.check.id}`),
      },
    );
    expect(run.pass).toBe(false);
    expect(events).toEqual(["start 1", "end 1", "start 2", "end 2"]);
    expect(run.figures).toEqual([
      join(out, "01-fixed.png"),
      join(out, "02-fixed.png"),
    ]);
    for (const name of ["01-fixed", "02-fixed"]) {
      for (const ext of [".png", ".svg", ".vl.json"]) {
        expect(existsSync(join(out, name + ext))).toBe(true);
      }
    }
    // no temporary file is left behind
    expect(readdirSync(out).filter((f) => f.endsWith(".tmp"))).toEqual([]);

    const report = readFileSync(run.report, "utf8");
    expect(report).toContain(
      "| id | claim | predicted | measured | tolerance | pass |",
    );
    expect(report).toContain(
      "| 1 | A claim \\| with a pipe. | 1 | 1 | exact | yes |",
    );
    expect(report).toContain(
      "| 2 | A claim \\| with a pipe. | 1 | 2 | exact | **no** |",
    );
    expect(report).toContain("![01-fixed](01-fixed.png)");
  });

  it("builds the report table from results alone", () => {
    const text = reportMarkdown([], [], { size: "full", seed: 2 });
    expect(text).toContain("Size `full`, seed 2");
  });
});
