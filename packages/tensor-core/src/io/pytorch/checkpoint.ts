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

/** A torch.save zip checkpoint (PyTorch >= 1.6): the unpickled object graph with lazy tensors. */
export class TorchCheckpoint {
  root: PyValue = null;
  private prefix = "";
  private readonly storages = new Map<string, StorageRef>();

  private constructor(
    readonly source: ByteSource,
    private readonly entries: Map<string, ZipEntry>,
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
    if (!pkl) throw new FormatError(`${source.name}: zip has no data.pkl; not a torch.save checkpoint`);
    const ckpt = new TorchCheckpoint(source, entries);
    ckpt.prefix = pkl.slice(0, pkl.length - "data.pkl".length);
    const data = await readZipEntry(source, entries.get(pkl)!);
    ckpt.root = unpickle(
      data,
      {
        globals: ALLOWED,
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
      case "_codecs.encode": {
        const [s] = args;
        if (typeof s !== "string") throw new FormatError(`${this.source.name}: _codecs.encode of a non-string`);
        return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
      }
      default:
        throw new FormatError(`${this.source.name}: ${fn.qualified} cannot be called`);
    }
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
