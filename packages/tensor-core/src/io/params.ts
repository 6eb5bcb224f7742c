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
