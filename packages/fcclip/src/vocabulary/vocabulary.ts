import { FcclipError } from "../errors.js";

export interface VocabularyClass {
  /** Display name: the first synonym. */
  name: string;
  synonyms: string[];
  isThing: boolean;
}

export interface Vocabulary {
  name: string;
  classes: VocabularyClass[];
}

/** A vocabulary that cannot be used: empty, unreadable, or malformed. */
export class VocabularyError extends FcclipError {
  override name = "VocabularyError";
}

/** FC-CLIP's split_labels: ", " becomes "," first, then split on ",". */
export function splitSynonyms(s: string): string[] {
  return s
    .replaceAll(", ", ",")
    .split(",")
    .filter((x) => x.length > 0);
}

/** Reads the official `*_with_prompt_eng.txt` format: `id:syn1,syn2,…` per line; `invalid_class_id` lines are skipped. */
export function parsePromptEng(text: string, source = "vocabulary"): { id: number; synonyms: string[] }[] {
  const out: { id: number; synonyms: string[] }[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const colon = line.indexOf(":");
    const id = Number(line.slice(0, colon));
    if (colon < 1 || !Number.isInteger(id))
      throw new VocabularyError(`${source}:${i + 1}: expected 'id:name1,name2,…', got '${line}'`);
    const names = line.slice(colon + 1).trim();
    if (names === "invalid_class_id") return;
    const synonyms = splitSynonyms(names);
    if (synonyms.length === 0) throw new VocabularyError(`${source}:${i + 1}: class ${id} has no name`);
    out.push({ id, synonyms });
  });
  if (out.length === 0) throw new VocabularyError(`${source}: no classes`);
  return out;
}

/**
 * Inline classes: ';' separates classes, ',' separates synonyms, and a `stuff:` prefix marks a stuff class
 * (others are things), e.g. "cat,kitty;sofa,couch;stuff:sky,clouds".
 */
export function parseInlineVocabulary(spec: string): Vocabulary {
  const classes = spec
    .split(";")
    .map((c) => c.trim())
    .filter(Boolean)
    .map((c) => {
      const stuff = c.startsWith("stuff:");
      const synonyms = splitSynonyms(stuff ? c.slice(6) : c)
        .map((s) => s.trim())
        .filter(Boolean);
      if (synonyms.length === 0) throw new VocabularyError(`inline vocabulary: class '${c}' has no name`);
      return { name: synonyms[0]!, synonyms, isThing: !stuff };
    });
  if (classes.length === 0) throw new VocabularyError("the vocabulary is empty: give at least one class");
  return { name: "custom", classes };
}

export interface VocabularyMeta {
  thing_dataset_id_to_contiguous_id: Record<string, number>;
}

/** A vocabulary file plus its metadata (thing ids); without metadata every class is a thing. */
export function vocabularyFromFile(name: string, text: string, meta?: VocabularyMeta): Vocabulary {
  const things = meta ? new Set(Object.values(meta.thing_dataset_id_to_contiguous_id)) : null;
  return {
    name,
    classes: parsePromptEng(text, name).map(({ synonyms }, i) => ({
      name: synonyms[0]!,
      synonyms,
      isThing: things ? things.has(i) : true,
    })),
  };
}

/** seen[c] = 1 when any synonym of class c is among the training (COCO panoptic) synonyms (FCCLIP-SPEC §6.4). */
export function seenMask(vocab: Vocabulary, trainSynonyms: ReadonlySet<string>): Uint8Array {
  return Uint8Array.from(vocab.classes, (c) => (c.synonyms.some((s) => trainSynonyms.has(s)) ? 1 : 0));
}

/**
 * `first` followed by the classes of `second` that share no synonym with any class of `first` (e.g. COCO + ADE20K:
 * 133 + the ADE classes COCO does not already name).
 */
export function mergeVocabularies(name: string, first: Vocabulary, second: Vocabulary): Vocabulary {
  const known = new Set(first.classes.flatMap((c) => c.synonyms));
  return {
    name,
    classes: [...first.classes, ...second.classes.filter((c) => !c.synonyms.some((s) => known.has(s)))],
  };
}
