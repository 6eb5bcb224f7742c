import type { CachedModel, ModelInfo, ModelSource } from "../worker/protocol.js";
import { $, type Page } from "./page.js";

async function refreshCached(page: Page, list?: CachedModel[]): Promise<void> {
  const cached = list ?? (await page.client.call({ type: "listCached" }));
  $<HTMLSelectElement>("cached").replaceChildren(
    ...cached.map((c) => {
      const o = document.createElement("option");
      o.value = c.key;
      o.dataset.bytes = String(c.bytes);
      o.textContent = `${c.label} (${(c.bytes / 2 ** 20).toFixed(0)} MB, ${c.createdAt.slice(0, 10)})`;
      return o;
    }),
  );
  $("cached-row").hidden = cached.length === 0;
}

/** A model load: the worker drops its current model first, so the page does too, whatever the outcome. */
async function loadModel(page: Page, load: () => Promise<ModelInfo>): Promise<void> {
  await page.action(async () => {
    page.model = null;
    document.body.dataset.model = "loading";
    $("model-status").textContent = "loading…";
    try {
      const info = await load();
      page.model = info;
      const c = info.config;
      $("model-status").textContent =
        `${info.label}: ${info.architecture}; input ${c.fcclip.minSize}–${c.fcclip.maxSize} px; ${c.tasks.join(", ")}`;
      document.body.dataset.model = "loaded";
    } catch (e) {
      document.body.dataset.model = "none";
      $("model-status").textContent = "no model loaded";
      throw e;
    } finally {
      await refreshCached(page);
    }
  });
}

/** Models by URL (one per line, or ?model=a,b), picked files, or cached in this browser. */
export async function modelPanel(page: Page, urlsFromQuery: string | null): Promise<void> {
  const load = (sources: ModelSource[]) =>
    loadModel(page, () => page.client.call({ type: "load", sources }, page.progress));
  $("load-urls").addEventListener("click", () => {
    const urls = $<HTMLTextAreaElement>("model-urls")
      .value.split("\n")
      .map((s) => s.trim())
      .filter(Boolean);
    if (urls.length === 0) return page.showError("give at least one URL");
    // Relative URLs are relative to the page, not to the worker's script.
    void load(urls.map((url) => ({ kind: "url", url: new URL(url, location.href).href })));
  });
  $<HTMLInputElement>("model-files").addEventListener("change", (ev) => {
    const files = [...((ev.target as HTMLInputElement).files ?? [])];
    if (files.length) void load(files.map((file) => ({ kind: "file", file })));
  });
  $("load-cached").addEventListener("click", () => {
    const key = $<HTMLSelectElement>("cached").value;
    void loadModel(page, () => page.client.call({ type: "loadCached", key }, page.progress));
  });
  $("forget-cached").addEventListener("click", () =>
    page.action(async () => {
      const key = $<HTMLSelectElement>("cached").value;
      await refreshCached(page, await page.client.call({ type: "forget", key }));
    }),
  );
  if (urlsFromQuery) $<HTMLTextAreaElement>("model-urls").value = urlsFromQuery.split(",").join("\n");
  await refreshCached(page).catch((e) => page.showError(e));
}
