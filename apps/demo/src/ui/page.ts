import type { RgbImage } from "@fcclip/clip";
import type { FcclipClient, ProgressEvent } from "../client.js";
import type { ModelInfo, SegmentReply } from "../worker/protocol.js";

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** What the panels share: the worker, the loaded model, the image, the last result, and one action at a time. */
export class Page {
  model: ModelInfo | null = null;
  image: { rgb: RgbImage; name: string } | null = null;
  result: { reply: SegmentReply; image: RgbImage } | null = null;
  vocabularyOk = false;
  private busy = false;

  constructor(readonly client: FcclipClient) {}

  refreshButtons(): void {
    $<HTMLButtonElement>("segment").disabled = this.busy || !this.model || !this.image || !this.vocabularyOk;
    for (const id of ["load-urls", "load-cached", "forget-cached"]) $<HTMLButtonElement>(id).disabled = this.busy;
    $<HTMLInputElement>("model-files").disabled = this.busy;
  }

  showError(e: unknown): void {
    const el = $("error");
    el.textContent = e instanceof Error ? e.message : String(e);
    el.hidden = false;
  }

  readonly progress = (p: ProgressEvent): void => {
    const box = $("progress");
    box.hidden = false;
    const bar = box.querySelector("progress")!;
    if (p.total > 0) {
      bar.max = p.total;
      bar.value = p.done;
    } else bar.removeAttribute("value");
    const mb = (n: number) => (n / 2 ** 20).toFixed(1);
    const amount =
      p.unit === "bytes" ? `${mb(p.done)}${p.total ? ` / ${mb(p.total)}` : ""} MB` : `${p.done} / ${p.total}`;
    box.querySelector("span")!.textContent = `${p.stage}: ${amount}`;
  };

  /** Runs one user action: one at a time, errors shown, progress hidden afterwards. */
  async action(fn: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    $("error").hidden = true;
    this.refreshButtons();
    try {
      await fn();
    } catch (e) {
      this.showError(e);
    } finally {
      this.busy = false;
      $("progress").hidden = true;
      this.refreshButtons();
    }
  }
}

/** A page without WebGPU (or whose adapter failed): say why, and disable everything. */
export function fatal(message: string): void {
  $("fatal").textContent = message;
  $("fatal").hidden = false;
  $("adapter").textContent = "WebGPU unavailable";
  for (const b of document.querySelectorAll("button")) b.disabled = true;
}
