/**
 * Seeded views for contrastive learning: graph views (edge dropping,
 * feature masking, as GRACE) and batch image augmentations (crops, affine
 * maps, noise, erasing, as SimCLR).
 */

export * from "./graph.js";
export * from "./image.js";
