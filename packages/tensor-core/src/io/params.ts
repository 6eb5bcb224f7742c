import type { Engine } from "../engine.js";
import { MatrixTexture } from "../ops/matrix-texture.js";
import type { Tensor } from "../tensor.js";
import { type HostTensor, toFloat32, uploadHost } from "./host-tensor.js";

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
 * A 2-D weight uploaded as a tensor and, on CPU adapters, also as a MatrixTexture (matmul's aTexture/bTexture),
 * from one host read.
 */
export async function loadWeightWithTexture(
  engine: Engine,
  source: TensorSource,
  key: string,
): Promise<{ tensor: Tensor; texture: MatrixTexture | null }> {
  const host = await source.read(key);
  const values = toFloat32(host);
  const [rows, cols] = host.shape as [number, number];
  const texture =
    engine.flavor === "cpu" && host.shape.length === 2 ? MatrixTexture.tryCreate(engine, values, rows, cols) : null;
  return { tensor: engine.tensor(values, host.shape), texture };
}
