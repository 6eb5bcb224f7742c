import type { ByteSource } from "../byte-source.js";
import { detectFormat } from "../detect.js";
import { FormatError, LegacyCheckpointError } from "../errors.js";
import { type HostTensor, numel, STORED_BYTES, type StoredDType } from "../host-tensor.js";
import { PyGlobal, type PyValue, unpickle } from "./unpickle.js";
import { entryDataOffset, readZipDirectory, readZipEntry, type ZipEntry } from "./zip.js";

const STORAGE_DTYPES: Record<string, StoredDType> = {
  "torch.FloatStorage": "F32",
  "torch.DoubleStorage": "F64",
  "torch.HalfStorage": "F16",
  "torch.BFloat16Storage": "BF16",
  "torch.LongStorage": "I64",
  "torch.IntStorage": "I32",
  "torch.ShortStorage": "I16",
  "torch.CharStorage": "I8",
  "torch.ByteStorage": "U8",
  "torch.BoolStorage": "BOOL",
};

const ALLOWED = new Set([
  ...Object.keys(STORAGE_DTYPES),
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  "torch._utils._rebuild_parameter_with_state",
  "_codecs.encode",
]);

/**
 * torch.jit.save's pickler writes tensors with _rebuild_tensor_v2 (its backward hooks as an empty OrderedDict) and
 * typed containers through torch.jit._pickle, whose functions all return their first argument. Quantized tensors
 * (_rebuild_qtensor) and torch.device attributes stay refused.
 */
const TORCHSCRIPT_ALLOWED = new Set([
  ...Object.keys(STORAGE_DTYPES),
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch.jit._pickle.build_intlist",
  "torch.jit._pickle.build_doublelist",
  "torch.jit._pickle.build_boollist",
  "torch.jit._pickle.build_tensorlist",
  "torch.jit._pickle.restore_type_tag",
]);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A TorchScript class name (`__torch__.model.CLIP`, `__torch__.torch.nn.modules.linear.___torch_mangle_3.Linear`). */
function isTorchScriptClass(module: string, name: string): boolean {
  const path = module.split(".");
  return path[0] === "__torch__" && path.every((p) => IDENTIFIER.test(p)) && IDENTIFIER.test(name);
}

/** One torch storage (a zip entry `<archive>/data/<key>`), shared by every tensor that views it. */
export interface StorageRef {
  key: string;
  dtype: StoredDType;
  numel: number;
}

/** A tensor inside a checkpoint, not yet read: a strided view of a storage. */
export class TorchTensorRef {
  constructor(
    private readonly checkpoint: TorchCheckpoint,
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}

  get dtype(): StoredDType {
    return this.storage.dtype;
  }

  /** Reads only the storage bytes this view touches, then gathers them into contiguous row-major order. */
  async read(): Promise<HostTensor> {
    const n = numel(this.shape);
    const bytesPer = STORED_BYTES[this.dtype];
    if (n * bytesPer > 2 ** 31)
      throw new FormatError(`${this.checkpoint.source.name}: a ${n}-element tensor is larger than 2 GiB`);
    const out = new Uint8Array(n * bytesPer);
    if (n === 0) return { dtype: this.dtype, shape: [...this.shape], bytes: out };
    const last = this.offset + this.shape.reduce((s, d, i) => s + (d - 1) * this.stride[i]!, 0);
    if (last >= this.storage.numel) {
      throw new FormatError(
        `${this.checkpoint.source.name}: a tensor view reaches element ${last} of a ${this.storage.numel}-element storage`,
      );
    }
    const raw = await this.checkpoint.readStorage(this.storage, this.offset, last + 1 - this.offset);
    const contiguous = this.stride.every(
      (s, i) => s === this.shape.slice(i + 1).reduce((a, b) => a * b, 1) || this.shape[i] === 1,
    );
    if (contiguous) {
      out.set(raw.subarray(0, n * bytesPer));
      return { dtype: this.dtype, shape: [...this.shape], bytes: out };
    }
    const rank = this.shape.length;
    const idx = new Array<number>(rank).fill(0);
    for (let i = 0; i < n; i++) {
      let src = 0;
      for (let d = 0; d < rank; d++) src += idx[d]! * this.stride[d]!;
      out.set(raw.subarray(src * bytesPer, src * bytesPer + bytesPer), i * bytesPer);
      for (let d = rank - 1; d >= 0; d--) {
        if (++idx[d]! < this.shape[d]!) break;
        idx[d] = 0;
      }
    }
    return { dtype: this.dtype, shape: [...this.shape], bytes: out };
  }
}

