/**
 * The registry of theory checks, in id order, and the framework's types.
 * `mpcl theory` runs {@link THEORY_CHECKS}; `run.ts` writes the report.
 */

import { featureSpaceCheck } from "./01-feature-space.js";
import { gradientMessagePassingCheck } from "./02-gradient-message-passing.js";
import { alignmentCollapseCheck } from "./03-alignment-collapse.js";
import { uniformitySingularValuesCheck } from "./04-uniformity-singular-values.js";
import { equilibriumCheck } from "./05-equilibrium.js";
import { infoNCEEquilibriumCheck } from "./06-infonce-equilibrium.js";
import { oversmoothingCheck } from "./07-oversmoothing.js";
import { uniformityNormalizationCheck } from "./08-uniformity-normalization.js";
import { figure1Check } from "./09-figure1.js";
import type { TheoryCheck } from "./check.js";

export * from "./check.js";
export * from "./run.js";

/** Every check that exists, in id order. */
export const THEORY_CHECKS: readonly TheoryCheck[] = [
  featureSpaceCheck,
  gradientMessagePassingCheck,
  alignmentCollapseCheck,
  uniformitySingularValuesCheck,
  equilibriumCheck,
  infoNCEEquilibriumCheck,
  oversmoothingCheck,
  uniformityNormalizationCheck,
  figure1Check,
];
