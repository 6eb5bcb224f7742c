/**
 * Bounds-checked stores of a register block: rows i of vec4 accumulators v, each finished by `value(i, v)` (a vec4
 * expression that may use `crow`, the row's first element in C). Shared by the register and texture kernels.
 */
export function storeBlock(
  rows: readonly number[],
  vecs: readonly number[],
  ldc: string,
  value: (i: number, v: number) => string,
): string {
  return rows
    .map(
      (i) => `  if (m0 + ${i}u < p.M) {
    let crow = oc + (m0 + ${i}u) * ${ldc};
${vecs
  .map(
    (v) => `    {
      let r = ${value(i, v)};
${[0, 1, 2, 3].map((j) => `      if (n0 + ${v * 4 + j}u < p.N) { c[crow + n0 + ${v * 4 + j}u] = r[${j}]; }`).join("\n")}
    }`,
  )
  .join("\n")}
  }`,
    )
    .join("\n");
}
