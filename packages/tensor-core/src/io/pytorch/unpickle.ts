import { FormatError, UnsafePickleError } from "../errors.js";

/** A Python global the unpickler agreed to reference (always from the allow-list). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

export type PyValue = unknown;

/**
 * An instance of a class the caller let NEWOBJ create (TorchScript's `__torch__.*` modules): nothing is constructed
 * or run, the record only keeps the class name and the state BUILD gave it (for a module, its attribute dict).
 */
export class PyRecord {
  state: PyValue = undefined;
  constructor(readonly cls: PyGlobal) {}
}

/** What the caller allows a pickle to construct: REDUCE targets by qualified name, and persistent ids. */
export interface UnpickleHooks {
  /** Qualified names that GLOBAL/STACK_GLOBAL may reference. Anything else is an UnsafePickleError. */
  globals: ReadonlySet<string>;
  /** Classes that NEWOBJ may instantiate as inert PyRecords (GLOBAL may then reference them too). None by default. */
  records?: (module: string, name: string) => boolean;
  /** Applies an allowed callable (REDUCE). */
  call: (fn: PyGlobal, args: PyValue[]) => PyValue;
  persistentLoad: (pid: PyValue) => PyValue;
}

const MAX_MEMO = 10_000_000;

class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly where: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): void {
    if (n < 0 || this.pos + n > this.bytes.byteLength)
      throw new FormatError(`${this.where}: pickle truncated at byte ${this.pos}`);
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`${this.where}: length ${v} is impossible`);
    return Number(v);
  }
  f64be(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }
  take(n: number): Uint8Array {
    this.need(n);
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw new FormatError(`${this.where}: pickle truncated inside a text argument`);
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: false });
const latin1 = new TextDecoder("latin1");

