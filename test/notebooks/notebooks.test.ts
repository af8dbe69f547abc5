// The notebooks of notebooks/: each is executed headlessly with the tslab
// kernel (all in parallel), every code cell must run without an error and
// every cell tagged "figure" must display a PNG. The committed copies must
// carry their outputs, so that a code host shows the figures.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ExecutionResult,
  executeNotebook,
  FIGURE_TAG,
  JUPYTER_MISSING,
  jupyterPython,
  KERNEL_NAME,
  listNotebooks,
  NOTEBOOK_DIR,
  type Notebook,
  notebookFaults,
  privateJupyter,
  readNotebook,
} from "../../notebooks/run.js";

const EXPECTED = [
  "01-graphs-and-aggregators.ipynb",
  "02-learning-dynamics.ipynb",
  "03-gnn-tricks-in-contrastive-training.ipynb",
  "04-spectral-analysis.ipynb",
];

/** A one-pixel PNG, base64, padded past the checker's minimum size. */
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(120, 1),
]).toString("base64");

function notebookOf(cells: Notebook["cells"]): Notebook {
  return { cells, metadata: { kernelspec: { name: KERNEL_NAME } } };
}

describe("notebookFaults", () => {
  it("passes a notebook whose figure cell shows a PNG", () => {
    const nb = notebookOf([
      { cell_type: "markdown", source: "# title", metadata: {} },
      {
        cell_type: "code",
        source: "await show(spec)",
        metadata: { tags: [FIGURE_TAG] },
        outputs: [{ output_type: "display_data", data: { "image/png": PNG } }],
      },
    ]);
    expect(notebookFaults(nb)).toEqual([]);
  });

  it("reports a figure cell without a PNG, or with bytes that are not one", () => {
    const noImage = notebookOf([
      {
        cell_type: "code",
        source: "console.log(1)",
        metadata: { tags: [FIGURE_TAG] },
        outputs: [{ output_type: "stream", name: "stdout", text: "1\n" }],
      },
    ]);
    expect(notebookFaults(noImage)).toEqual([
      "cell 0 (console.log(1)) is tagged figure but displayed no PNG",
    ]);
    const notPng = notebookOf([
      {
        cell_type: "code",
        source: "x",
        metadata: { tags: [FIGURE_TAG] },
        outputs: [
          {
            output_type: "display_data",
            data: { "image/png": Buffer.alloc(100, 7).toString("base64") },
          },
        ],
      },
    ]);
    expect(notebookFaults(notPng)).toHaveLength(1);
  });

  it("reports error outputs and errors written on stderr", () => {
    const nb = notebookOf([
      {
        cell_type: "code",
        source: "f()",
        metadata: {},
        outputs: [
          { output_type: "error", ename: "GraphError", evalue: "bad id" },
        ],
      },
      {
        cell_type: "code",
        source: "g()",
        metadata: {},
        outputs: [
          {
            output_type: "stream",
            name: "stderr",
            text: ["ShapeError: matMul: ", "expected [2, 3]\n"],
          },
        ],
      },
      {
        cell_type: "code",
        source: "h()",
        metadata: {},
        outputs: [{ output_type: "stream", name: "stderr", text: "note\n" }],
      },
    ]);
    expect(notebookFaults(nb)).toEqual([
      "cell 0 (f()) raised GraphError: bad id",
      "cell 1 (g()) wrote an error: ShapeError: matMul: expected [2, 3]\n",
    ]);
  });
});

describe("the committed notebooks", () => {
  it("are the four of the README, for the tslab kernel", () => {
    expect(listNotebooks()).toEqual(EXPECTED);
    for (const name of EXPECTED) {
      const nb = readNotebook(join(NOTEBOOK_DIR, name));
      expect(nb.metadata.kernelspec?.name).toBe(KERNEL_NAME);
    }
  });

  it("carry their outputs: every figure cell holds a PNG, none an error", () => {
    for (const name of EXPECTED) {
      const nb = readNotebook(join(NOTEBOOK_DIR, name));
      const figures = nb.cells.filter((c) =>
        (c.metadata.tags ?? []).includes(FIGURE_TAG),
      );
      expect(figures.length, name).toBeGreaterThan(0);
      expect(notebookFaults(nb), name).toEqual([]);
    }
  });
});

/** Three cells: one prints, one throws, one would print after it. */
function failingNotebook(): object {
  const code = (source: string) => ({
    cell_type: "code",
    source,
    metadata: {},
    execution_count: null,
    outputs: [],
  });
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: KERNEL_NAME, display_name: "TypeScript" } },
    cells: [
      code('console.log("before", 6 * 7);'),
      code('throw new RangeError("deliberately thrown");'),
      code('console.log("after");'),
    ],
  };
}

describe("executing the notebooks", () => {
  const results = new Map<string, ExecutionResult>();
  let cleanup = () => {};
  let outputDir = "";

  beforeAll(async () => {
    const python = jupyterPython();
    if (python === null) throw new Error(`notebooks test: ${JUPYTER_MISSING}`);
    const jupyter = privateJupyter();
    cleanup = jupyter.cleanup;
    outputDir = mkdtempSync(join(tmpdir(), "mpcl-notebooks-test-"));

    // a notebook whose second cell throws, run beside the real ones
    const failing = join(outputDir, "failing.ipynb");
    writeFileSync(failing, JSON.stringify(failingNotebook()));
    const runs = [...EXPECTED, failing].map((name) =>
      executeNotebook(name, outputDir, python, jupyter.env),
    );
    for (const result of await Promise.all(runs)) {
      results.set(result.name, result);
    }
  }, 600_000);

  afterAll(() => {
    cleanup();
    if (outputDir !== "") rmSync(outputDir, { recursive: true, force: true });
  });

  it("reports a cell that throws, with the kernel's message", () => {
    const result = results.get(join(outputDir, "failing.ipynb"));
    expect(result?.exitCode).toBe(1);
    expect(result?.stderr).toContain("RangeError: deliberately thrown");

    // the executed notebook is written up to the failing cell
    const outputs = result?.notebook?.cells.map((c) => c.outputs ?? []);
    expect(JSON.stringify(outputs?.[0])).toContain("before 42");
    expect(outputs?.[2]).toEqual([]);
  });

  it.each(EXPECTED)("%s runs every cell and shows its figures", (name) => {
    const result = results.get(name);
    expect(result, name).toBeDefined();
    expect(result!.exitCode, result!.stderr.slice(-4000)).toBe(0);
    expect(notebookFaults(result!.notebook!)).toEqual([]);
  });
});
