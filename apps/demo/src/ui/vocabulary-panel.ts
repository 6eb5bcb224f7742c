import type { Preset } from "@fcclip/core";
import type { VocabularySpec } from "../worker/protocol.js";
import { $, type Page } from "./page.js";

/** The vocabulary chosen on the page: a preset, or the user's classes. */
export function vocabularySpec(): VocabularySpec {
  const preset = $<HTMLSelectElement>("vocab-preset").value;
  if (preset === "custom") return { text: $<HTMLTextAreaElement>("vocab-text").value };
  return { preset: preset as Preset };
}

function badges(c: { isThing: boolean; seen: boolean }): HTMLElement {
  const out = document.createElement("span");
  const badge = (cls: string, text: string) => {
    const b = document.createElement("span");
    b.className = `badge ${cls}`;
    b.textContent = text;
    return b;
  };
  if (!c.isThing) out.append(badge("stuff", "stuff"), " ");
  out.append(c.seen ? badge("seen", "seen") : badge("unseen", "unseen"));
  return out;
}

/** Presets or a text box; every class listed with its synonyms, thing/stuff and seen/unseen status. */
export async function vocabularyPanel(page: Page): Promise<void> {
  let latest = 0;
  const refresh = async () => {
    const mine = ++latest;
    const custom = $<HTMLSelectElement>("vocab-preset").value === "custom";
    $("vocab-text").hidden = !custom;
    $("vocab-hint").hidden = !custom;
    const summary = $("vocab-summary");
    const list = $("vocab-classes");
    try {
      const v = await page.client.call({ type: "vocabulary", spec: vocabularySpec() });
      if (mine !== latest) return;
      const seen = v.classes.filter((c) => c.seen).length;
      const things = v.classes.filter((c) => c.isThing).length;
      summary.className = "muted";
      // α and β are the loaded model's config (the official 0.4 / 0.8 before one is loaded).
      const { alpha, beta } = page.model?.config.fcclip ?? { alpha: 0.4, beta: 0.8 };
      summary.textContent =
        `${v.classes.length} classes (${things} things, ${v.classes.length - things} stuff): ` +
        `${seen} seen in COCO training (α = ${alpha}), ${v.classes.length - seen} unseen (β = ${beta})`;
      list.replaceChildren(
        ...v.classes.map((c) => {
          const li = document.createElement("li");
          const name = document.createElement("span");
          name.textContent = c.synonyms.join(", ");
          li.append(name, badges(c));
          return li;
        }),
      );
      page.vocabularyOk = true;
    } catch (e) {
      if (mine !== latest) return;
      summary.className = "error";
      summary.textContent = (e as Error).message;
      list.replaceChildren();
      page.vocabularyOk = false;
    }
    page.refreshButtons();
  };
  $("vocab-preset").addEventListener("change", () => void refresh());
  let timer = 0;
  $("vocab-text").addEventListener("input", () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => void refresh(), 300);
  });
  await refresh();
}
