/** FC-CLIP's VILD_PROMPT: the 14 prompt templates (exact strings, FCCLIP-SPEC §3.3). */
export const VILD_TEMPLATES: readonly string[] = [
  "a photo of a {}.",
  "This is a photo of a {}",
  "There is a {} in the scene",
  "There is the {} in the scene",
  "a photo of a {} in the scene",
  "a photo of a small {}.",
  "a photo of a medium {}.",
  "a photo of a large {}.",
  "This is a photo of a small {}.",
  "This is a photo of a medium {}.",
  "This is a photo of a large {}.",
  "There is a small {} in the scene.",
  "There is a medium {} in the scene.",
  "There is a large {} in the scene.",
];
