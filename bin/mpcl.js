#!/usr/bin/env node
// The `mpcl` command: runs the TypeScript CLI through tsx, so that no
// build step stands between a checkout and a working command.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
