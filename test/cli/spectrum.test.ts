// End-to-end tests of `mpcl spectrum`, run as a user would run it: the
// table, --json, --out (checked against a dense matrix built here from
// the edge list) and the one-line errors for bad input.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lastJsonLine, runMpcl } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "mpcl-spectrum-"));

/** Run the command; stdout, stderr and the exit status. */
const mpcl = (args: string[]) => runMpcl(args);

/** What --json prints on its last line. */
interface SpectrumJson {
  eigenvalues: number[];
  residuals: number[];
  iterations: number;
  seconds: number;
  method: string;
}

/** The JSON object on the last line of standard output. */
const lastJson = (stdout: string) => lastJsonLine<SpectrumJson>(stdout);

/** Write a file in the test folder and return its path. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A cycle of n nodes as an edge list, with comments. */
function cycleText(n: number): string {
  const lines = [`# cycle of ${n} nodes`];
  for (let i = 0; i < n; i++) lines.push(`${i} ${(i + 1) % n}  # edge`);
  return `${lines.join("\n")}\n`;
}

describe("mpcl spectrum", () => {
  it("prints a table of eigenvalues and residuals", () => {
    const path = file("cycle12.txt", cycleText(12));
    const { stdout, status } = mpcl(["spectrum", "--edges", path, "--k", "3"]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/12 nodes/);
    expect(stdout).toMatch(/index\s+eigenvalue\s+residual/);
    // Ā of a cycle: cos(2πj/12): 1, then cos(π/6) twice
    const rows = [...stdout.matchAll(/^(\d)\s+(-?\d\.\d+)\s+(\S+)$/gm)];
    expect(rows.map((r) => Number(r[2]))).toEqual([
      1,
      Number(Math.cos(Math.PI / 6).toFixed(12)),
      Number(Math.cos(Math.PI / 6).toFixed(12)),
    ]);
  });

  it("--json: one object on the last line, closed form of a cycle", () => {
    const n = 300;
    const path = file("cycle300.txt", cycleText(n));
    const { stdout, status } = mpcl([
      "spectrum",
      "--edges",
      path,
      "--operator",
      "laplacian",
      "--which",
      "SA",
      "--k",
      "5",
      "--tol",
      "1e-10",
      "--json",
    ]);
    expect(status).toBe(0);
    const report = lastJson(stdout);
    expect(report.method).toBe("lanczos");
    const want = [0, 1, 1, 2, 2].map(
      (j) => 2 - 2 * Math.cos((2 * Math.PI * j) / n),
    );
    expect(report.eigenvalues).toHaveLength(5);
    report.eigenvalues.forEach((v, j) => {
      expect(Math.abs(v - want[j])).toBeLessThan(1e-9);
    });
    for (const r of report.residuals) expect(r).toBeLessThan(1e-9);
    expect(report.iterations).toBeGreaterThan(0);
    expect(report.seconds).toBeGreaterThanOrEqual(0);
  });

  it("--out writes the eigenvectors as CSV, atomically", () => {
    // a small weighted graph: a triangle with a tail
    const text = "0 1 2\n1 2 1\n2 0 1\n2 3 0.5\n3 4 1\n4 5 3\n";
    const path = file("weighted.txt", text);
    const out = join(dir, "vectors.csv");
    const { stdout, status } = mpcl([
      "spectrum",
      "--edges",
      path,
      "--k",
      "3",
      "--out",
      out,
      "--json",
    ]);
    expect(status).toBe(0);
    const report = lastJson(stdout);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines[0]).toBe("node,v1,v2,v3");
    expect(lines).toHaveLength(1 + 6);
    const x = lines.slice(1).map((l) => l.split(",").map(Number));
    expect(x.map((row) => row[0])).toEqual([0, 1, 2, 3, 4, 5]);

    // Ā from the edge list, and A v = λ v for each column
    const a = Array.from({ length: 6 }, () => new Array(6).fill(0));
    for (const line of text.trim().split("\n")) {
      const [u, v, w] = line.split(" ").map(Number);
      a[u][v] += w;
      a[v][u] += w;
    }
    const d = a.map((r) => r.reduce((s, t) => s + t, 0));
    for (let j = 0; j < 3; j++) {
      const v = x.map((row) => row[j + 1]);
      expect(Math.hypot(...v)).toBeCloseTo(1, 12);
      for (let i = 0; i < 6; i++) {
        let av = 0;
        for (let t = 0; t < 6; t++) {
          av += (a[i][t] / Math.sqrt(d[i] * d[t])) * v[t];
        }
        expect(Math.abs(av - report.eigenvalues[j] * v[i])).toBeLessThan(1e-10);
      }
    }

    // no temporary file is left behind
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("a dataset: Cora's 78 components give eigenvalue 1 at least 8 times", () => {
    const { stdout, status } = mpcl([
      "spectrum",
      "--dataset",
      "cora",
      "--k",
      "8",
      "--json",
    ]);
    expect(status).toBe(0);
    const report = lastJson(stdout);
    expect(report.method).toBe("lanczos");
    for (const v of report.eigenvalues)
      expect(Math.abs(v - 1)).toBeLessThan(1e-8);
  });

  it("a malformed line: GraphFormatError with path and line, exit 1", () => {
    const path = file("bad.txt", "# header\n0 1\n1 2 3 4\n");
    const { stderr, status, stdout } = mpcl(["spectrum", "--edges", path]);
    expect(status).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(
      new RegExp(`^mpcl: GraphFormatError: ${path.replace(/\./g, "\\.")}:3: `),
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("a pair repeated with another weight is an error at its line", () => {
    const path = file("conflict.txt", "0 1 1\n1 2 1\n1 0 2\n");
    const { stderr, status } = mpcl(["spectrum", "--edges", path]);
    expect(status).toBe(1);
    expect(stderr).toMatch(/^mpcl: GraphFormatError: .*conflict\.txt:3: /);
  });

  it("bad options are one-line ConfigErrors", () => {
    const path = file("cycle5.txt", cycleText(5));
    for (const args of [
      ["--edges", path, "--operator", "heat"],
      ["--edges", path, "--which", "XX"],
      ["--edges", path, "--k", "0"],
      ["--edges", path, "--k", "9"],
      ["--edges", path, "--dataset", "cora"],
      [],
      ["--dataset", "mnist"],
      ["--edges", join(dir, "missing.txt")],
    ]) {
      const { stderr, status } = mpcl(["spectrum", ...args]);
      expect(status).toBe(1);
      expect(stderr).toMatch(/^mpcl: ConfigError: /);
      expect(stderr).not.toMatch(/\n\s+at /);
    }
  });
});
