import { FcclipClient } from "./client.js";
import { imageInput } from "./ui/image-input.js";
import { modelPanel } from "./ui/model-panel.js";
import { $, fatal, Page } from "./ui/page.js";
import { resultPanel } from "./ui/result-panel.js";
import { vocabularyPanel } from "./ui/vocabulary-panel.js";
import { SegmentsView } from "./view/segments-view.js";

const params = new URLSearchParams(location.search);
// FC-CLIP's vocabulary files and BPE table: the app's data/ folder unless ?data= points elsewhere.
const dataUrl = new URL(params.get("data") ?? "data/", location.href).href;

async function start(): Promise<void> {
  if (!navigator.gpu) {
    return fatal(
      "This browser does not expose WebGPU. Use a recent Chrome or Edge (113+), Safari 26+, or Firefox 141+ on Windows; " +
        "Chromium on Linux needs --enable-unsafe-webgpu (and --enable-features=Vulkan on some GPUs).",
    );
  }
  const page = new Page(new FcclipClient());
  const view = new SegmentsView($<HTMLCanvasElement>("canvas"), $("tooltip"), $("legend"));
  imageInput(page, view);
  resultPanel(page, view);
  page.refreshButtons();
  try {
    const { adapter } = await page.client.call({ type: "init", dataUrl });
    $("adapter").textContent = `WebGPU: ${adapter}`;
  } catch (e) {
    return fatal((e as Error).message);
  }
  await modelPanel(page, params.get("model"));
  await vocabularyPanel(page);
  document.body.dataset.ready = "1";
}

void start();
