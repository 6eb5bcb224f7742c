import type { ByteSource } from "../byte-source.js";
import { FormatError } from "../errors.js";

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Reads a zip's central directory (stored and deflated entries, zip64 included), as torch.save writes them. */
export async function readZipDirectory(src: ByteSource): Promise<Map<string, ZipEntry>> {
  const tailLen = Math.min(src.size, 65557);
  const tail = await src.read(src.size - tailLen, tailLen);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new FormatError(`${src.name}: no zip end-of-central-directory record (truncated or not a zip)`);
  let count = tv.getUint16(eocd + 10, true);
  let dirSize = tv.getUint32(eocd + 12, true);
  let dirOffset = tv.getUint32(eocd + 16, true);
  if (eocd >= 20 && tv.getUint32(eocd - 20, true) === ZIP64_LOCATOR) {
    const z64Offset = Number(tv.getBigUint64(eocd - 20 + 8, true));
    const rec = await src.read(z64Offset, 56);
    const rv = new DataView(rec.buffer, rec.byteOffset, 56);
    if (rv.getUint32(0, true) !== ZIP64_EOCD)
      throw new FormatError(`${src.name}: broken zip64 end-of-central-directory record`);
    count = Number(rv.getBigUint64(32, true));
    dirSize = Number(rv.getBigUint64(40, true));
    dirOffset = Number(rv.getBigUint64(48, true));
  }
  if (dirOffset + dirSize > src.size || count > dirSize / 46) {
    throw new FormatError(
      `${src.name}: zip central directory (${count} entries at ${dirOffset}) lies outside the file`,
    );
  }
  const dir = await src.read(dirOffset, dirSize);
  const dv = new DataView(dir.buffer, dir.byteOffset, dir.byteLength);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dir.byteLength || dv.getUint32(p, true) !== CENTRAL)
      throw new FormatError(`${src.name}: corrupt zip directory entry ${i}`);
    const method = dv.getUint16(p + 10, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > dir.byteLength)
      throw new FormatError(`${src.name}: corrupt zip directory entry ${i}`);
    const name = new TextDecoder().decode(dir.subarray(p + 46, p + 46 + nameLen));
    // zip64 extra field: the 0xFFFFFFFF fields are replaced, in order, by 8-byte values.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        const take = () => {
          if (q + 8 > e + 4 + len) throw new FormatError(`${src.name}: corrupt zip64 field in entry ${name}`);
          const v = Number(dv.getBigUint64(q, true));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      e += 4 + len;
    }
    if (localHeaderOffset + 30 + compressedSize > src.size)
      throw new FormatError(`${src.name}: zip entry ${name} extends past the end of the file (truncated?)`);
    entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
    p = extraEnd + commentLen;
  }
  return entries;
}

/** Where an entry's data starts (the local header's own name/extra lengths can differ from the directory's). */
export async function entryDataOffset(src: ByteSource, entry: ZipEntry): Promise<number> {
  const h = await src.read(entry.localHeaderOffset, 30);
  const hv = new DataView(h.buffer, h.byteOffset, 30);
  if (hv.getUint32(0, true) !== LOCAL) throw new FormatError(`${src.name}: corrupt local header for ${entry.name}`);
  const start = entry.localHeaderOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
  if (start + entry.compressedSize > src.size)
    throw new FormatError(`${src.name}: ${entry.name} extends past the end of the file (truncated?)`);
  return start;
}

/** The whole (decompressed) content of a small entry such as data.pkl. */
export async function readZipEntry(src: ByteSource, entry: ZipEntry): Promise<Uint8Array> {
  const start = await entryDataOffset(src, entry);
  const raw = await src.read(start, entry.compressedSize);
  if (entry.method === 0) return raw;
  if (entry.method !== 8)
    throw new FormatError(
      `${src.name}: ${entry.name} uses zip compression method ${entry.method}; only stored and deflate are supported`,
    );
  const stream = new Blob([raw as BlobPart]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  try {
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new FormatError(`${src.name}: ${entry.name} does not inflate (${(e as Error).message})`);
  }
}
