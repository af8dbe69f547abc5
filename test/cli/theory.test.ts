// End-to-end tests of `mpcl theory`: the table and exit status, --json's
// last line, --only, the files written, and a failing run (deliberately
// wrong predictions) exiting with status 1.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lastJsonLine, runMpcl } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "mpcl-theory-"));

/** Run the command; stdout, stderr and the exit status. */
const mpcl = (args: string[]) => runMpcl(args);

/** What --json prints on its last line. */
interface TheoryJson {
  checks: {
    id: string;
    pass: boolean;
    predicted: number | string;
    measured: number | string;
  }[];
  figures: string[];
}

/** The JSON object on the last line of standard output. */
const lastJson = (stdout: string) => lastJsonLine<TheoryJson>(stdout);

describe("mpcl theory", () => {
  it("runs the checks, writes report.md and figures, exits 0", () => {
    const out = join(dir, "all");
    const { stdout, status } = mpcl([
      "theory",
      "--size",
      "small",
      "--only",
      "1,4,7",
      "--out",
      out,
      "--json",
    ]);
    expect(status).toBe(0);
    const report = lastJson(stdout);
    expect(report.checks.map((c) => c.id)).toEqual(["1", "4", "7"]);
    expect(report.checks.every((c) => c.pass)).toBe(true);
    for (const c of report.checks) {
      expect(["number", "string"]).toContain(typeof c.predicted);
      expect(["number", "string"]).toContain(typeof c.measured);
    }
    expect(report.figures.length).toBe(3);
    for (const png of report.figures) {
      expect(existsSync(png)).toBe(true);
      expect(existsSync(png.replace(/\.png$/, ".svg"))).toBe(true);
      expect(existsSync(png.replace(/\.png$/, ".vl.json"))).toBe(true);
    }
    const markdown = readFileSync(join(out, "report.md"), "utf8");
    expect(markdown).toContain(
      "| id | claim | predicted | measured | tolerance | pass |",
    );
    for (const id of ["1", "4", "7"]) {
      expect(markdown).toMatch(new RegExp(`\\n\\| ${id} \\|.*\\| yes \\|`));
    }
    expect(markdown).toContain("(07-oversmoothing.png)");
  });

  it("prints a table and runs only the checks asked for", () => {
    const out = join(dir, "only");
    const { stdout, status } = mpcl([
      "theory",
      "--size",
      "small",
      "--only",
      "7",
      "--out",
      out,
    ]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^id\s+pass\s+predicted\s+measured/);
    expect(stdout).toMatch(/\n7\s+yes\s/);
    expect(stdout).not.toMatch(/\n1\s+yes\s/);
    expect(existsSync(join(out, "07-oversmoothing.png"))).toBe(true);
    expect(existsSync(join(out, "01-feature-space.png"))).toBe(false);
  });

  it("exits 1 when a check fails", () => {
    const out = join(dir, "fail");
    const { stdout, status } = mpcl([
      "theory",
      "--size",
      "small",
      "--only",
      "4",
      "--perturbation",
      "0.01",
      "--out",
      out,
      "--json",
    ]);
    expect(status).toBe(1);
    const report = lastJson(stdout);
    expect(report.checks).toHaveLength(1);
    expect(report.checks[0].pass).toBe(false);
    expect(readFileSync(join(out, "report.md"), "utf8")).toContain("**no**");
  });

  it("explains an unknown check id in one line", () => {
    const { stderr, status } = mpcl(["theory", "--only", "42"]);
    expect(status).toBe(1);
    expect(stderr).toMatch(/ConfigError: selectChecks: no check has id "42"/);
  });
});
