import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  parseInlineVocabulary,
  type Vocabulary,
  VocabularyError,
  type VocabularyMeta,
  vocabularyFromFile,
} from "./vocabulary.js";

export const PRESETS = ["coco_panoptic", "ade20k_150"] as const;

/**
 * `--vocab` resolution: a preset name (read from `dataDir`: `<name>_with_prompt_eng.txt` and `meta/<name>.json`, the
 * official FC-CLIP files), a path to a `*_with_prompt_eng.txt` file, or an inline list.
 */
export async function loadVocabulary(spec: string, dataDir: string): Promise<Vocabulary> {
  const readText = async (path: string) => {
    try {
      return await readFile(path, "utf8");
    } catch (e) {
      throw new VocabularyError(
        `cannot read ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
      );
    }
  };
  if ((PRESETS as readonly string[]).includes(spec)) {
    const text = await readText(join(dataDir, `${spec}_with_prompt_eng.txt`));
    const meta = JSON.parse(await readText(join(dataDir, "meta", `${spec}.json`))) as VocabularyMeta;
    return vocabularyFromFile(spec, text, meta);
  }
  if (spec.endsWith(".txt"))
    return vocabularyFromFile(
      spec
        .split(/[\\/]/)
        .pop()!
        .replace(/_with_prompt_eng\.txt$|\.txt$/, ""),
      await readText(spec),
    );
  return parseInlineVocabulary(spec);
}
