import type { RgbImage } from "@fcclip/clip-convnext";
import type { Task } from "@fcclip/core";
import { FcclipClient, type ProgressEvent } from "./client.js";
import { decodeImageFile, snapshot } from "./image.js";
import { regionMap } from "./view/regions.js";
import { SegmentsView } from "./view/segments-view.js";
import type { ModelInfo, ModelSource, SegmentReply, VocabularySpec } from "./worker/protocol.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
// FC-CLIP's vocabulary files and BPE table: the app's data/ folder unless ?data= points elsewhere.
const dataUrl = new URL(params.get("data") ?? "data/", location.href).href;

const view = new SegmentsView($<HTMLCanvasElement>("canvas"), $("tooltip"), $("legend"));
let client: FcclipClient;
let model: ModelInfo | null = null;
let image: { rgb: RgbImage; name: string } | null = null;
let result: { reply: SegmentReply; image: RgbImage } | null = null;
let vocabOk = false;
let busy = false;
let runs = 0;

const TASK_LABELS: Record<Task, string> = { panoptic: "Panoptic", semantic: "Semantic", instance: "Instance" };

function fatal(message: string): void {
  $("fatal").textContent = message;
  $("fatal").hidden = false;
  $("adapter").textContent = "WebGPU unavailable";
  for (const b of document.querySelectorAll("button")) b.disabled = true;
}

function showError(e: unknown): void {
  const el = $("error");
  el.textContent = e instanceof Error ? e.message : String(e);
  el.hidden = false;
}

function refreshButtons(): void {
  $<HTMLButtonElement>("segment").disabled = busy || !model || !image || !vocabOk;
  for (const id of ["load-urls", "load-cached", "forget-cached"]) $<HTMLButtonElement>(id).disabled = busy;
  $<HTMLInputElement>("model-files").disabled = busy;
}

function onProgress(p: ProgressEvent): void {
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
}

/** Runs one user action: one at a time, errors shown, progress hidden afterwards. */
async function action(fn: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  $("error").hidden = true;
  refreshButtons();
  try {
    await fn();
  } catch (e) {
    showError(e);
  } finally {
    busy = false;
    $("progress").hidden = true;
    refreshButtons();
  }
}

