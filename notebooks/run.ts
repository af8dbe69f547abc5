/**
 * Executes the notebooks of this folder headlessly with the tslab
 * TypeScript kernel and checks what they produced: every code cell ran
 * without an error, and every cell tagged `figure` displayed a PNG.
 *
 * Jupyter's own runner does the work (`jupyter nbconvert --execute`,
 * i.e. nbclient); the kernel is registered in a private temporary
 * JUPYTER_PATH, never in the user's Jupyter folders.
 *
 * Usage: `tsx notebooks/run.ts [--inplace] [name.ipynb ...]` executes the
 * named notebooks (default all), prints one line per notebook and, with
 * `--inplace`, writes the executed notebooks over the committed ones.
 */

import { spawn, spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder holding the notebooks. */
export const NOTEBOOK_DIR = dirname(fileURLToPath(import.meta.url));

/** The kernel name the notebooks ask for (what `tslab install` writes). */
export const KERNEL_NAME = "tslab";

/** The tag that marks a code cell which must display a PNG figure. */
export const FIGURE_TAG = "figure";

/** One output of a code cell, as nbformat 4 stores it. */
export interface CellOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

/** One cell of a notebook, as nbformat 4 stores it. */
export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw";
  source: string | string[];
  metadata: { tags?: string[] };
  outputs?: CellOutput[];
}

/** A notebook file, as nbformat 4 stores it (only what is checked). */
export interface Notebook {
  cells: NotebookCell[];
  metadata: { kernelspec?: { name: string } };
}

/** The outcome of {@link executeNotebook}. */
export interface ExecutionResult {
  /** The notebook's file name. */
  name: string;
  /** The executed notebook, parsed (null when nbconvert failed). */
  notebook: Notebook | null;
  /** Where the executed notebook was written. */
  outputPath: string;
  /** Exit code of `jupyter nbconvert` (0 when every cell succeeded). */
  exitCode: number;
  /** What nbconvert wrote on stderr (the failing cell and its error). */
  stderr: string;
  /** Wall-clock seconds. */
  seconds: number;
}

/** The notebooks of {@link NOTEBOOK_DIR}, sorted by name. */
export function listNotebooks(): string[] {
  return readdirSync(NOTEBOOK_DIR)
    .filter((name) => name.endsWith(".ipynb"))
    .sort();
}

/** Reads and parses a notebook file. */
export function readNotebook(path: string): Notebook {
  return JSON.parse(readFileSync(path, "utf8")) as Notebook;
}

/** The source of a cell as one string. */
export function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** Whether `jupyter nbconvert` can be started on this machine. */
export function hasJupyter(): boolean {
  const probe = spawnSync("jupyter", ["nbconvert", "--version"], {
    encoding: "utf8",
  });
  return probe.status === 0;
}

/**
 * A private Jupyter environment: temporary data, config and runtime
 * folders, with a kernelspec named {@link KERNEL_NAME} that starts this
 * repository's tslab. Returns the environment variables to run Jupyter
 * with and a function that deletes the folders.
 */