/**
 * A torch.save zip checkpoint (PyTorch >= 1.6) or a torch.jit.save archive: the unpickled object graph with lazy
 * tensors. A TorchScript archive's root is a PyRecord module tree (see torchScriptTensors); its code is never run.
 */
export class TorchCheckpoint {
  root: PyValue = null;
  private readonly storages = new Map<string, StorageRef>();

  private constructor(
    readonly source: ByteSource,
    private readonly entries: Map<string, ZipEntry>,
    private readonly prefix: string,
    /** "torchscript" when the zip holds TorchScript code (`code/`, `constants.pkl`) beside data.pkl. */
    readonly kind: "pytorch" | "torchscript",
  ) {}

  static async open(source: ByteSource): Promise<TorchCheckpoint> {
    const format = await detectFormat(source);
    if (format === "legacy-pytorch") {
      throw new LegacyCheckpointError(
        `${source.name} is in the legacy (pre-1.6) torch.save format, which is not read. Re-save it once with PyTorch: ` +
          "torch.save(torch.load(path, map_location='cpu'), new_path) (the zip format is the default since 1.6), or convert it to safetensors.",
      );
    }
    if (format !== "pytorch") throw new FormatError(`${source.name} is not a torch.save zip checkpoint`);
    const entries = await readZipDirectory(source);
    const pkl = [...entries.keys()].find((k) => k.endsWith("/data.pkl") || k === "data.pkl");
    if (!pkl) {
      if ([...entries.keys()].some((k) => k.endsWith("model.json"))) {
        throw new FormatError(
          `${source.name} is a TorchScript archive in the pre-1.4 format (model.json), which is not read. Re-save it ` +
            "once with PyTorch: torch.jit.save(torch.jit.load(path), new_path), or save its state_dict() with torch.save.",
        );
      }
      throw new FormatError(`${source.name}: zip has no data.pkl; not a torch.save checkpoint`);
    }
    const prefix = pkl.slice(0, pkl.length - "data.pkl".length);
    const torchScript = [...entries.keys()].some(
      (k) => k.startsWith(`${prefix}code/`) || k === `${prefix}constants.pkl`,
    );
    const ckpt = new TorchCheckpoint(source, entries, prefix, torchScript ? "torchscript" : "pytorch");
    const data = await readZipEntry(source, entries.get(pkl)!);
    ckpt.root = unpickle(
      data,
      {
        globals: torchScript ? TORCHSCRIPT_ALLOWED : ALLOWED,
        records: torchScript ? isTorchScriptClass : undefined,
        call: (fn, args) => ckpt.call(fn, args),
        persistentLoad: (pid) => ckpt.persistentLoad(pid),
      },
      `${source.name}:${pkl}`,
    );
    return ckpt;
  }

