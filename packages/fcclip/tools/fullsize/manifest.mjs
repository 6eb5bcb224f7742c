// The full-size cases' key lists ({keys: [{key, shape}]}, in state-dict order), shared by the bench, the check and
// make_reference.py (which reads the file this writes). ConvNeXt-L: the official manifest in ../shared/data. RN50: the
// same heads on OpenAI's RN50 CLIP (OPENAI_RESNET_CLIPS.RN50: width 64, layers [3, 4, 6, 3], embed 1024, text width
// 512), listed by the key table the weight loader validates against (its RN counts are checked against open_clip's).
//   node tools/fullsize/manifest.mjs rn50 > manifest.json
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expectedShapes, inferArchitecture, withOpenAiResNetClip } from "../../dist/index.js";

export const CLIPS = ["convnext-l", "rn50"];

export function fullsizeManifest(clip, shared) {
  const convnext = JSON.parse(readFileSync(join(shared, "data", "fcclip_convnext_large_manifest.json"), "utf8"));
  if (clip === "convnext-l") return convnext;
  if (clip !== "rn50") throw new Error(`--clip must be one of ${CLIPS.join(", ")}, got ${clip}`);
  const heads = inferArchitecture(new Map(convnext.keys.map((k) => [k.key, k.shape])));
  const arch = withOpenAiResNetClip(heads, "RN50");
  return {
    note: "FC-CLIP RN50 at the official shapes (tools/fullsize/manifest.mjs)",
    keys: [...expectedShapes(arch)].map(([key, shape]) => ({ key, shape })),
  };
}

if (process.argv[1]?.endsWith("manifest.mjs")) {
  const shared = join(import.meta.dirname, "..", "..", "..", "..", "..", "shared");
  process.stdout.write(`${JSON.stringify(fullsizeManifest(process.argv[2] ?? "convnext-l", shared))}\n`);
}