function longFromBytes(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * A pickle VM for the opcodes torch.save and torch.jit.save emit (protocols 2–5). It never imports or executes
 * anything: GLOBAL only resolves names from `hooks.globals` and `hooks.records`, REDUCE only calls `hooks.call`, NEWOBJ
 * only makes PyRecords of `hooks.records` classes, and INST/OBJ/EXT are refused.
 */
export function unpickle(bytes: Uint8Array, hooks: UnpickleHooks, where = "pickle"): PyValue {
  const r = new Reader(bytes, where);
  const stack: PyValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  const pop = (): PyValue => {
    if (stack.length === 0 || stack.length === marks[marks.length - 1])
      throw new FormatError(`${where}: pickle stack underflow at byte ${r.pos}`);
    return stack.pop();
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) throw new FormatError(`${where}: pickle has no MARK at byte ${r.pos}`);
    return stack.splice(m);
  };
  const top = (): PyValue => {
    if (stack.length === 0) throw new FormatError(`${where}: pickle stack underflow at byte ${r.pos}`);
    return stack[stack.length - 1];
  };
  const put = (i: number) => {
    if (memo.size >= MAX_MEMO && !memo.has(i)) throw new FormatError(`${where}: pickle memo too large`);
    memo.set(i, top());
  };
  const get = (i: number) => {
    if (!memo.has(i)) throw new FormatError(`${where}: pickle refers to missing memo entry ${i}`);
    stack.push(memo.get(i));
  };
  const global = (module: string, name: string): PyGlobal => {
    const q = `${module}.${name}`;
    if (!hooks.globals.has(q) && !hooks.records?.(module, name)) {
      throw new UnsafePickleError(
        `${where}: the pickle references '${q}', which is not a tensor or container type; refusing to load it (a checkpoint ` +
          "should hold only tensors, dicts, lists and numbers; this could be an attempt to run code)",
      );
    }
    return new PyGlobal(module, name);
  };
  const setItems = (dict: PyValue, kv: PyValue[]) => {
    if (!(dict instanceof Map)) throw new FormatError(`${where}: SETITEM on a non-dict`);
    if (kv.length % 2) throw new FormatError(`${where}: odd number of dict items`);
    for (let i = 0; i < kv.length; i += 2) dict.set(kv[i], kv[i + 1]);
  };
  const appendTo = (list: PyValue, items: PyValue[]) => {
    if (!Array.isArray(list)) throw new FormatError(`${where}: APPEND on a non-list`);
    list.push(...items);
  };

  for (;;) {
    const op = r.u8();
    switch (op) {
      case 0x80: // PROTO
        if (r.u8() > 5) throw new FormatError(`${where}: unsupported pickle protocol`);
        break;
      case 0x95: // FRAME
        r.u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1)
          throw new FormatError(`${where}: pickle ended with ${stack.length} values on the stack`);
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4a: // BININT
        stack.push(r.i32());
        break;
      case 0x4b: // BININT1
        stack.push(r.u8());
        break;
      case 0x4d: // BININT2
        stack.push(r.u16());
        break;
      case 0x8a: // LONG1
        stack.push(longFromBytes(r.take(r.u8())));
        break;
      case 0x8b: // LONG4
        stack.push(longFromBytes(r.take(r.u32())));
        break;
      case 0x49: {
        // INT (text): also encodes True/False as 01/00
        const s = r.line();
        stack.push(s === "01" ? true : s === "00" ? false : Number.parseInt(s, 10));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(Number.parseInt(r.line().replace(/L$/, ""), 10));
        break;
      case 0x47: // BINFLOAT
        stack.push(r.f64be());
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number.parseFloat(r.line()));
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(r.take(r.u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(r.take(r.u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(r.take(r.u64())));
        break;
      case 0x54: // BINSTRING
        stack.push(latin1.decode(r.take(r.u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(r.take(r.u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(r.take(r.u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(r.take(r.u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(r.take(r.u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        appendTo(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendTo(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const d = new Map();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push([]);
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        appendTo(top(), items);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(popMark());
        break;
      case 0x63: {
        // GLOBAL
        const module = r.line();
        stack.push(global(module, r.line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string")
          throw new FormatError(`${where}: STACK_GLOBAL needs two strings`);
        stack.push(global(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal))
          throw new UnsafePickleError(`${where}: REDUCE on something that is not an allowed callable`);
        if (!Array.isArray(args)) throw new FormatError(`${where}: REDUCE arguments are not a tuple`);
        stack.push(hooks.call(fn, args));
        break;
      }
      case 0x62: {
        // BUILD: state for an object already constructed; containers keep it aside, nothing is executed.
        const state = pop();
        const obj = top();
        if (obj instanceof PyRecord) {
          if (obj.state !== undefined) throw new FormatError(`${where}: ${obj.cls.qualified} is built twice`);
          obj.state = state;
        } else if (obj instanceof Map) Object.defineProperty(obj, "pickleState", { value: state, enumerable: false });
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      case 0x50: // PERSID
        stack.push(hooks.persistentLoad(r.line()));
        break;
      case 0x68: // BINGET
        get(r.u8());
        break;
      case 0x6a: // LONG_BINGET
        get(r.u32());
        break;
      case 0x67: // GET
        get(Number.parseInt(r.line(), 10));
        break;
      case 0x71: // BINPUT
        put(r.u8());
        break;
      case 0x72: // LONG_BINPUT
        put(r.u32());
        break;
      case 0x70: // PUT
        put(Number.parseInt(r.line(), 10));
        break;
      case 0x94: // MEMOIZE
        put(memo.size);
        break;
      case 0x81: {
        // NEWOBJ: torch.jit.save writes every object as `cls () NEWOBJ state BUILD`; anything else is refused.
        const args = pop();
        const cls = pop();
        if (!(cls instanceof PyGlobal) || !hooks.records?.(cls.module, cls.name)) {
          throw new UnsafePickleError(
            `${where}: pickle opcode NEWOBJ constructs ${cls instanceof PyGlobal ? `'${cls.qualified}'` : "an object"}, ` +
              "which may not be instantiated (only TorchScript archives' __torch__ classes are, as inert records)",
          );
        }
        if (!Array.isArray(args) || args.length > 0)
          throw new FormatError(
            `${where}: ${cls.qualified} is constructed with arguments; TorchScript never does that`,
          );
        stack.push(new PyRecord(cls));
        break;
      }
      case 0x92: // NEWOBJ_EX
      case 0x69: // INST
      case 0x6f: // OBJ
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        throw new UnsafePickleError(
          `${where}: pickle opcode 0x${op.toString(16)} constructs arbitrary objects; refusing to load it`,
        );
      default:
        throw new FormatError(`${where}: unknown pickle opcode 0x${op.toString(16)} at byte ${r.pos - 1}`);
    }
  }
}
