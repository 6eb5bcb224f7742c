/** Invocations per workgroup of the row-parallel kernels (GroupNorm, and LayerNorm/softmax on GPU adapters). */
export const ROW_WG = 64;

const reduction = (op: "sum" | "max") => `
fn reduce_${op}(v: f32, l: u32) -> f32 {
  red[l] = v;
  workgroupBarrier();
  for (var s = ${ROW_WG / 2}u; s > 0u; s >>= 1u) {
    if (l < s) { red[l] = ${op === "sum" ? "red[l] + red[l + s]" : "max(red[l], red[l + s])"}; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}`;

/**
 * Tree reductions over one workgroup: `reduce_sum(v, lid.x)` and `reduce_max(v, lid.x)` return the result to every
 * invocation. The barrier after reading the result lets the next reduction reuse the scratch array safely.
 */
export const WORKGROUP_REDUCE = `\nvar<workgroup> red: array<f32, ${ROW_WG}>;${reduction("sum")}${reduction("max")}`;

/**
 * Entry point for one workgroup per row, opened up to its body: `row` is the workgroup's index in a grid()
 * dispatch (workgroups past `count` return at once) and `l` the invocation's index within the row.
 */
export function mainRows(row: string, count: string): string {
  return `@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let ${row} = wid.x + wid.y * nwg.x;
  if (${row} >= ${count}) { return; }
  let l = lid.x;`;
}
