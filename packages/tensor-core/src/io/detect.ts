import type { ByteSource } from "./byte-source.js";
import { FormatError } from "./errors.js";

export type WeightsFormat = "safetensors" | "pytorch" | "legacy-pytorch";

/** torch.save's pre-1.6 format starts with the pickled magic number 0x1950a86a20f9469cfc6c (protocol 2, LONG1). */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/** Tells the formats apart by their first bytes (a safetensors header length can begin with any byte). */
export async function detectFormat(source: ByteSource): Promise<WeightsFormat> {
  const head = await source.read(0, Math.min(source.size, 16));
  if (head.length >= 9 && head[8] === 0x7b) {
    const len = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
    if (len <= BigInt(source.size - 8)) return "safetensors";
  }
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return "pytorch";
  if (LEGACY_MAGIC.every((b, i) => head[i] === b)) return "legacy-pytorch";
  throw new FormatError(
    `${source.name} is neither a safetensors file nor a PyTorch checkpoint (torch.save zip); check that the file is complete`,
  );
}
