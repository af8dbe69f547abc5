/**
 * Neural networks on graphs: the layer contract, initialisers and
 * activations, the convolutions (GCN, GraphSAGE, GAT/GATv2, GIN, SGC,
 * APPNP), normalizations (PairNorm, ContraNorm, batch norm), jumping
 * knowledge, the model builder, optimizers, experiment configs and the
 * supervised node-classification trainer.
 */

export * from "./activation.js";
export * from "./appnp.js";
export * from "./batchnorm.js";
export * from "./config.js";
export * from "./contranorm.js";
export * from "./gat.js";
export * from "./gcn.js";
export * from "./gin.js";
export * from "./init.js";
export * from "./jk.js";
export * from "./linear.js";
export * from "./model.js";
export * from "./module.js";
export * from "./optim.js";
export * from "./pairnorm.js";
export * from "./sage.js";
export * from "./sgc.js";
export * from "./train.js";
