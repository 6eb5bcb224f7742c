import { type Engine, ShapeError, type Tensor, type TensorSource, toFloat32 } from "@fcclip/tensor-core";

/** A bias-free conv and the eval-mode BatchNorm2d after it, folded into one conv with a bias. */
export interface ConvBn {
  weight: Tensor;
  bias: Tensor;
}

const BN_EPS = 1e-5;

/**
 * Loads `<conv>.weight` and `<bn>.{weight,bias,running_mean,running_var}` and folds them:
 * BN(conv(x)) = conv(x)·a + b with a = γ/√(var + eps), b = β − mean·a (PyTorch's own eval-mode form), so the conv
 * weights are scaled by a per output channel and b becomes the conv's bias. Only rounding differs from running BN.
 */
export async function loadConvBn(engine: Engine, source: TensorSource, conv: string, bn: string): Promise<ConvBn> {
  const [w, gamma, beta, mean, variance] = await Promise.all(
    [`${conv}.weight`, `${bn}.weight`, `${bn}.bias`, `${bn}.running_mean`, `${bn}.running_var`].map(async (k) => {
      const t = await source.read(k);
      return { key: k, shape: t.shape, data: toFloat32(t) };
    }),
  );
  const co = w!.shape[0]!;
  for (const p of [gamma, beta, mean, variance]) {
    if (p!.data.length !== co) {
      throw new ShapeError(`${p!.key} has ${p!.data.length} entries; ${w!.key} has ${co} output channels`);
    }
  }
  const f = Math.fround;
  const perChannel = w!.data.length / co;
  const weight = new Float32Array(w!.data.length);
  const bias = new Float32Array(co);
  for (let c = 0; c < co; c++) {
    const a = f(gamma!.data[c]! / f(Math.sqrt(f(variance!.data[c]! + BN_EPS))));
    bias[c] = f(beta!.data[c]! - f(mean!.data[c]! * a));
    for (let i = 0; i < perChannel; i++) weight[c * perChannel + i] = f(w!.data[c * perChannel + i]! * a);
  }
  return { weight: engine.tensor(weight, w!.shape), bias: engine.tensor(bias, [co]) };
}

export function disposeConvBn(p: ConvBn): void {
  p.weight.dispose();
  p.bias.dispose();
}
