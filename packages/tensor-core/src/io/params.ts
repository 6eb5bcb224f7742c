import type { Engine } from "../engine.js";
import type { Tensor } from "../tensor.js";
import { type HostTensor, uploadHost } from "./host-tensor.js";

/** Where weights come from: a state dict (openStateDict, FC-CLIP weights, a bundle) read by key. */
export interface TensorSource {
  read(key: string): Promise<HostTensor>;
}

/** Reads and uploads a module's parameters under a key prefix. */
export function paramLoader(engine: Engine, source: TensorSource, prefix: string) {
  return async (name: string): Promise<Tensor> => uploadHost(engine, await source.read(`${prefix}${name}`));
}

export type ParamLoader = ReturnType<typeof paramLoader>;

/**
 * A layer's parameters declared once, as {field: key under prefix}: loads them all into {field: Tensor}. Pair with
 * disposeParams. (On CPU adapters matmul packs a weight into its texture on first use; nothing here needs to.)
 */
export async function loadParams<const T extends Record<string, string>>(
  engine: Engine,
  source: TensorSource,
  prefix: string,
  names: T,
): Promise<{ [K in keyof T]: Tensor }> {
  const load = paramLoader(engine, source, prefix);
  const loaded = await Promise.all(
    Object.entries(names).map(async ([field, key]) => [field, await load(key)] as const),
  );
  return Object.fromEntries(loaded) as { [K in keyof T]: Tensor };
}

/** Disposes every tensor of a parameter record made by loadParams. */
export function disposeParams(p: Record<string, Tensor>): void {
  for (const t of Object.values(p)) t.dispose();
}