export function privateJupyter(): {
  env: NodeJS.ProcessEnv;
  cleanup: () => void;
} {
  const root = mkdtempSync(join(tmpdir(), "mpcl-jupyter-"));
  const kernelDir = join(root, "data", "kernels", KERNEL_NAME);
  mkdirSync(kernelDir, { recursive: true });
  const tslab = resolve(NOTEBOOK_DIR, "..", "node_modules", ".bin", "tslab");
  const spec = {
    argv: [tslab, "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript",
    language: "typescript",
  };
  writeFileSync(join(kernelDir, "kernel.json"), JSON.stringify(spec));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: join(root, "data"),
    JUPYTER_DATA_DIR: join(root, "data"),
    JUPYTER_CONFIG_DIR: join(root, "config"),
    JUPYTER_RUNTIME_DIR: join(root, "runtime"),
    // NOTE: a notebook's figures and timings do not depend on the
    // backend, but its printed outputs are easier to compare when the
    // backend is the same everywhere.
    MPCL_BACKEND: process.env.MPCL_BACKEND ?? "wasm",
  };
  return {
    env,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * Executes one notebook of {@link NOTEBOOK_DIR} with `jupyter nbconvert
 * --execute` (cells in order, stopping at the first error) and writes
 * the executed copy to `outputDir`. `timeoutSeconds` bounds each cell
 * (default 240).
 */
export function executeNotebook(
  name: string,
  outputDir: string,
  env: NodeJS.ProcessEnv,
  timeoutSeconds = 240,
): Promise<ExecutionResult> {
  const start = performance.now();
  const args = [
    "nbconvert",
    "--to",
    "notebook",
    "--execute",
    `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`,
    `--ExecutePreprocessor.timeout=${timeoutSeconds}`,
    "--output-dir",
    outputDir,
    join(NOTEBOOK_DIR, name),
  ];
  return new Promise((done, fail) => {
    const child = spawn("jupyter", args, {
      cwd: NOTEBOOK_DIR,
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("error", fail);
    child.on("close", (code) => {
      const outputPath = join(outputDir, basename(name));
      const exitCode = code ?? 1;
      let notebook: Notebook | null = null;
      if (exitCode === 0) notebook = readNotebook(outputPath);
      done({
        name,
        notebook,
        outputPath,
        exitCode,
        stderr,
        seconds: (performance.now() - start) / 1000,
      });
    });
  });
}

/**
 * What is wrong with an executed notebook, one sentence per fault: an
 * error output, a stderr stream that reports an error, or a cell tagged
 * {@link FIGURE_TAG} without a PNG (an `image/png` output whose bytes
 * start with the PNG signature). An empty list means the notebook
 * passed.
 *
 * NOTE: tslab leaves `execution_count` empty, so whether every cell ran
 * is read from nbconvert's exit code instead (it stops at the first
 * failing cell and exits non-zero).
 */
export function notebookFaults(notebook: Notebook): string[] {
  const faults: string[] = [];
  notebook.cells.forEach((cell, index) => {
    if (cell.cell_type !== "code") return;
    const where = `cell ${index} (${firstLine(cell)})`;
    const outputs = cell.outputs ?? [];
    for (const output of outputs) {
      if (output.output_type === "error") {
        faults.push(`${where} raised ${output.ename}: ${output.evalue}`);
      }
      if (output.output_type === "stream" && output.name === "stderr") {
        const text = joinText(output.text);
        if (/error/i.test(text)) {
          faults.push(`${where} wrote an error: ${text.slice(0, 300)}`);
        }
      }
    }
    if ((cell.metadata.tags ?? []).includes(FIGURE_TAG)) {
      const pngs = outputs.filter((o) => isPng(o.data?.["image/png"]));
      if (pngs.length === 0) {
        faults.push(`${where} is tagged figure but displayed no PNG`);
      }
    }
  });
  return faults;
}

/** Whether a notebook's base64 `image/png` value holds a PNG file. */
function isPng(value: unknown): boolean {
  const text = Array.isArray(value) ? value.join("") : value;
  if (typeof text !== "string" || text.length === 0) return false;
  const bytes = Buffer.from(text, "base64");
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return bytes.length > 64 && signature.every((b, i) => bytes[i] === b);
}

function joinText(text: string | string[] | undefined): string {
  return Array.isArray(text) ? text.join("") : (text ?? "");
}

function firstLine(cell: NotebookCell): string {
  const line = cellSource(cell).split("\n")[0] ?? "";
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/** Command-line entry: execute, check, and optionally write in place. */
async function main(argv: string[]): Promise<number> {
  const inplace = argv.includes("--inplace");
  const named = argv
    .filter((a) => a.endsWith(".ipynb"))
    .map((a) => basename(a));
  const names = named.length > 0 ? named : listNotebooks();
  const { env, cleanup } = privateJupyter();
  const outputDir = mkdtempSync(join(tmpdir(), "mpcl-notebooks-"));
  let failed = 0;
  try {
    const results = await Promise.all(
      names.map((name) => executeNotebook(name, outputDir, env)),
    );
    for (const result of results) {
      const faults =
        result.notebook === null
          ? [`nbconvert exited with ${result.exitCode}:\n${result.stderr}`]
          : notebookFaults(result.notebook);
      const status = faults.length === 0 ? "ok" : "FAILED";
      process.stdout.write(
        `${result.name}: ${status} in ${result.seconds.toFixed(1)} s\n`,
      );
      for (const fault of faults) process.stdout.write(`  ${fault}\n`);
      if (faults.length > 0) failed++;
      if (faults.length === 0 && inplace) {
        writeFileSync(
          join(NOTEBOOK_DIR, result.name),
          readFileSync(result.outputPath),
        );
      }
    }
  } finally {
    cleanup();
    rmSync(outputDir, { recursive: true, force: true });
  }
  return failed === 0 ? 0 : 1;
}

if (
  process.argv[1] !== undefined &&
  resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
