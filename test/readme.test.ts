// The README's TypeScript examples are run as written (with "mpcl"
// resolved to this checkout), so that they cannot drift from the API.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(root, "README.md"), "utf8");
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const dir = mkdtempSync(join(tmpdir(), "mpcl-readme-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(code: string, name: string): string {
  const index = join(root, "src", "index.ts");
  const file = join(dir, `${name}.mts`);
  const prelude = code.includes("initBackend()")
    ? ""
    : `import { initBackend as __init } from "${index}";\nawait __init();\n`;
  writeFileSync(
    file,
    prelude + code.replaceAll('from "mpcl"', `from "${index}"`),
  );
  return execFileSync(process.execPath, ["--import", "tsx", file], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("README examples", () => {
  it("has the API, custom-aggregator and spectral examples", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  it("the API example runs", () => {
    run(blocks[0], "api");
  });

  it("the custom aggregator gives the values its comment states", () => {
    const out = run(blocks[1], "aggregator");
    const numbers = [...out.matchAll(/-?\d+(\.\d+)?/g)].map((m) =>
      Number(m[0]),
    );
    expect(numbers.slice(0, 3)).toEqual([5, 3, 0]);
  });

  it("the spectral example runs and finds one component", () => {
    const out = run(blocks[2], "spectral");
    const lines = out.trim().split("\n");
    expect(lines).toContain("1");
  });

  it("the contrastive example reaches the top-k eigenspace", () => {
    const out = run(blocks[3], "contrastive");
    const lines = out.trim().split("\n");
    const distance = Number(lines[lines.length - 1]);
    expect(distance).toBeLessThan(1e-4);
  });

  it("the GNN example trains a GCN on Cora to about 81 %", () => {
    const out = run(blocks[4], "gnn");
    const lines = out.trim().split("\n");
    const accuracy = Number(lines[lines.length - 1]);
    expect(lines[0]).toContain("true");
    expect(accuracy).toBeGreaterThan(0.78);
  });
});
