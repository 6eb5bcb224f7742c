import { FormatError } from "../errors.js";
import { type TorchCheckpoint, TorchTensorRef } from "./checkpoint.js";
import { type PyGlobal, PyRecord, type PyValue } from "./unpickle.js";

/** The attributes a module class declares as parameters and buffers; all others stay out of state_dict(). */
interface ModuleClass {
  parameters: ReadonlySet<string>;
  buffers: ReadonlySet<string>;
}

/** What a class in `code/` is: a module with its declarations, or some other TorchScript class (not state). */
type ClassKind = ModuleClass | "not a module";

const CLASS_HEADER = /^class ([A-Za-z_][A-Za-z0-9_]*)(?:\(([^)]*)\))?:/gm;
const MAX_DEPTH = 1000;

/** Reads the quoted names of `  <field> = ["a", "b", ]` inside a class body; undefined when the line is absent. */
function declaredNames(body: string, field: string): Set<string> | undefined {
  const line = new RegExp(`^[ \\t]+${field}[ \\t]*=[ \\t]*\\[([^\\]]*)\\]`, "m").exec(body);
  return line ? new Set([...line[1]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!)) : undefined;
}

/**
 * The class declarations of an archive's TorchScript code, read as text and never run. Which attributes are parameters
 * or buffers lives only there (the pickle writes a buffer and a plain tensor attribute alike), and torch.jit.load takes
 * it from the same `__parameters__`/`__buffers__` lines.
 */
class CodeDeclarations {
  private readonly files = new Map<string, Promise<Map<string, ClassKind>>>();

  constructor(private readonly ckpt: TorchCheckpoint) {}

  async of(cls: PyGlobal): Promise<ClassKind> {
    const file = `code/${cls.module.replaceAll(".", "/")}.py`;
    let classes = this.files.get(file);
    if (!classes) {
      classes = this.parse(file);
      this.files.set(file, classes);
    }
    const kind = (await classes).get(cls.name);
    if (!kind) {
      throw new FormatError(
        `${this.ckpt.source.name}: class ${cls.qualified} is not defined in the archive's ${file}; the archive is ` +
          "incomplete or was not written by torch.jit.save. Load it in PyTorch and torch.save(module.state_dict(), path).",
      );
    }
    return kind;
  }

  private async parse(file: string): Promise<Map<string, ClassKind>> {
    const bytes = await this.ckpt.readArchiveFile(file);
    const classes = new Map<string, ClassKind>();
    if (!bytes) return classes;
    const text = new TextDecoder().decode(bytes);
    const headers = [...text.matchAll(CLASS_HEADER)];
    headers.forEach((h, i) => {
      if (h[2]?.trim() !== "Module") {
        classes.set(h[1]!, "not a module");
        return;
      }
      const body = text.slice(h.index! + h[0].length, headers[i + 1]?.index ?? text.length);
      const parameters = declaredNames(body, "__parameters__");
      if (!parameters) {
        throw new FormatError(
          `${this.ckpt.source.name}: module class ${h[1]} in ${file} declares no __parameters__, so its parameters ` +
            "cannot be told from other attributes. Load it in PyTorch and torch.save(module.state_dict(), path).",
        );
      }
      // Writers before buffers were declared leave the line out; torch.jit.load then treats no attribute as a buffer.
      classes.set(h[1]!, { parameters, buffers: declaredNames(body, "__buffers__") ?? new Set() });
    });
    return classes;
  }
}

function describe(v: PyValue): string {
  if (v instanceof PyRecord) return `an instance of ${v.cls.qualified}`;
  if (v instanceof Map) return "a dict";
  if (Array.isArray(v)) return "a list or tuple";
  return v === null ? "None" : `a ${typeof v}`;
}

/**
 * The state dict of a TorchScript archive (torch.jit.save, e.g. OpenAI's CLIP files), keyed and ordered as
 * torch.jit.load(f).state_dict() would: each module's parameters, then its buffers, then its submodules, by attribute
 * name. Tensors held as plain attributes (OpenAI's attn_mask) and TorchScript objects that are not modules go to
 * `skipped` under the key they would have had.
 */
export async function torchScriptTensors(
  ckpt: TorchCheckpoint,
): Promise<{ tensors: Map<string, TorchTensorRef>; skipped: string[] }> {
  const name = ckpt.source.name;
  const code = new CodeDeclarations(ckpt);
  const tensors = new Map<string, TorchTensorRef>();
  const skipped: string[] = [];
  const root = ckpt.root;
  const rootClass = root instanceof PyRecord ? await code.of(root.cls) : "not a module";
  if (!(root instanceof PyRecord) || rootClass === "not a module") {
    throw new FormatError(
      `${name} is a TorchScript archive, but its data.pkl holds ${describe(root)}, not a module; only archives of ` +
        "modules (torch.jit.save of a scripted or traced nn.Module) are read. Save the weights with torch.save instead.",
    );
  }

  const visit = async (
    module: PyRecord,
    decl: ModuleClass,
    prefix: string,
    ancestors: readonly PyRecord[],
  ): Promise<void> => {
    const where = prefix ? `module '${prefix.slice(0, -1)}'` : "the root module";
    if (ancestors.length > MAX_DEPTH) throw new FormatError(`${name}: modules are nested over ${MAX_DEPTH} deep`);
    if (ancestors.includes(module))
      throw new FormatError(`${name}: ${where} is its own ancestor (the module tree has a cycle)`);
    const state = module.state;
    if (!(state instanceof Map)) {
      throw new FormatError(
        `${name}: ${where} (${module.cls.qualified}) was saved with custom __getstate__ state, as quantized and ` +
          "packed modules are; only plain modules are read. Load it in PyTorch and torch.save(module.state_dict(), path).",
      );
    }
    for (const [kind, declared] of [
      ["parameter", decl.parameters],
      ["buffer", decl.buffers],
    ] as const) {
      for (const attr of declared) {
        if (!state.has(attr))
          throw new FormatError(`${name}: ${where} declares ${kind} '${attr}' but does not hold it`);
      }
      for (const [attr, v] of state) {
        if (!declared.has(attr) || v === null) continue;
        if (!(v instanceof TorchTensorRef))
          throw new FormatError(`${name}: ${kind} '${prefix}${String(attr)}' is ${describe(v)}, not a tensor`);
        tensors.set(`${prefix}${String(attr)}`, v);
      }
    }
    for (const [attr, v] of state) {
      if (decl.parameters.has(attr) || decl.buffers.has(attr)) continue;
      const key = `${prefix}${String(attr)}`;
      if (v instanceof TorchTensorRef) skipped.push(key);
      else if (v instanceof PyRecord) {
        const cls = await code.of(v.cls);
        if (cls === "not a module") skipped.push(key);
        else await visit(v, cls, `${key}.`, [...ancestors, module]);
      }
    }
  };
  await visit(root, rootClass, "", []);
  return { tensors, skipped };
}
