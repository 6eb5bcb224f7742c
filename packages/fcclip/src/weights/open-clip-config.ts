import { ConfigError } from "../config/config.js";

/**
 * The text tower's head count from an open_clip model config JSON (e.g. convnext_large_d_320.json): the one number
 * the weights' shapes cannot tell when the text width is not a multiple of 64.
 */
export function openClipTextHeads(text: string, source: string): number {
  let cfg: { text_cfg?: { heads?: unknown } };
  try {
    cfg = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`cannot read the open_clip model config ${source}: ${(e as Error).message}`);
  }
  const heads = cfg?.text_cfg?.heads;
  if (typeof heads !== "number" || !Number.isInteger(heads) || heads < 1) {
    throw new ConfigError(`${source} has no text_cfg.heads; it is not an open_clip model config`);
  }
  return heads;
}
