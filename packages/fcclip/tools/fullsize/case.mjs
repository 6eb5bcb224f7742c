// The full-size case's vocabulary, shared by check.mjs and the bench: ADE20K-150 (or the reference's) with its
// seen mask against COCO's training names, and the reference's text classifier rows put in place of the text tower's.
import { join } from "node:path";
import { seenMask } from "../../dist/index.js";
import { loadVocabulary } from "../../dist/node.js";

/** `rows(vocab)` gives the per-synonym classifier rows; they reach the model through a store, as a cache would. */
export async function prepareVocabulary(model, shared, name, rows) {
  const vocabDir = join(shared, "data", "vocab");
  const vocab = await loadVocabulary(name, vocabDir);
  const coco = await loadVocabulary("coco_panoptic", vocabDir);
  const seen = seenMask(vocab, new Set(coco.classes.flatMap((c) => c.synonyms)));
  const embeddings = await rows(vocab);
  await model.textClassifier(vocab, { store: { get: async () => embeddings, set: async () => {} } });
  return { vocab, seen };
}
