// Running the `mpcl` command from tests, as a user would run it.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The launcher of the command, bin/mpcl.js. */
export const MPCL_BIN = fileURLToPath(
  new URL("../../bin/mpcl.js", import.meta.url),
);

/** What a run of the command left: its output and exit status. */
export interface CliRun {
  stdout: string;
  stderr: string;
  status: number;
}

/**
 * Run `mpcl ...args` in a child process (the backend chosen as a user's
 * would be, unless `env` says otherwise); never throws on a non-zero exit.
 */
export function runMpcl(
  args: string[],
  env: Record<string, string> = {},
): CliRun {
  try {
    const stdout = execFileSync(process.execPath, [MPCL_BIN, ...args], {
      encoding: "utf8",
      env: { ...process.env, MPCL_BACKEND: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { stdout, stderr: "", status: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; status: number };
    return { stdout: e.stdout, stderr: e.stderr, status: e.status };
  }
}

/** The JSON object on the last line of standard output. */
export function lastJsonLine<T>(stdout: string): T {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as T;
}
