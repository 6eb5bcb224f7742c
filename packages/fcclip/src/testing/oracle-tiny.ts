/** The oracle's tiny FC-CLIP in ../shared, and the CLI arguments that load it as users would (official files). */
import { join } from "node:path";
import { SHARED } from "../../../tensor-core/src/testing/shared.js";

export const TINY = join(SHARED, "oracle", "tiny");
export const TINY_MODEL = join(TINY, "model");
export const CHELSEA = join(TINY, "images", "chelsea.png");

/** `fcclip segment` on the tiny model's heads + open_clip files with its config; add --vocab, --input, --output. */
export const TINY_SEGMENT_ARGS = [
  "segment",
  "--no-cache",
  "--weights",
  join(TINY_MODEL, "fcclip_tiny_head.pth"),
  "--clip-weights",
  join(TINY_MODEL, "open_clip_tiny.bin"),
  "--clip-config",
  join(TINY_MODEL, "convnext_oracle_tiny_clip.json"),
  "--config-file",
  join(TINY, "config.yaml"),
  "--data-dir",
  join(SHARED, "data"),
];
