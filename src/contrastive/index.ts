/** Contrastive learning: augmentation graphs (explicit and sampled). */

export * from "./augmentation.js";
