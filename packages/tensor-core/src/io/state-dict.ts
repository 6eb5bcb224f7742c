import type { ByteSource } from "./byte-source.js";
import { detectFormat } from "./detect.js";
import { FormatError } from "./errors.js";
import type { HostTensor, StoredDType } from "./host-tensor.js";
import { collectTensors, TorchCheckpoint } from "./pytorch/checkpoint.js";
import { SafetensorsFile } from "./safetensors.js";

/** A state dict from either format, read tensor by tensor. */
export interface StateDict {
  readonly source: ByteSource;
  readonly format: "safetensors" | "pytorch";
  keys(): string[];
  info(key: string): { dtype: StoredDType; shape: number[] } | undefined;
  read(key: string): Promise<HostTensor>;
  /** Non-tensor entries that were left out (e.g. a training iteration counter). */
  readonly skipped: readonly string[];
  /** Top-level keys of a PyTorch checkpoint's object, when it was a dict (e.g. ['model', 'iteration']). */
  readonly topLevelKeys: readonly string[];
  /** A safetensors file's `__metadata__` (empty for PyTorch checkpoints). */
  readonly metadata: Readonly<Record<string, string>>;
}

const WRAPPERS = ["model", "state_dict"];

/**
 * Opens a safetensors file or a torch.save zip checkpoint. A checkpoint whose top-level dict has a `model` or
 * `state_dict` dict (detectron2, open_clip wrappers) yields that inner dict.
 */
export async function openStateDict(source: ByteSource): Promise<StateDict> {
  if ((await detectFormat(source)) === "safetensors") {
    const st = await SafetensorsFile.open(source);
    return {
      source,
      format: "safetensors",
      keys: () => st.keys(),
      info: (k) => st.entry(k),
      read: (k) => st.read(k),
      skipped: [],
      topLevelKeys: [],
      metadata: st.metadata,
    };
  }
  const ckpt = await TorchCheckpoint.open(source);
  let obj = ckpt.root;
  const topLevelKeys = obj instanceof Map ? [...obj.keys()].map(String) : [];
  if (!(obj instanceof Map)) throw new FormatError(`${source.name}: the checkpoint does not hold a dict of tensors`);
  for (const w of WRAPPERS) {
    const inner = obj.get(w);
    if (inner instanceof Map) {
      obj = inner;
      break;
    }
  }
  const { tensors, skipped } = collectTensors(obj);
  return {
    source,
    format: "pytorch",
    keys: () => [...tensors.keys()],
    info: (k) => {
      const t = tensors.get(k);
      return t ? { dtype: t.dtype, shape: [...t.shape] } : undefined;
    },
    read: async (k) => {
      const t = tensors.get(k);
      if (!t) throw new FormatError(`${source.name}: no tensor named '${k}'`);
      return t.read();
    },
    skipped,
    topLevelKeys,
    metadata: {},
  };
}
