export { type ConvNeXtBlockParams, convnextBlock } from "./convnext/block.js";
export { type ConvNeXtFeatures, type ConvNeXtShape, ConvNeXtTrunk } from "./convnext/trunk.js";
export { ClipVisualHead } from "./visual-head.js";
