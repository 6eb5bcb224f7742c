/** The tiny ResNet FC-CLIP of fixtures/generate_resnet_fcclip.py, loaded from the files a user has (no ../shared). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RgbImage } from "@fcclip/clip";
import { bytesSource, type Engine, openStateDict, toFloat32 } from "@fcclip/tensor-core";
import { FcclipModel } from "../model/fcclip-model.js";
import type { Vocabulary } from "../vocabulary/vocabulary.js";
import { loadFcclipWeights } from "../weights/load.js";

export const FIXTURES = join(import.meta.dirname, "..", "..", "fixtures");

export const RESNET_META = JSON.parse(readFileSync(join(FIXTURES, "resnet_fcclip_ref.json"), "utf8")) as {
  seen: number[];
  is_thing: boolean[];
  synonyms: number[];
  heads: number;
  text_heads: number;
  min_size: number;
  max_size: number;
  detections: number;
  valid_queries: number;
  segments: { id: number; isthing: boolean; category_id: number }[];
};

/** The reference's tensors ("ref.<name>") as float32. */
export async function resnetReference() {
  const ref = await openStateDict(bytesSource(readFileSync(join(FIXTURES, "resnet_fcclip_ref.safetensors")), "ref"));
  return async (k: string) => {
    const t = await ref.read(`ref.${k}`);
    return { shape: t.shape, data: toFloat32(t) };
  };
}

/**
 * The heads (safetensors) + the CLIP as a half-precision TorchScript archive, loaded without a tokenizer; the
 * fixture's vocabulary, its text classifier as a store holds it, its seen mask and image.
 */
export async function loadResNetFixture(e: Engine) {
  const get = await resnetReference();
  const weights = await loadFcclipWeights(
    [
      bytesSource(readFileSync(join(FIXTURES, "resnet_fcclip_heads.safetensors")), "resnet_fcclip_heads.safetensors"),
      bytesSource(readFileSync(join(FIXTURES, "resnet_clip_tiny.pt")), "resnet_clip_tiny.pt"),
    ],
    { heads: RESNET_META.heads, textHeads: RESNET_META.text_heads },
  );
  const model = await FcclipModel.load(e, weights, null, {
    minSize: RESNET_META.min_size,
    maxSize: RESNET_META.max_size,
    detectionsPerImage: RESNET_META.detections,
  });
  await weights.close();
  const vocab: Vocabulary = {
    name: "resnet-fixture",
    classes: RESNET_META.synonyms.map((n, c) => ({
      name: `class${c}`,
      synonyms: Array.from({ length: n }, (_, s) => `class${c} synonym${s}`),
      isThing: RESNET_META.is_thing[c]!,
    })),
  };
  const classifier = (await get("classifier")).data;
  const store = { get: async () => classifier, set: async () => {} };
  const image = await get("image");
  const img: RgbImage = { width: image.shape[1]!, height: image.shape[0]!, data: Uint8Array.from(image.data) };
  return { model, weights, vocab, store, img, seen: Uint8Array.from(RESNET_META.seen), get };
}
