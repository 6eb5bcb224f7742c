export { type ConvNeXtBlockParams, convnextBlock } from "./convnext/block.js";
export { type ConvNeXtFeatures, type ConvNeXtShape, ConvNeXtTrunk } from "./convnext/trunk.js";
export { type ParamLoader, paramLoader, type TensorSource } from "./params.js";
export { ClipVisualHead } from "./visual-head.js";
