// End-to-end tests of the `mpcl` command, run as a user would run it.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../../bin/mpcl.js", import.meta.url));

function mpcl(args: string[]): string {
  return execFileSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, MPCL_BACKEND: "" },
  });
}

describe("mpcl command", () => {
  it("info --json reports backend, kernels and versions", () => {
    const lines = mpcl(["info", "--json"]).trim().split("\n");
    const info = JSON.parse(lines[lines.length - 1]);
    expect(["tensorflow", "wasm", "cpu"]).toContain(info.backend);
    expect(["native", "typescript"]).toContain(info.kernels);
    expect(info.kernelThreads).toBeGreaterThanOrEqual(1);
    expect(info.versions["@tensorflow/tfjs"]).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("MPCL_BACKEND=cpu forces the CPU backend", () => {
    const out = execFileSync(process.execPath, [bin, "info", "--json"], {
      encoding: "utf8",
      env: { ...process.env, MPCL_BACKEND: "cpu" },
    });
    expect(JSON.parse(out.trim()).backend).toBe("cpu");
  });

  /** Exit status and stderr of `mpcl info` under MPCL_BACKEND=`backend`. */
  function infoUnder(backend: string): { status: number; stderr: string } {
    try {
      execFileSync(process.execPath, [bin, "info"], {
        encoding: "utf8",
        env: { ...process.env, MPCL_BACKEND: backend },
        stdio: ["ignore", "pipe", "pipe"],
      });
      return { status: 0, stderr: "" };
    } catch (err) {
      return err as { status: number; stderr: string };
    }
  }

  it("an unknown MPCL_BACKEND is a clear error, not a stack trace", () => {
    const { status, stderr } = infoUnder("gpu9000");
    expect(status).toBe(1);
    expect(stderr).toMatch(/^mpcl: ConfigError: initBackend/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  const nativeInstalled = ["tfjs-node-gpu", "tfjs-node"].some((p) =>
    existsSync(join("node_modules", "@tensorflow", p)),
  );
  it.skipIf(nativeInstalled)(
    "MPCL_BACKEND=tensorflow without a native package says so",
    () => {
      const { status, stderr } = infoUnder("tensorflow");
      expect(status).toBe(1);
      expect(stderr).toContain(
        "MPCL_BACKEND=tensorflow, but neither @tensorflow/tfjs-node-gpu " +
          "nor @tensorflow/tfjs-node is installed",
      );
      expect(stderr).not.toMatch(/\n\s+at /);
    },
  );

  it("demo propagates Cora and smoothing helps the classifier", () => {
    const out = mpcl(["demo"]);
    expect(out).toMatch(/Cora: 2708 nodes, 5278 undirected edges/);
    const acc = [...out.matchAll(/^([0-3])\s+(\d+\.\d)$/gm)].map((m) =>
      Number(m[2]),
    );
    expect(acc).toHaveLength(4);
    // two rounds of propagation beat raw features by a wide margin
    expect(acc[2]).toBeGreaterThan(acc[0] + 10);
  });
});
