import { describe, expect, test } from "vitest";
import { BufferPool } from "./buffer-pool.js";

/** A stand-in device: buffers that record their destruction (the pool only creates and destroys them). */
function fakeDevice() {
  const created: { size: number; destroyed: boolean; destroy(): void }[] = [];
  const device = {
    createBuffer({ size }: { size: number }) {
      const b = {
        size,
        destroyed: false,
        destroy() {
          b.destroyed = true;
        },
      };
      created.push(b);
      return b;
    },
  };
  return { device: device as unknown as GPUDevice, created };
}

describe("BufferPool", () => {
  test("over the free budget the least recently released buffers go, so a new working set is kept", () => {
    const { device, created } = fakeDevice();
    const pool = new BufferPool(device, 0, 3000);
    // A first model's sizes fill the budget...
    const first = [pool.acquire(1024), pool.acquire(1024)];
    for (const b of first) pool.release(b);
    expect(pool.stats().freeBytes).toBe(2048);
    // ...then a second model's buffer of another size is released: the oldest first-model buffer makes room.
    const second = pool.acquire(1536);
    pool.release(second);
    expect(pool.stats().freeBytes).toBe(1024 + 1536);
    pool.destroyRetired();
    expect(created.filter((b) => b.destroyed)).toEqual([first[0]]);
    // The second model's size is reused, not created again.
    expect(pool.acquire(1536)).toBe(second);
    expect(created.length).toBe(3);
  });

  test("a buffer larger than the whole budget is destroyed; reuse takes it out of the age order", () => {
    const { device, created } = fakeDevice();
    const pool = new BufferPool(device, 0, 1000);
    const big = pool.acquire(4096);
    pool.release(big);
    expect(pool.stats().freeBytes).toBe(0);
    pool.destroyRetired();
    expect(created[0]!.destroyed).toBe(true);
    const a = pool.acquire(512);
    pool.release(a);
    expect(pool.acquire(512)).toBe(a);
    const b = pool.acquire(512);
    // a is released first, so it is the one evicted when b no longer fits beside it.
    pool.release(a);
    pool.release(b);
    expect(pool.stats().freeBytes).toBe(512);
    pool.destroyRetired();
    expect(created.filter((x) => x.destroyed).map((x) => x.size)).toEqual([4096, 512]);
    expect(pool.acquire(512)).toBe(b);
  });
});
