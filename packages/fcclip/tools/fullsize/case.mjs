// The full-size case's vocabulary, shared by check.mjs and the bench: ADE20K-150 (or the reference's) with its
// seen mask against COCO's training names, and the reference's text classifier rows put in place of the text tower's.
import { join } from "node:path";
import { directoryData, loadVocabulary } from "../../dist/node.js";

/** `rows(vocab)` gives the per-synonym classifier rows; they reach the model through a store, as a cache would. */
export async function prepareVocabulary(model, shared, name, rows) {
  const dataDir = join(shared, "data");
  const vocab = await loadVocabulary(name, dataDir);
  const seen = await directoryData(dataDir).seen(vocab);
  const embeddings = await rows(vocab);
  await model.textClassifier(vocab, { store: { get: async () => embeddings, set: async () => {} } });
  return { vocab, seen };
}
