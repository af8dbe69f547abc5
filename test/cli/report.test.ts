// End-to-end tests of `mpcl report` on a subset of its parts (the whole
// quick report is run, and its page checked in Chromium, by
// test/report/page.test.ts): options checked (ConfigError naming the
// option) and a bad one ending the command with status 1, a passing
// subset (two theory checks and Cora's spectrum) with its files and JSON
// line, and a deliberately failing theory check that exits with status 1
// and says so in the page.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type ReportJson,
  type ReportOptions,
  resolveReportOptions,
} from "../../src/cli/report.js";
import { ConfigError } from "../../src/errors.js";
import { THEORY_CHECKS } from "../../theory/index.js";
import { lastJsonLine, runMpcl } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "mpcl-report-cli-"));

describe("mpcl report", () => {
  it("checks its options, naming the bad one", () => {
    const base: ReportOptions = {
      out: "report",
      seed: "0",
      trick: "knn",
      sections: "theory,spectrum,contrastive",
      perturbation: "0",
    };
    const ok = resolveReportOptions({ ...base, quick: true });
    expect(ok.epochs).toBe(2);
    expect(resolveReportOptions(base).epochs).toBe(40);
    expect([...ok.sections]).toEqual(["theory", "spectrum", "contrastive"]);
    expect(ok.checks.map((c) => c.id)).toEqual(THEORY_CHECKS.map((c) => c.id));
    const subset = resolveReportOptions({ ...base, checks: " 7, 1 " });
    expect(subset.checks.map((c) => c.id)).toEqual(["1", "7"]);

    const cases: [Partial<ReportOptions>, RegExp][] = [
      [{ trick: "dropout" }, /--trick must be one of attention, knn/],
      [{ sections: "theory,plots" }, /--sections takes .* got "plots"/],
      [{ checks: "1,42" }, /no check has id "42"/],
      [{ epochs: "0" }, /--epochs must be an integer >= 1, got "0"/],
      [{ seed: "-1" }, /--seed must be an integer >= 0, got "-1"/],
      [{ perturbation: "x" }, /--perturbation must be a finite number/],
    ];
    for (const [change, message] of cases) {
      const call = () => resolveReportOptions({ ...base, ...change });
      expect(call).toThrow(ConfigError);
      expect(call).toThrow(message);
    }
  });

  it("exits with status 1 on a bad option, writing nothing", () => {
    const run = runMpcl(["report", "--out", join(dir, "bad"), "--trick", "x"]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/ConfigError: mpcl report: --trick/);
    expect(existsSync(join(dir, "bad"))).toBe(false);
  });

  it("writes the page and the Markdown of the parts it ran", () => {
    const out = join(dir, "subset");
    const run = runMpcl([
      "report",
      "--quick",
      "--sections",
      "theory,spectrum",
      "--checks",
      "1,7",
      "--out",
      out,
      "--json",
    ]);
    expect(run.status, run.stderr).toBe(0);
    const report = lastJsonLine<ReportJson>(run.stdout);
    expect(report.pass).toBe(true);
    expect(report.theory.map((c) => [c.id, c.pass])).toEqual([
      ["1", true],
      ["7", true],
    ]);
    expect(report.contrastive).toEqual([]);
    expect(report.spectrum?.components).toBe(78);
    expect(report.spectrum?.unitMultiplicity).toBeNull();
    expect(report.spectrum?.topEigenvalues.length).toBe(8);
    expect(report.figures).toBe(3);
    expect(Object.keys(report.timings)).toEqual([
      "theory",
      "spectrum",
      "total",
    ]);
    const html = readFileSync(join(out, "index.html"), "utf8");
    expect(html).toContain('<section id="summary">');
    expect(html).toContain("<li>Theory: all 2 checks pass.</li>");
    expect(html).toContain('<section id="theory">');
    expect(html).toContain('<section id="spectrum">');
    expect(html).toContain('<section id="runtime">');
    expect(html).not.toContain('<section id="contrastive">');
    // check 9 did not run: no Figure 1 section
    expect(html).not.toContain('<section id="figure1">');
    const markdown = readFileSync(join(out, "report.md"), "utf8");
    expect(markdown).toContain("![theory-01-feature-space]");
    expect(existsSync(join(out, "theory", "01-feature-space.png"))).toBe(true);
    expect(existsSync(join(out, "figures", "cora-spectrum.png"))).toBe(true);
  });

  it("exits with status 1 when a theory check fails, printing the paths", () => {
    const out = join(dir, "failing");
    const run = runMpcl([
      "report",
      "--quick",
      "--sections",
      "theory",
      "--checks",
      "1",
      "--perturbation",
      "0.5",
      "--out",
      out,
    ]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(
      `report: ${join(out, "index.html")}\n` +
        `markdown: ${join(out, "report.md")}\n`,
    );
    const html = readFileSync(join(out, "index.html"), "utf8");
    expect(html).toContain('<td class="fail">NO</td>');
    expect(html).not.toContain('<td class="pass">');
    expect(html).toContain("a theory check FAILS");
    expect(html).toContain("<li>Theory: check(s) 1 FAIL, 0 of 1 pass.</li>");
    const markdown = readFileSync(join(out, "report.md"), "utf8");
    expect(markdown).toMatch(/^\| 1 \| .* \| \*\*NO\*\* \| /m);
  });
});