async function refreshCached(list?: Awaited<ReturnType<FcclipClient["call"]>>): Promise<void> {
  const cached =
    (list as import("./worker/protocol.js").CachedModel[] | undefined) ?? (await client.call({ type: "listCached" }));
  const select = $<HTMLSelectElement>("cached");
  select.replaceChildren(
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

function modelLoaded(info: ModelInfo): void {
  model = info;
  const c = info.config;
  $("model-status").textContent =
    `${info.label}: ${info.architecture}; input ${c.fcclip.minSize}–${c.fcclip.maxSize} px; ${c.tasks.join(", ")}`;
  document.body.dataset.model = "loaded";
}

/** A model load: the worker drops its current model first, so the page does too, whatever the outcome. */
async function loadModel(load: () => Promise<ModelInfo>): Promise<void> {
  await action(async () => {
    model = null;
    document.body.dataset.model = "loading";
    $("model-status").textContent = "loading…";
    try {
      modelLoaded(await load());
    } catch (e) {
      document.body.dataset.model = "none";
      $("model-status").textContent = "no model loaded";
      throw e;
    } finally {
      await refreshCached();
    }
  });
}

const loadSources = (sources: ModelSource[]) => loadModel(() => client.call({ type: "load", sources }, onProgress));

function vocabSpec(): VocabularySpec {
  const preset = $<HTMLSelectElement>("vocab-preset").value;
  if (preset === "custom") return { text: $<HTMLTextAreaElement>("vocab-text").value };
  return { preset: preset as "coco_panoptic" | "ade20k_150" | "coco_ade20k" };
}

let vocabRequest = 0;
async function refreshVocabulary(): Promise<void> {
  const mine = ++vocabRequest;
  const custom = $<HTMLSelectElement>("vocab-preset").value === "custom";
  $("vocab-text").hidden = !custom;
  $("vocab-hint").hidden = !custom;
  const summary = $("vocab-summary");
  const list = $("vocab-classes");
  try {
    const v = await client.call({ type: "vocabulary", spec: vocabSpec() });
    if (mine !== vocabRequest) return;
    const seen = v.classes.filter((c) => c.seen).length;
    const things = v.classes.filter((c) => c.isThing).length;
    summary.className = "muted";
    summary.textContent =
      `${v.classes.length} classes (${things} things, ${v.classes.length - things} stuff): ` +
      `${seen} seen in COCO training (α = ${model?.config.fcclip.alpha ?? 0.4}), ${v.classes.length - seen} unseen (β = ${model?.config.fcclip.beta ?? 0.8})`;
    list.replaceChildren(
      ...v.classes.map((c) => {
        const li = document.createElement("li");
        const name = document.createElement("span");
        name.textContent = c.synonyms.join(", ");
        name.title = c.synonyms.join(", ");
        const badges = document.createElement("span");
        badges.innerHTML =
          (c.isThing ? "" : '<span class="badge stuff">stuff</span> ') +
          (c.seen ? '<span class="badge seen">seen</span>' : '<span class="badge unseen">unseen</span>');
        li.append(name, badges);
        return li;
      }),
    );
    vocabOk = true;
  } catch (e) {
    if (mine !== vocabRequest) return;
    summary.className = "error";
    summary.textContent = (e as Error).message;
    list.replaceChildren();
    vocabOk = false;
  }
  refreshButtons();
}

async function setImage(rgb: RgbImage, name: string): Promise<void> {
  image = { rgb, name };
  result = null;
  view.show(rgb, null);
  $("downloads").replaceChildren();
  $("timings").replaceChildren();
  $("tasks").replaceChildren();
  refreshButtons();
}

async function setImageFile(file: File): Promise<void> {
  await action(async () => setImage(await decodeImageFile(file, file.name), file.name));
}

function showResult(mode?: Task): void {
  if (!result) return;
  const { reply } = result;
  const seg = reply.segmentation;
  const available = (["panoptic", "semantic", "instance"] as const).filter((t) =>
    t === "panoptic" ? seg.panoptic : t === "semantic" ? seg.semantic : seg.instances,
  );
  const current = mode ?? available[0];
  if (!current) return;
  const tasks = $("tasks");
  tasks.replaceChildren(
    ...available.map((t) => {
      const label = document.createElement("label");
      const radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "task";
      radio.value = t;
      radio.checked = t === current;
      radio.addEventListener("change", () => showResult(t));
      label.append(radio, TASK_LABELS[t]);
      return label;
    }),
  );
  view.show(result.image, regionMap(seg, current, reply.classNames));
}

function showFiles(reply: SegmentReply, fileName: string): void {
  const stem = fileName.replace(/\.[^.]+$/, "");
  const list = $("downloads");
  for (const a of list.querySelectorAll("a")) URL.revokeObjectURL(a.href);
  list.replaceChildren(
    ...Object.entries(reply.files).map(([suffix, bytes]) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      const type = suffix.endsWith(".png") ? "image/png" : "application/json";
      a.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
      a.download = `${stem}${suffix}`;
      a.dataset.suffix = suffix;
      a.textContent = a.download;
      li.append(a);
      return li;
    }),
  );
  $("timings").replaceChildren(
    ...[...reply.timings, ["total", reply.timings.reduce((s, [, ms]) => s + ms, 0)] as [string, number]].map(
      ([stage, ms]) => {
        const tr = document.createElement("tr");
        const a = document.createElement("td");
        const b = document.createElement("td");
        a.textContent = stage;
        b.textContent = `${ms.toFixed(0)} ms`;
        tr.append(a, b);
        return tr;
      },
    ),
  );
}

async function segment(): Promise<void> {
  await action(async () => {
    if (!model || !image) return;
    const { rgb, name } = image;
    const copy = rgb.data.slice();
    const reply = await client.call(
      {
        type: "segment",
        image: { width: rgb.width, height: rgb.height, data: copy },
        fileName: name,
        spec: vocabSpec(),
        tasks: model.config.tasks,
      },
      onProgress,
      [copy.buffer],
    );
    result = { reply, image: rgb };
    showResult();
    showFiles(reply, name);
    document.body.dataset.runs = String(++runs);
  });
}

function wire(): void {
  $("load-urls").addEventListener("click", () => {
    const urls = $<HTMLTextAreaElement>("model-urls")
      .value.split("\n")
      .map((s) => s.trim())
      .filter(Boolean);
    if (urls.length === 0) return showError("give at least one URL");
    void loadSources(urls.map((url) => ({ kind: "url", url })));
  });
  $<HTMLInputElement>("model-files").addEventListener("change", (ev) => {
    const files = [...((ev.target as HTMLInputElement).files ?? [])];
    if (files.length) void loadSources(files.map((file) => ({ kind: "file", file })));
  });
  $("load-cached").addEventListener("click", () => {
    const key = $<HTMLSelectElement>("cached").value;
    void loadModel(() => client.call({ type: "loadCached", key }, onProgress));
  });
  $("forget-cached").addEventListener("click", () =>
    action(async () => {
      const key = $<HTMLSelectElement>("cached").value;
      await refreshCached(await client.call({ type: "forget", key }));
    }),
  );
  $("vocab-preset").addEventListener("change", () => void refreshVocabulary());
  let timer = 0;
  $("vocab-text").addEventListener("input", () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => void refreshVocabulary(), 300);
  });
  $<HTMLInputElement>("image-file").addEventListener("change", (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (f) void setImageFile(f);
  });
  document.addEventListener("dragover", (ev) => ev.preventDefault());
  document.addEventListener("drop", (ev) => {
    ev.preventDefault();
    const f = [...(ev.dataTransfer?.files ?? [])].find((x) => x.type.startsWith("image/"));
    if (f) void setImageFile(f);
    else showError("drop an image file (PNG, JPEG, WebP)");
  });
  document.addEventListener("paste", (ev) => {
    const item = [...(ev.clipboardData?.items ?? [])].find((i) => i.type.startsWith("image/"));
    const f = item?.getAsFile();
    if (f) void setImageFile(new File([f], f.name || "pasted.png", { type: f.type }));
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
      showError(`no camera: ${(e as Error).message}`);
    }
  });
  $("snap").addEventListener("click", () =>
    action(async () => setImage(snapshot(video), `camera-${new Date().toISOString().replace(/[:.]/g, "-")}.png`)),
  );
  $("segment").addEventListener("click", () => void segment());
  $<HTMLInputElement>("opacity").addEventListener("input", (ev) =>
    view.setOpacity(Number((ev.target as HTMLInputElement).value)),
  );
}

async function start(): Promise<void> {
  wire();
  refreshButtons();
  if (!navigator.gpu) {
    return fatal(
      "This browser does not expose WebGPU. Use a recent Chrome or Edge (113+), Safari 26+, or Firefox 141+ on Windows; " +
        "Chromium on Linux needs --enable-unsafe-webgpu (and --enable-features=Vulkan on some GPUs).",
    );
  }
  client = new FcclipClient();
  try {
    const { adapter } = await client.call({ type: "init", dataUrl });
    $("adapter").textContent = `WebGPU: ${adapter}`;
  } catch (e) {
    return fatal((e as Error).message);
  }
  const urls = params.get("model");
  if (urls) $<HTMLTextAreaElement>("model-urls").value = urls.split(",").join("\n");
  await refreshCached().catch(showError);
  await refreshVocabulary();
  document.body.dataset.ready = "1";
}

void start();
