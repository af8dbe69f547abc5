/**
 * Executes the notebooks of this folder headlessly with the tslab
 * TypeScript kernel and checks what they produced: every code cell ran
 * without an error, and every cell tagged `figure` displayed a PNG.
 *
 * Jupyter's own runner does the work (nbclient, driven by `execute.py`
 * beside this file); the kernel is registered in a private temporary
 * JUPYTER_PATH, never in the user's Jupyter folders.
 *
 * Usage: `tsx notebooks/run.ts [--inplace] [name.ipynb ...]` executes the
 * named notebooks (default all), prints one line per notebook and, with
 * `--inplace`, writes the executed notebooks over the committed ones.
 */

import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join, resolve } from "node:path";
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
  /** The executed notebook, parsed (null when none was written). */
  notebook: Notebook | null;
  /** Where the executed notebook was written. */
  outputPath: string;
  /** Exit code of `execute.py` (0 when every cell succeeded). */
  exitCode: number;
  /** What `execute.py` wrote on stderr (the failing cell and its error). */
  stderr: string;
  /** Wall-clock seconds. */
  seconds: number;
}

/** What to install when {@link jupyterPython} finds no Jupyter. */
export const JUPYTER_MISSING =
  "expected a Python with nbclient and nbformat (Debian: apt-get install " +
  "python3-nbclient python3-nbformat python3-jupyter-client; or set " +
  "MPCL_JUPYTER_PYTHON), found none";

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

/**
 * The Python interpreter that has Jupyter's `nbclient` and `nbformat`:
 * `$MPCL_JUPYTER_PYTHON` when set, else the one named by the `#!` line of
 * the `jupyter` command on PATH (so that a pyenv or virtualenv `python3`
 * earlier on PATH, without Jupyter, is not picked), else `python3`.
 * Returns null when that interpreter cannot import both modules.
 */
export function jupyterPython(): string | null {
  const candidates: string[] = [];
  const asked = process.env.MPCL_JUPYTER_PYTHON;
  if (asked !== undefined && asked !== "") candidates.push(asked);
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const script = join(dir, "jupyter");
    if (dir === "" || !existsSync(script)) continue;
    const first = readFileSync(script, "utf8").split("\n", 1)[0] ?? "";
    const shebang = first.startsWith("#!") ? first.slice(2).trim() : "";
    const words = shebang.split(/\s+/);
    const python = basename(words[0] ?? "") === "env" ? words[1] : words[0];
    if (python !== undefined && python !== "") candidates.push(python);
    break;
  }
  candidates.push("python3");
  for (const python of candidates) {
    const probe = spawnSync(python, ["-c", "import nbclient, nbformat"], {
      stdio: "ignore",
    });
    if (probe.status === 0) return python;
  }
  return null;
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
 * Executes one notebook (a name in {@link NOTEBOOK_DIR}, or a path) with
 * nbclient (through
 * `execute.py`: cells in order, stopping at the first failing cell) and
 * writes the executed copy to `outputDir`, also when a cell failed.
 * `python` is the interpreter of {@link jupyterPython};
 * `timeoutSeconds` bounds each cell (default 240).
 */
export function executeNotebook(
  name: string,
  outputDir: string,
  python: string,
  env: NodeJS.ProcessEnv,
  timeoutSeconds = 240,
): Promise<ExecutionResult> {
  const start = performance.now();
  const outputPath = join(outputDir, basename(name));
  const args = [
    join(NOTEBOOK_DIR, "execute.py"),
    resolve(NOTEBOOK_DIR, name),
    outputPath,
    KERNEL_NAME,
    String(timeoutSeconds),
  ];
  return new Promise((done, fail) => {
    const child = spawn(python, args, {
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
      done({
        name,
        notebook: existsSync(outputPath) ? readNotebook(outputPath) : null,
        outputPath,
        exitCode: code ?? 1,
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
 * NOTE: tslab leaves `execution_count` empty and reports a failing cell
 * as stderr text, so whether every cell ran is read from the exit code
 * of `execute.py` (nbclient stops at the first cell whose reply is an
 * error), not from here.
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
  const python = jupyterPython();
  if (python === null) {
    process.stderr.write(`notebooks: ${JUPYTER_MISSING}\n`);
    return 1;
  }
  const { env, cleanup } = privateJupyter();
  const outputDir = mkdtempSync(join(tmpdir(), "mpcl-notebooks-"));
  let failed = 0;
  try {
    const results = await Promise.all(
      names.map((name) => executeNotebook(name, outputDir, python, env)),
    );
    for (const result of results) {
      const faults =
        result.exitCode !== 0 || result.notebook === null
          ? [`execute.py exited with ${result.exitCode}:\n${result.stderr}`]
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
