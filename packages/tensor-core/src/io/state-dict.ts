import type { ByteSource } from "./byte-source.js";
import { detectFormat } from "./detect.js";
import { FormatError } from "./errors.js";
import type { HostTensor, StoredDType } from "./host-tensor.js";
import { collectTensors, TorchCheckpoint, type TorchTensorRef } from "./pytorch/checkpoint.js";
import { torchScriptTensors } from "./pytorch/torchscript.js";
import { SafetensorsFile } from "./safetensors.js";

/** A state dict from safetensors, a torch.save checkpoint or a torch.jit.save archive, read tensor by tensor. */
export interface StateDict {
  readonly source: ByteSource;
  readonly format: "safetensors" | "pytorch" | "torchscript";
  keys(): string[];
  info(key: string): { dtype: StoredDType; shape: number[] } | undefined;
  read(key: string): Promise<HostTensor>;
  /**
   * Entries that were left out: a checkpoint's non-tensor entries (e.g. a training iteration counter), or a
   * TorchScript module's tensors that are not in its state_dict() (plain attributes such as OpenAI's attn_mask).
   */
  readonly skipped: readonly string[];
  /** Top-level keys of a PyTorch checkpoint's object, when it was a dict (e.g. ['model', 'iteration']). */
  readonly topLevelKeys: readonly string[];
  /** A safetensors file's `__metadata__` (empty for PyTorch checkpoints). */
  readonly metadata: Readonly<Record<string, string>>;
}

const WRAPPERS = ["model", "state_dict"];

/**
 * Opens a safetensors file, a torch.save zip checkpoint or a TorchScript archive (its module's state_dict(), e.g.
 * OpenAI's CLIP RN50.pt, with dtypes as stored). A checkpoint whose top-level dict has a `model` or `state_dict` dict
 * (detectron2, open_clip wrappers) yields that inner dict.
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
  if (ckpt.kind === "torchscript") {
    const { tensors, skipped } = await torchScriptTensors(ckpt);
    return torchStateDict(source, "torchscript", tensors, skipped, []);
  }
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
  return torchStateDict(source, "pytorch", tensors, skipped, topLevelKeys);
}

function torchStateDict(
  source: ByteSource,
  format: "pytorch" | "torchscript",
  tensors: Map<string, TorchTensorRef>,
  skipped: string[],
  topLevelKeys: string[],
): StateDict {
  return {
    source,
    format,
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