  private persistentLoad(pid: PyValue): StorageRef {
    if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length < 5) {
      throw new FormatError(`${this.source.name}: unexpected persistent id ${JSON.stringify(String(pid))}`);
    }
    const [, type, key, , count] = pid as [string, PyValue, PyValue, PyValue, PyValue];
    const dtype = type instanceof PyGlobal ? STORAGE_DTYPES[type.qualified] : undefined;
    if (!dtype || typeof key !== "string" || typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) {
      throw new FormatError(`${this.source.name}: malformed storage reference`);
    }
    let ref = this.storages.get(key);
    if (!ref) {
      const entry = this.entries.get(`${this.prefix}data/${key}`);
      if (!entry)
        throw new FormatError(`${this.source.name}: storage ${key} is referenced but missing from the archive`);
      if (entry.size < count * STORED_BYTES[dtype]) {
        throw new FormatError(
          `${this.source.name}: storage ${key} holds ${entry.size} bytes, ${count} ${dtype} elements declared`,
        );
      }
      ref = { key, dtype, numel: count };
      this.storages.set(key, ref);
    }
    return ref;
  }

  private call(fn: PyGlobal, args: PyValue[]): PyValue {
    switch (fn.qualified) {
      case "collections.OrderedDict": {
        const m = new Map();
        const items = args[0];
        if (Array.isArray(items)) for (const kv of items) if (Array.isArray(kv) && kv.length === 2) m.set(kv[0], kv[1]);
        return m;
      }
      case "torch._utils._rebuild_tensor":
      case "torch._utils._rebuild_tensor_v2": {
        const [storage, offset, size, stride] = args;
        const ints = (v: PyValue) =>
          Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0);
        if (
          !storage ||
          typeof storage !== "object" ||
          !("key" in storage) ||
          typeof offset !== "number" ||
          !Number.isSafeInteger(offset) ||
          offset < 0 ||
          !ints(size) ||
          !ints(stride)
        ) {
          throw new FormatError(`${this.source.name}: malformed tensor record`);
        }
        if ((size as number[]).length !== (stride as number[]).length)
          throw new FormatError(`${this.source.name}: tensor size/stride rank mismatch`);
        return new TorchTensorRef(this, storage as StorageRef, offset, size as number[], stride as number[]);
      }
      case "torch._utils._rebuild_parameter":
      case "torch._utils._rebuild_parameter_with_state":
        return args[0];
      case "torch.jit._pickle.build_intlist":
      case "torch.jit._pickle.build_doublelist":
      case "torch.jit._pickle.build_boollist":
      case "torch.jit._pickle.build_tensorlist":
      case "torch.jit._pickle.restore_type_tag":
        if (args.length === 0) throw new FormatError(`${this.source.name}: ${fn.qualified} without arguments`);
        return args[0];
      case "_codecs.encode": {
        const [s] = args;
        if (typeof s !== "string") throw new FormatError(`${this.source.name}: _codecs.encode of a non-string`);
        return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
      }
      default:
        throw new FormatError(`${this.source.name}: ${fn.qualified} cannot be called`);
    }
  }

  /** A file of the archive by its path inside the archive's folder (e.g. `code/__torch__.py`), if present. */
  async readArchiveFile(path: string): Promise<Uint8Array | undefined> {
    const entry = this.entries.get(`${this.prefix}${path}`);
    return entry && readZipEntry(this.source, entry);
  }

  /** @internal */
  async readStorage(ref: StorageRef, offset: number, count: number): Promise<Uint8Array> {
    const entry = this.entries.get(`${this.prefix}data/${ref.key}`)!;
    const bytesPer = STORED_BYTES[ref.dtype];
    if (entry.method !== 0) {
      const all = await readZipEntry(this.source, entry);
      return all.subarray(offset * bytesPer, (offset + count) * bytesPer);
    }
    const start = await entryDataOffset(this.source, entry);
    return this.source.read(start + offset * bytesPer, count * bytesPer);
  }
}

/**
 * The tensors of a state dict, by key: takes `obj` itself, or its `state_dict`/`model` entry when present, and
 * flattens nested dicts with dots. Non-tensor entries (counters, strings) are reported in `skipped`.
 */
export function collectTensors(
  obj: PyValue,
  prefix = "",
  out = new Map<string, TorchTensorRef>(),
  skipped: string[] = [],
): { tensors: Map<string, TorchTensorRef>; skipped: string[] } {
  if (obj instanceof Map) {
    for (const [k, v] of obj) {
      const key = `${prefix}${String(k)}`;
      if (v instanceof TorchTensorRef) out.set(key, v);
      else if (v instanceof Map) collectTensors(v, `${key}.`, out, skipped);
      else skipped.push(key);
    }
  }
  return { tensors: out, skipped };
}
