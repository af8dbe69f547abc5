/**
 * The `mpcl` command line. Each sub-command lives in its own file of this
 * folder and registers itself on the program; only this folder prints.
 */

import { Command } from "commander";
import { MpclError } from "../errors.js";
import { registerDemo } from "./demo.js";
import { registerInfo } from "./info.js";
import { registerMultistage } from "./multistage.js";
import { registerOversmoothing } from "./oversmoothing.js";
import { registerReport } from "./report.js";
import { registerSpectrum } from "./spectrum.js";
import { registerTheory } from "./theory.js";
import { registerTrain } from "./train.js";
import { packageVersion } from "./util.js";

const program = new Command();
program
  .name("mpcl")
  .description(
    "Graph neural networks and contrastive learning on one " +
      "message-passing operator",
  )
  .version(packageVersion());

registerInfo(program);
registerDemo(program);
registerSpectrum(program);
registerTheory(program);
registerOversmoothing(program);
registerMultistage(program);
registerTrain(program);
registerReport(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // our own errors are explained in one line; anything else is a bug and
  // keeps its stack trace
  if (err instanceof MpclError) {
    console.error(`mpcl: ${err.name}: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
