import type { RgbImage } from "@fcclip/clip";
import { decodeImageFile, snapshot } from "../image.js";
import type { SegmentsView } from "../view/segments-view.js";
import { $, type Page } from "./page.js";

/** The image to segment: file picker, drag and drop, paste, or a webcam snapshot. */
export function imageInput(page: Page, view: SegmentsView): void {
  const set = (rgb: RgbImage, name: string) => {
    page.image = { rgb, name };
    page.result = null;
    view.show(rgb, null);
    for (const id of ["downloads", "timings", "tasks"]) $(id).replaceChildren();
  };
  const fromFile = (file: File) => page.action(async () => set(await decodeImageFile(file, file.name), file.name));
  $<HTMLInputElement>("image-file").addEventListener("change", (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (f) void fromFile(f);
  });
  document.addEventListener("dragover", (ev) => ev.preventDefault());
  document.addEventListener("drop", (ev) => {
    ev.preventDefault();
    const f = [...(ev.dataTransfer?.files ?? [])].find((x) => x.type.startsWith("image/"));
    if (f) void fromFile(f);
    else page.showError("drop an image file (PNG, JPEG, WebP)");
  });
  document.addEventListener("paste", (ev) => {
    const item = [...(ev.clipboardData?.items ?? [])].find((i) => i.type.startsWith("image/"));
    const f = item?.getAsFile();
    if (f) void fromFile(new File([f], f.name || "pasted.png", { type: f.type }));
  });
  const video = $<HTMLVideoElement>("video");
  $("camera").hidden = !navigator.mediaDevices?.getUserMedia;
  $("camera").addEventListener("click", async () => {
    try {
      video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true });
      await video.play();
      video.hidden = false;
      $("snap").hidden = false;
    } catch (e) {
      page.showError(`no camera: ${(e as Error).message}`);
    }
  });
  $("snap").addEventListener("click", () =>
    page.action(async () => set(snapshot(video), `camera-${new Date().toISOString().replace(/[:.]/g, "-")}.png`)),
  );
}
