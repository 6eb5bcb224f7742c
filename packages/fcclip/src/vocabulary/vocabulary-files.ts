import { readFile } from "node:fs/promises";
import { directoryData } from "../data/directory-data.js";
import { type Vocabulary, VocabularyError, vocabularyFromFile } from "./vocabulary.js";

/**
 * `--vocab` resolution in Node: a path to a `*_with_prompt_eng.txt` file, else what the data folder `dataDir`
 * resolves (a preset, PRESETS, or an inline list; DataFolder.vocabulary).
 */
export async function loadVocabulary(spec: string, dataDir: string): Promise<Vocabulary> {
  if (!spec.endsWith(".txt")) return directoryData(dataDir).vocabulary(spec);
  let text: string;
  try {
    text = await readFile(spec, "utf8");
  } catch (e) {
    throw new VocabularyError(
      `cannot read ${spec}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
    );
  }
  const name = spec
    .split(/[\\/]/)
    .pop()!
    .replace(/_with_prompt_eng\.txt$|\.txt$/, "");
  return vocabularyFromFile(name, text);
}
