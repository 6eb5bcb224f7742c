import { ShapeError } from "../errors.js";
import { enableF16, FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import { fmtShape } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { checkInput, checkRank, load, rowWindows } from "./util.js";

/**
 * Row lookup table[ids] (nn.Embedding). The table may exceed the storage-binding limit (CLIP's 49408×768 f32 token
 * embedding is 152 MB > 128 MiB): it is then bound in row windows, one dispatch per window.
 */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  checkInput("embedding", "table", table);
  checkInput("embedding", "ids", ids, ["i32", "u32"]);
  checkRank("embedding", "table", table, 2);
  const [V, D] = table.shape as [number, number];
  const e = table.engine;
  const out = e.empty([...ids.shape, D], "f32");
  if (out.size === 0) return out;
  if (D === 0) throw new ShapeError(`embedding: table ${fmtShape(table.shape)} has no columns`);
  for (const w of rowWindows(table, V, D)) {
    const params: Param[] = [
      ["n", "u32", out.size],
      ["D", "u32", D],
      ["r0", "u32", w.r0],
      ["rows", "u32", w.count],
      ["base", "u32", w.base],
    ];
    e.run({
      name: "embedding",
      key: `${table.dtype}|${ids.dtype}`,
      params,
      inputs: [w.binding, ids.binding()],
      outputs: [out.binding()],
      workgroups: grid(Math.ceil(out.size / WG1D)),
      wgsl: () => `${enableF16([table.dtype])}${paramsStruct(params)}${storageDecls(
        [
          ["t", table.dtype],
          ["ids", ids.dtype],
        ],
        [["y", "f32"]],
      )}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.n) { return; }
  let row = u32(ids[i / p.D]) - p.r0;
  if (row >= p.rows) { return; }
  y[i] = ${load(table.dtype, "t", "p.base + row * p.D + i % p.D")};
}`,
    });
  }
  return out;
}
