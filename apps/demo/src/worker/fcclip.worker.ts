/// <reference lib="webworker" />
import {
  type DataFolder,
  FCCLIP_STAGES,
  FcclipModel,
  type FcclipWeights,
  loadFcclipWeights,
  parseInlineVocabulary,
  resultFiles,
  urlData,
} from "@fcclip/core";
import { Engine, type HostTensor } from "@fcclip/tensor-core";
import type { ClipTokenizer } from "@fcclip/text-encoder";
import { indexedDbStore } from "./classifier-store.js";
import { forgetCached, importModel, listCached, openCached, type Progress } from "./model-files.js";
import type { CachedModel, ModelInfo, Replies, Request, VocabularySpec, WorkerMessage } from "./protocol.js";

// The worker owns the GPU device, the model and the encoded vocabularies, so the page stays responsive and a new
// image or vocabulary reuses all of them.
const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: WorkerMessage, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

let engine: Promise<Engine> | undefined;
let data: DataFolder | undefined;
let tokenizer: Promise<ClipTokenizer> | undefined;
let model: FcclipModel | undefined;
const store = indexedDbStore();

function need<T>(x: T | undefined, what: string): T {
  if (x === undefined) throw new Error(what);
  return x;
}

async function loadBundle(cached: CachedModel, progress: Progress): Promise<ModelInfo> {
  const e = await need(engine, "init first");
  const tok = await need(tokenizer, "init first");
  const { bundle } = await openCached(cached.key);
  const weights = await loadFcclipWeights([bundle]);
  const total = weights.keys().length;
  let done = 0;
  const counting: FcclipWeights = {
    ...weights,
    read: async (k: string): Promise<HostTensor> => {
      const t = await weights.read(k);
      progress("uploading to the GPU", ++done, total, "items");
      return t;
    },
  };
  model = await FcclipModel.load(e, counting, tok, cached.config.fcclip);
  const a = weights.architecture;
  return {
    label: cached.label,
    adapter: describeAdapter(e),
    architecture: `${a.clip.family === "resnet" ? "ResNet" : "ConvNeXt"} CLIP, dims ${a.clip.dims.join("/")}, ${a.decoder.layers}-layer decoder, ${a.decoder.numQueries} queries`,
    config: cached.config,
  };
}

/** Frees the loaded model's GPU memory before another one is loaded. */
function dropModel(): void {
  model?.dispose();
  model = undefined;
}

function describeAdapter(e: Engine): string {
  const i = e.adapterInfo;
  return [i.vendor, i.architecture, i.description].filter(Boolean).join(" ") || "unknown adapter";
}

async function vocabulary(spec: VocabularySpec) {
  const d = need(data, "init first");
  const vocab = "text" in spec ? parseInlineVocabulary(spec.text) : await d.vocabulary(spec.preset);
  const seen = await d.seen(vocab);
  return { vocab, seen };
}

async function handle(id: number, req: Request): Promise<{ value: unknown; transfer?: Transferable[] }> {
  const progress: Progress = (stage, done, total, unit) => post({ id, kind: "progress", stage, done, total, unit });
  switch (req.type) {
    case "init": {
      data = urlData(
        req.dataUrl,
        "put FC-CLIP's data files in the app's data folder (see the README) or pass ?data=URL",
      );
      tokenizer = data.tokenizer();
      tokenizer.catch(() => {});
      engine ??= Engine.create();
      return { value: { adapter: describeAdapter(await engine) } satisfies Replies["init"] };
    }
    case "listCached":
      return { value: await listCached() };
    case "forget":
      await forgetCached(req.key);
      return { value: await listCached() };
    case "load": {
      dropModel();
      const cached = await importModel(req.sources, progress);
      return { value: await loadBundle(cached, progress) };
    }
    case "loadCached": {
      dropModel();
      const { meta } = await openCached(req.key);
      return { value: await loadBundle(meta, progress) };
    }
    case "vocabulary": {
      const { vocab, seen } = await vocabulary(req.spec);
      const value: Replies["vocabulary"] = {
        name: vocab.name,
        classes: vocab.classes.map((c, i) => ({ ...c, seen: seen[i] === 1 })),
      };
      return { value };
    }
    case "segment": {
      const m = need(model, "load a model first");
      const { vocab, seen } = await vocabulary(req.spec);
      const timings: [string, number][] = [];
      let t0 = performance.now();
      const clf = await m.textClassifier(vocab, {
        store,
        onProgress: (d, t) => progress("encoding the vocabulary", d, t, "items"),
      });
      timings.push([`text classifier (${clf.source})`, performance.now() - t0]);
      const image = { width: req.image.width, height: req.image.height, data: req.image.data };
      const seg = await m.segment(image, vocab, {
        seen,
        tasks: req.tasks,
        onStage: (s, ms) => {
          timings.push([s, ms]);
          progress("segmenting", FCCLIP_STAGES.indexOf(s) + 1, FCCLIP_STAGES.length, "items");
        },
      });
      t0 = performance.now();
      const files = Object.fromEntries(await resultFiles(image, req.fileName, seg, vocab));
      timings.push(["result files", performance.now() - t0]);
      const value: Replies["segment"] = {
        segmentation: seg,
        classNames: vocab.classes.map((c) => c.name),
        files,
        timings,
        textClassifier: clf.source,
      };
      return { value, transfer: Object.values(files).map((b) => b.buffer as ArrayBuffer) };
    }
  }
}

// Requests run one at a time: they share one GPU device and one model.
let queue = Promise.resolve();
scope.onmessage = (ev: MessageEvent<{ id: number; req: Request }>) => {
  const { id, req } = ev.data;
  queue = queue.then(async () => {
    try {
      const { value, transfer } = await handle(id, req);
      post({ id, kind: "reply", value }, transfer);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      post({ id, kind: "error", name: err.name, message: err.message });
    }
  });
};
