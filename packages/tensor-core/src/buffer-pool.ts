/**
 * Free GPU buffers by size class, so a model forward reuses memory instead of creating a buffer per op.
 * Size classes are 2^k·{1, 1.25, 1.5, 1.75}: at most 25 % waste, few distinct sizes. Over the free budget the least
 * recently released buffers go first: a process that runs one model and then another would otherwise keep the first
 * one's sizes forever and create (and, on lavapipe, page in and clear) a fresh buffer for each of the second's.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  /** Every free buffer, least recently released first (a Set keeps insertion order). */
  private readonly byAge = new Set<GPUBuffer>();
  private freeBytes = 0;
  private liveBytes = 0;
  /** Buffers over the free budget, destroyed at the next submit: work still being encoded may reference them. */
  private readonly retired: GPUBuffer[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    /** Free buffers beyond this many bytes are destroyed instead of kept. */
    private readonly maxFreeBytes: number,
  ) {}

  static sizeClass(bytes: number): number {
    const b = Math.max(16, Math.ceil(bytes / 4) * 4);
    if (b <= 256) return Math.ceil(b / 16) * 16;
    const p = 2 ** Math.floor(Math.log2(b));
    const quarter = p / 4;
    return Math.ceil(b / quarter) * quarter;
  }

  acquire(bytes: number): GPUBuffer {
    const size = BufferPool.sizeClass(bytes);
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused) {
      this.byAge.delete(reused);
      this.freeBytes -= size;
      this.liveBytes += size;
      return reused;
    }
    const buffer = this.device.createBuffer({ size, usage: this.usage });
    this.liveBytes += size;
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const size = buffer.size;
    this.liveBytes -= size;
    if (size > this.maxFreeBytes) {
      this.retired.push(buffer);
      return;
    }
    for (const old of this.byAge) {
      if (this.freeBytes + size <= this.maxFreeBytes) break;
      this.byAge.delete(old);
      const list = this.free.get(old.size)!;
      list.splice(list.indexOf(old), 1);
      this.freeBytes -= old.size;
      this.retired.push(old);
    }
    let list = this.free.get(size);
    if (!list) {
      list = [];
      this.free.set(size, list);
    }
    list.push(buffer);
    this.byAge.add(buffer);
    this.freeBytes += size;
  }

  /** Destroys retired buffers; call after submitting the commands that were encoded while they were alive. */
  destroyRetired(): void {
    for (const b of this.retired.splice(0)) b.destroy();
  }

  /** Destroys every free buffer (live ones stay with their tensors). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.byAge.clear();
    this.freeBytes = 0;
  }

  stats(): { liveBytes: number; freeBytes: number } {
    return { liveBytes: this.liveBytes, freeBytes: this.freeBytes };
  }
}
