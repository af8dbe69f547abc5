#!/usr/bin/env node
// Builds mpcl's optional native kernels (native/) with node-gyp into
// native/build/Release/mpcl_kernels.node.
//
// Run by `npm install` / `npm ci` (the package's "install" script) and by
// `npm run build:native` (with --force). The addon is optional: when
// anything is missing (node-gyp, a C++ compiler, the Node headers) this
// prints one warning line and exits 0, and mpcl runs its TypeScript
// kernels instead. The full compiler output goes to native/build/build.log.
//
// Usage: node scripts/build-native.mjs [--force] [--verbose]
//   --force    rebuild even when the binary is up to date
//   --verbose  stream node-gyp's output instead of logging it
// Environment: MPCL_SKIP_NATIVE=1 skips the build.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const nativeDir = join(root, "native");
const buildDir = join(nativeDir, "build");
const addon = join(buildDir, "Release", "mpcl_kernels.node");
const stampFile = join(buildDir, "source-hash.txt");
const logFile = join(buildDir, "build.log");
const sources = ["binding.gyp", "mpcl_kernels.cc"];

const args = new Set(process.argv.slice(2));
const force = args.has("--force");
const verbose = args.has("--verbose");

/** Print the one warning line and leave without failing the install. */
function skip(why) {
  process.stderr.write(
    `mpcl: native kernels not built (${why}); using the TypeScript ` +
      "kernels (slower). Retry with: npm run build:native\n",
  );
  process.exit(0);
}

/** Hash of the addon's sources and of the Node ABI it is built for. */
function sourceHash() {
  const h = createHash("sha256");
  for (const name of sources) h.update(readFileSync(join(nativeDir, name)));
  h.update(`${process.platform}-${process.arch}-napi`);
  return h.digest("hex");
}

/** node-gyp's entry script: npm's own, else a local or global install. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) {
    candidates.push(process.env.npm_config_node_gyp);
  }
  const require = createRequire(import.meta.url);
  try {
    candidates.push(require.resolve("node-gyp/bin/node-gyp.js"));
  } catch {
    // not installed as a package of this project
  }

  // npm bundles node-gyp next to itself: <prefix>/lib/node_modules/npm
  const prefix = resolve(dirname(process.execPath), "..");
  const bundled = "npm/node_modules/node-gyp/bin/node-gyp.js";
  candidates.push(join(prefix, "lib", "node_modules", bundled));
  candidates.push(join(dirname(process.execPath), "node_modules", bundled));
  return candidates.find((p) => existsSync(p)) ?? null;
}

/**
 * Node headers already on this machine, so that node-gyp downloads
 * nothing: npm's `nodedir` setting, else the prefix of this Node binary
 * when it ships include/node (Debian's /usr, official tarballs).
 */
function findNodeDir() {
  const configured = process.env.npm_config_nodedir;
  if (configured && existsSync(join(configured, "include", "node"))) {
    return configured;
  }
  const prefix = resolve(dirname(process.execPath), "..");
  if (existsSync(join(prefix, "include", "node", "node_api.h"))) {
    return prefix;
  }
  return null;
}

if (process.env.MPCL_SKIP_NATIVE === "1") skip("MPCL_SKIP_NATIVE=1");
if (!existsSync(join(nativeDir, "binding.gyp"))) {
  skip("native/binding.gyp is missing");
}
const hash = sourceHash();
if (
  !force &&
  existsSync(addon) &&
  existsSync(stampFile) &&
  readFileSync(stampFile, "utf8").trim() === hash
) {
  process.exit(0);
}

const nodeGyp = findNodeGyp();
if (nodeGyp === null) skip("node-gyp not found");
const nodeDir = findNodeDir();
const gypArgs = [nodeGyp, "rebuild"];
if (nodeDir !== null) gypArgs.push(`--nodedir=${nodeDir}`);

// node-gyp writes into native/build only (its cwd), never elsewhere
mkdirSync(buildDir, { recursive: true });
const started = Date.now();
const run = spawnSync(process.execPath, gypArgs, {
  cwd: nativeDir,
  stdio: verbose ? "inherit" : "pipe",
  encoding: "utf8",
  timeout: 10 * 60 * 1000,
  env: { ...process.env, npm_config_loglevel: "error" },
});
if (!verbose) {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(logFile, `${run.stdout ?? ""}\n${run.stderr ?? ""}`);
}
if (run.error) skip(`node-gyp did not run: ${run.error.message}`);
if (run.status !== 0 || !existsSync(addon)) {
  // a compiler error says the most, then the error node-gyp raised
  const text = `${run.stdout ?? ""}\n${run.stderr ?? ""}`.split("\n");
  const offline = text.some((l) => /network connectivity/.test(l));
  const hint = offline
    ? "could not download the Node headers"
    : (text.find((l) => /error:/.test(l)) ??
      text.find((l) => /No such file|not found/i.test(l)) ??
      text.find((l) => /ERR! stack \w*Error/.test(l)) ??
      text.find((l) => /ERR!/.test(l)) ??
      "");
  const detail = hint
    .replace(/^gyp ERR! (stack )?/, "")
    .trim()
    .slice(0, 160);
  const headers = nodeDir === null ? ", no local Node headers found" : "";
  skip(
    `node-gyp failed${headers}${detail ? `: ${detail}` : ""}` +
      (verbose ? "" : `; log in ${logFile}`),
  );
}

// the binary must load in this Node before it is trusted
try {
  const require = createRequire(import.meta.url);
  const mod = require(addon);
  if (typeof mod.spmm !== "function") throw new Error("no spmm export");
} catch (err) {
  rmSync(addon, { force: true });
  skip(`the built addon does not load: ${err.message.split("\n")[0]}`);
}
writeFileSync(stampFile, `${hash}\n`);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
process.stdout.write(`mpcl: native kernels built in ${seconds} s\n`);
