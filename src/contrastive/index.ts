/**
 * Contrastive learning as message passing: augmentation graphs (explicit
 * and sampled), the written-out losses, the alignment and uniformity
 * updates, and the simulator of the feature-space dynamics.
 */

export * from "./augmentation.js";
export * from "./checkpoint.js";
export * from "./config.js";
export * from "./encoders.js";
export * from "./heads.js";
export {
  type InfoNCEOptions,
  infoNCELoss,
  normalizedAugmentationGraph,
  type SpectralLossForms,
  spectralContrastiveLoss,
  spectralLossDense64,
  spectralLossFeatureSpace,
} from "./losses.js";
export * from "./objectives.js";
export * from "./simulate.js";
export * from "./step.js";
export * from "./trainer.js";
export * from "./tricks/attention.js";
export * from "./tricks/memory.js";
export * from "./tricks/rewire.js";
export {
  type AlignmentUpdateOptions,
  alignmentUpdate,
  attentionMultipliers,
  type ContrastiveStepOptions,
  contrastiveStep,
  degreeScale,
  degreeUnscale,
  type UniformityUpdateOptions,
  uniformityUpdate,
} from "./updates.js";
export * from "./views/index.js";
