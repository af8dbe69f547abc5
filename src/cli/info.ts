/** `mpcl info`: the backend, threads and versions this process uses. */

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import { initBackend } from "../backend.js";
import { kernelInfo } from "../graph/kernels.js";
import { packageVersion } from "./util.js";

/** Everything `mpcl info` reports, as one object. */
export interface RuntimeInfo {
  mpcl: string;
  node: string;
  backend: string;
  nativeTensorflow: string | null;
  backendThreads: number;
  kernels: string;
  kernelThreads: number;
  versions: Record<string, string>;
}

const PACKAGES = [
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-backend-wasm",
  "graphology",
  "graphology-communities-louvain",
  "mathjs",
];

/**
 * The version of an installed package, read from the package.json found
 * above its entry point (some packages do not export their package.json).
 */
function installedVersion(name: string): string {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve(name));
  } catch {
    return "not installed";
  }
  for (;;) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8"));
      if (pkg.name === name) return pkg.version as string;
    }
    const parent = dirname(dir);
    if (parent === dir) return "unknown";
    dir = parent;
  }
}

/** Collect the runtime facts (starts the backend if needed). */
export async function runtimeInfo(): Promise<RuntimeInfo> {
  const backend = await initBackend();
  const kernels = kernelInfo();
  const versions: Record<string, string> = {};
  for (const name of PACKAGES) versions[name] = installedVersion(name);
  return {
    mpcl: packageVersion(),
    node: process.version,
    backend: backend.backend,
    nativeTensorflow: backend.nativePackage,
    backendThreads: backend.threads,
    kernels: kernels.implementation,
    kernelThreads: kernels.threads,
    versions,
  };
}

/** The facts as readable lines. */
export function formatRuntimeInfo(info: RuntimeInfo): string {
  const lines = [
    `mpcl ${info.mpcl} on Node.js ${info.node}`,
    `tensor backend: ${info.backend}` +
      (info.nativeTensorflow ? ` (${info.nativeTensorflow})` : "") +
      `, ${info.backendThreads || "native"} thread(s)`,
    `sparse kernels: ${info.kernels}, ${info.kernelThreads} thread(s)`,
  ];
  for (const [name, version] of Object.entries(info.versions)) {
    lines.push(`${name} ${version}`);
  }
  return lines.join("\n");
}

/** Register `mpcl info` on the program. */
export function registerInfo(program: Command): void {
  program
    .command("info")
    .description("print the backend, thread counts and versions")
    .option("--json", "print one JSON object")
    .action(async (opts: { json?: boolean }) => {
      const info = await runtimeInfo();
      console.log(opts.json ? JSON.stringify(info) : formatRuntimeInfo(info));
    });
}
