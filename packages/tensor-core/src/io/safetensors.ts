import type { ByteSource } from "./byte-source.js";
import { FormatError } from "./errors.js";
import { type HostTensor, numel, STORED_BYTES, type StoredDType } from "./host-tensor.js";

export interface SafetensorsEntry {
  dtype: StoredDType;
  shape: number[];
  /** Byte range within the data section (after the header). */
  begin: number;
  end: number;
}

const MAX_HEADER = 100 * 2 ** 20;

/** A safetensors file opened for random access: the header is parsed and validated, tensors are read on demand. */
export class SafetensorsFile {
  private constructor(
    readonly source: ByteSource,
    private readonly entries: Map<string, SafetensorsEntry>,
    private readonly dataStart: number,
    readonly metadata: Record<string, string>,
  ) {}

  static async open(source: ByteSource): Promise<SafetensorsFile> {
    const where = source.name;
    if (source.size < 8) throw new FormatError(`${where}: ${source.size} bytes is too short for a safetensors file`);
    const lenBytes = await source.read(0, 8);
    const view = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8);
    const headerLen = Number(view.getBigUint64(0, true));
    if (headerLen < 2 || headerLen > MAX_HEADER || headerLen > source.size - 8) {
      throw new FormatError(
        `${where}: header length ${headerLen} is impossible for a ${source.size}-byte file (not safetensors, or truncated)`,
      );
    }
    let header: unknown;
    try {
      header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(await source.read(8, headerLen)));
    } catch (e) {
      throw new FormatError(`${where}: the safetensors header is not valid UTF-8 JSON (${(e as Error).message})`);
    }
    if (!header || typeof header !== "object" || Array.isArray(header)) {
      throw new FormatError(`${where}: the safetensors header must be a JSON object`);
    }
    const dataSize = source.size - 8 - headerLen;
    const entries = new Map<string, SafetensorsEntry>();
    let metadata: Record<string, string> = {};
    for (const [key, raw] of Object.entries(header as Record<string, unknown>)) {
      if (key === "__metadata__") {
        if (!raw || typeof raw !== "object" || Object.values(raw).some((v) => typeof v !== "string")) {
          throw new FormatError(`${where}: __metadata__ must map strings to strings`);
        }
        metadata = raw as Record<string, string>;
        continue;
      }
      entries.set(key, parseEntry(where, key, raw, dataSize));
    }
    const sorted = [...entries.entries()].sort((a, b) => a[1].begin - b[1].begin);
    for (let i = 1; i < sorted.length; i++) {
      const [prevKey, prev] = sorted[i - 1]!;
      const [key, cur] = sorted[i]!;
      if (cur.begin < prev.end) throw new FormatError(`${where}: tensors ${prevKey} and ${key} overlap`);
    }
    return new SafetensorsFile(source, entries, 8 + headerLen, metadata);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  entry(key: string): SafetensorsEntry | undefined {
    return this.entries.get(key);
  }

  async read(key: string): Promise<HostTensor> {
    const e = this.entries.get(key);
    if (!e) throw new FormatError(`${this.source.name}: no tensor named '${key}'`);
    const bytes = await this.source.read(this.dataStart + e.begin, e.end - e.begin);
    return { dtype: e.dtype, shape: [...e.shape], bytes };
  }
}

function parseEntry(where: string, key: string, raw: unknown, dataSize: number): SafetensorsEntry {
  const bad = (why: string) => new FormatError(`${where}: tensor '${key}': ${why}`);
  if (!raw || typeof raw !== "object") throw bad("entry is not an object");
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (typeof dtype !== "string" || !(dtype in STORED_BYTES)) throw bad(`unsupported dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw bad("shape must be non-negative integers");
  if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isSafeInteger(o) || o < 0)) {
    throw bad("data_offsets must be two non-negative integers");
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataSize)
    throw bad(`data_offsets [${begin}, ${end}] fall outside the ${dataSize}-byte data section`);
  const want = numel(shape as number[]) * STORED_BYTES[dtype as StoredDType];
  if (end - begin !== want)
    throw bad(`${end - begin} bytes stored for shape [${shape.join(", ")}] ${dtype} (${want} expected)`);
  return { dtype: dtype as StoredDType, shape: shape as number[], begin, end };
}

export interface SafetensorsWriteEntry {
  name: string;
  dtype: StoredDType;
  shape: number[];
  /** Produces the tensor's bytes when the writer reaches it, so only one tensor is in memory at a time. */
  bytes: () => Promise<Uint8Array> | Uint8Array;
}

/**
 * Serialises tensors as safetensors, yielding the header then each tensor's bytes in order; write the chunks to a
 * file, a stream or Blob parts.
 */
export async function* safetensorsChunks(
  entries: readonly SafetensorsWriteEntry[],
  metadata: Record<string, string> = {},
): AsyncGenerator<Uint8Array> {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const names = new Set<string>();
  for (const e of entries) {
    if (names.has(e.name) || e.name === "__metadata__")
      throw new FormatError(`safetensors: duplicate or reserved name '${e.name}'`);
    names.add(e.name);
    const size = numel(e.shape) * STORED_BYTES[e.dtype];
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (new TextEncoder().encode(json).byteLength % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  yield prefix;
  yield headerBytes;
  for (const e of entries) {
    const bytes = await e.bytes();
    const size = numel(e.shape) * STORED_BYTES[e.dtype];
    if (bytes.byteLength !== size) {
      throw new FormatError(
        `safetensors: '${e.name}' produced ${bytes.byteLength} bytes, ${size} expected for its shape`,
      );
    }
    yield bytes;
  }
}
