import { FcclipError } from "../errors.js";

/** The weights do not form an FC-CLIP model: lists what is missing, unexpected or mis-shaped. */
export class WeightsMismatchError extends FcclipError {
  override name = "WeightsMismatchError";
  constructor(
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
    readonly misshaped: readonly { key: string; expected: number[]; actual: number[] }[],
    hint = "",
  ) {
    const show = (xs: readonly string[]) =>
      `${xs.slice(0, 8).join(", ")}${xs.length > 8 ? `, … (${xs.length} in all)` : ""}`;
    const parts = [
      missing.length ? `missing ${missing.length}: ${show(missing)}` : "",
      unexpected.length ? `unexpected ${unexpected.length}: ${show(unexpected)}` : "",
      misshaped.length
        ? `mis-shaped ${misshaped.length}: ${show(misshaped.map((m) => `${m.key} [${m.actual.join(",")}] (expected [${m.expected.join(",")}])`))}`
        : "",
    ].filter(Boolean);
    super(
      parts.length
        ? `the weights do not match the FC-CLIP architecture: ${parts.join("; ")}${hint ? `. ${hint}` : ""}`
        : `the weights do not form an FC-CLIP model: ${hint}`,
    );
  }
}
