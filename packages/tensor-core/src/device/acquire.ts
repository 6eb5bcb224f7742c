import { NoAdapterError } from "../errors.js";
import { installDawnPollThrottle } from "./dawn-throttle.js";

/** Objects that must stay referenced: if dawn.node's create() result is collected, pending promises never resolve. */
const pinned = new Set<unknown>();

export interface AcquiredGpu {
  gpu: GPU;
  runtime: "browser" | "node";
}

function isNode(): boolean {
  const nav = globalThis.navigator as { gpu?: GPU } | undefined;
  return typeof process !== "undefined" && !!process.versions?.node && !nav?.gpu;
}

async function nodeGpu(): Promise<GPU> {
  // A variable specifier keeps browser bundlers from trying to resolve the native Node module.
  const specifier = "webgpu";
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = await import(/* @vite-ignore */ specifier);
  } catch (e) {
    throw new NoAdapterError(
      `WebGPU for Node is not available: the npm package 'webgpu' (Dawn) could not be loaded (${(e as Error).message}). ` +
        "Install it with `npm install webgpu`.",
    );
  }
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create([]);
  pinned.add(gpu);
  installDawnPollThrottle();
  return gpu;
}

export async function acquireGpu(): Promise<AcquiredGpu> {
  if (isNode()) return { gpu: await nodeGpu(), runtime: "node" };
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    throw new NoAdapterError(
      "this browser does not expose WebGPU (navigator.gpu is missing): use a recent Chrome/Edge, or Chromium with --enable-unsafe-webgpu",
    );
  }
  return { gpu, runtime: "browser" };
}

export function noAdapterMessage(runtime: "browser" | "node"): string {
  if (runtime === "browser") {
    return "navigator.gpu.requestAdapter() returned no adapter: enable WebGPU (Chromium: --enable-unsafe-webgpu) or use a GPU-backed browser";
  }
  return (
    "Dawn found no Vulkan adapter. On a machine without a GPU install Mesa's lavapipe; on Debian bookworm it must come " +
    "from backports because bookworm's Mesa is too old for Dawn: add the bookworm-backports suite, then " +
    "`apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`"
  );
}
