import { type Engine, ShapeError, type StateDict } from "@fcclip/tensor-core";
import { ConvNeXtVisual } from "./convnext/convnext-visual.js";
import { ResNetVisual } from "./resnet/resnet-visual.js";
import type { VisualBackbone, VisualFamily, VisualWeights } from "./visual-backbone.js";

/** Which CLIP image tower the keys under `prefix` hold: a timm ConvNeXt trunk, or OpenAI's ModifiedResNet. */
export function detectVisualFamily(weights: Pick<StateDict, "keys">, prefix: string): VisualFamily {
  const keys = weights.keys();
  if (keys.some((k) => k.startsWith(`${prefix}trunk.stages.`))) return "convnext";
  if (keys.some((k) => k.startsWith(`${prefix}layer1.`) || k === `${prefix}attnpool.positional_embedding`))
    return "resnet";
  throw new ShapeError(
    `no CLIP image tower under '${prefix}': expected a ConvNeXt (${prefix}trunk.stages.*) or a ModifiedResNet (${prefix}layer1.*, ${prefix}attnpool.*)`,
  );
}

/** Loads the CLIP image tower the weights hold (prefix "visual." for CLIP files, "backbone.clip_model.visual." in FC-CLIP). */
export async function loadVisualBackbone(
  engine: Engine,
  weights: VisualWeights,
  prefix = "visual.",
): Promise<VisualBackbone> {
  return detectVisualFamily(weights, prefix) === "convnext"
    ? ConvNeXtVisual.load(engine, weights, prefix)
    : ResNetVisual.load(engine, weights, prefix);
}
