import { FormatError } from "./errors.js";

/**
 * Random access to the bytes of a file without holding it in memory: a 1.5 GB checkpoint is read tensor by tensor.
 * Implementations exist for in-memory bytes, browser Blobs/Files and Node file paths.
 */
export interface ByteSource {
  readonly size: number;
  readonly name: string;
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

function checkRange(src: ByteSource, offset: number, length: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > src.size
  ) {
    throw new FormatError(
      `${src.name}: read of ${length} bytes at ${offset} is outside the ${src.size}-byte file (truncated?)`,
    );
  }
}

export function bytesSource(data: Uint8Array, name = "buffer"): ByteSource {
  // A Node Buffer's slice() is a view, not a copy; wrap it as a plain Uint8Array so readers' copies are real copies.
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const src: ByteSource = {
    size: bytes.byteLength,
    name,
    read: async (offset, length) => {
      checkRange(src, offset, length);
      return bytes.subarray(offset, offset + length);
    },
  };
  return src;
}

/** A browser Blob or File (also a fetched Response's blob()). */
export function blobSource(blob: Blob, name = (blob as File).name ?? "blob"): ByteSource {
  const src: ByteSource = {
    size: blob.size,
    name,
    read: async (offset, length) => {
      checkRange(src, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
  return src;
}

/** A file on disk (Node only). Close it when done. */
export async function fileSource(path: string): Promise<ByteSource> {
  const specifier = "node:fs/promises";
  const fs = (await import(/* @vite-ignore */ specifier)) as typeof import("node:fs/promises");
  const handle = await fs.open(path, "r");
  const { size } = await handle.stat();
  const src: ByteSource = {
    size,
    name: path,
    read: async (offset, length) => {
      checkRange(src, offset, length);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0) throw new FormatError(`${path}: unexpected end of file at ${offset + done}`);
        done += bytesRead;
      }
      return out;
    },
    close: () => handle.close(),
  };
  return src;
}
