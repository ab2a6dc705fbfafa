/**
 * Runtime support for generated protocol modules (`gos-gen` output). Browser-safe: no Node APIs.
 *
 * FlatBuffers' JS runtime has no verifier: its accessors read out of range as `undefined`/garbage
 * instead of throwing. {@link verifyRoot} walks a buffer once before decoding, checking every
 * offset the generated decoder will follow against the buffer's bounds, like flatc's C++
 * `Verifier`. It mirrors the JS runtime's reads exactly (signed 16-bit vtable entries, signed
 * 32-bit offsets) so that what is checked is what is read.
 */
import { Builder, ByteBuffer, type Offset } from 'flatbuffers';
import { CodedError, ErrorCodes } from './errors.js';
import type { Codec } from './protocol.js';

export { CodedError, ErrorCodes } from './errors.js';
export type { Codec, RouteDef, PushDef, Protocol, RpcDef } from './protocol.js';
// Generated modules with an `entities:` section use these (cycle-safe: cell-reader.ts uses this module only inside functions).
export { cellCodec } from './cell-reader.js';
export type { CellFrame, SceneEntitiesDef } from './entities.js';

/** Size in bytes of a scalar field or of a scalar vector's element. */
export type ScalarSize = 1 | 2 | 4 | 8;

/**
 * How a table field is laid out, in vtable order. `table`/`tables` refer to the shape lazily so
 * that shapes can refer to each other (and to themselves, through vectors).
 */
export type FieldShape =
  | readonly ['scalar', ScalarSize]
  | readonly ['string']
  | readonly ['vector', ScalarSize]
  | readonly ['strings']
  | readonly ['table', () => TableShape]
  | readonly ['tables', () => TableShape];

export type TableShape = readonly FieldShape[];

/** The smallest valid buffer: a root offset and a table's vtable offset. */
export const MIN_BUFFER_BYTES = 8;
/** Deepest table nesting a buffer may have. */
export const MAX_TABLE_DEPTH = 64;
/** First buffer size of an encode; the builder doubles it as needed. */
const INITIAL_BUILDER_BYTES = 256;
/** A codec keeps its builder between encodes up to this size (a larger one was for a rare large value). */
const MAX_KEPT_BUILDER_BYTES = 64 * 1024;
/** The JS runtime reads vtable entries as int16: larger values would be read negative. */
const MAX_VOFFSET = 0x7fff;
/** Throws on bytes that are not UTF-8, where flatc's runtime would silently substitute U+FFFD. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The coded error every decode failure becomes. */
export function badPayload(message: string, detail: string, cause?: unknown): CodedError {
  return new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `bad ${message} payload: ${detail}`, cause === undefined ? undefined : { cause });
}

class VerifyError extends Error {}

const EMPTY_BYTES = new Uint8Array(0);

/** The two fields of flatbuffers' `ByteBuffer` a decode points at its bytes. */
interface ByteBufferFields {
  bytes_: Uint8Array;
  position_: number;
}

function hasByteBufferFields(o: object): o is ByteBufferFields {
  return 'bytes_' in o && 'position_' in o;
}

/**
 * A `ByteBuffer` a decode may borrow instead of making one: flatbuffers' constructor also makes
 * a `TextDecoder`, which costs more than the decode of a small input (a move) and is garbage
 * right after. The runtime (pinned in package.json) keeps its bytes in `bytes_` and its position
 * in `position_`; that is checked once here, and when it is not so every decode makes its own.
 */
class SpareByteBuffer {
  readonly buffer: ByteBuffer;
  readonly #fields: ByteBufferFields;
  /** Lent to a decode (a read that decodes with the same codec gets a buffer of its own). */
  busy = false;

  private constructor(buffer: ByteBuffer, fields: ByteBufferFields) {
    this.buffer = buffer;
    this.#fields = fields;
  }

  /** A spare, or null when this runtime's ByteBuffer does not keep its bytes where expected. */
  static make(): SpareByteBuffer | null {
    const probe = new Uint8Array(MIN_BUFFER_BYTES);
    const buffer = new ByteBuffer(probe);
    const fields: object = buffer;
    if (!hasByteBufferFields(fields) || fields.bytes_ !== probe || fields.position_ !== 0 || buffer.bytes() !== probe) return null;
    fields.bytes_ = EMPTY_BYTES;
    return buffer.bytes() === EMPTY_BYTES ? new SpareByteBuffer(buffer, fields) : null;
  }

  lend(bytes: Uint8Array): ByteBuffer {
    this.busy = true;
    this.#fields.bytes_ = bytes;
    this.#fields.position_ = 0;
    return this.buffer;
  }

  /** Back from its decode: it forgets the bytes (a ring slot, a socket's message). */
  release(): void {
    this.#fields.bytes_ = EMPTY_BYTES;
    this.busy = false;
  }
}

class Verifier {
  #bytes: Uint8Array = EMPTY_BYTES;
  #len = 0;
  /** Objects (tables, strings, vectors) left to visit: bounds the work on hostile DAG-shaped buffers. */
  #budget = 0;
  /** A verification is running on this verifier (only a shape thunk that verifies could see it). */
  busy = false;

  /**
   * Point the verifier at `bytes`. One verifier serves every decode of the thread: reads go
   * through the bytes themselves (as flatbuffers' ByteBuffer does), not a DataView made per decode.
   */
  reset(bytes: Uint8Array): void {
    this.#bytes = bytes;
    this.#len = bytes.byteLength;
    this.#budget = Math.max(1024, bytes.byteLength);
  }

  /** Forget the last buffer (a shared ring, a socket's message) once verified. */
  release(): void {
    this.#bytes = EMPTY_BYTES;
    this.#len = 0;
  }

  // Little-endian reads, each after a bounds check of its position.
  #i32(pos: number): number {
    const b = this.#bytes;
    return b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24);
  }

  #u16(pos: number): number {
    const b = this.#bytes;
    return b[pos]! | (b[pos + 1]! << 8);
  }

  root(shape: TableShape): void {
    this.#table(this.#offsetTarget(0, 'root offset'), shape, 1);
  }

  #fail(what: string): never {
    throw new VerifyError(what);
  }

  #spend(n: number): void {
    this.#budget -= n;
    if (this.#budget < 0) this.#fail('too many objects');
  }

  #check(pos: number, size: number, align: number, what: string): void {
    if (pos < 0 || pos + size > this.#len) this.#fail(`${what} out of bounds`);
    if (pos % align !== 0) this.#fail(`${what} misaligned`);
  }

  /** Follow the uoffset at `pos` (read as int32, like the runtime does). */
  #offsetTarget(pos: number, what: string): number {
    this.#check(pos, 4, 4, what);
    const target = pos + this.#i32(pos);
    this.#check(target, 4, 4, `${what} target`);
    return target;
  }

  #table(pos: number, shape: TableShape, depth: number): void {
    if (depth > MAX_TABLE_DEPTH) this.#fail('tables nested too deep');
    this.#spend(1);
    const vtable = pos - this.#i32(pos);
    this.#check(vtable, 4, 2, 'vtable');
    const vtableBytes = this.#u16(vtable);
    const tableBytes = this.#u16(vtable + 2);
    if (vtableBytes < 4 || vtableBytes % 2 !== 0 || vtableBytes > MAX_VOFFSET) this.#fail('bad vtable size');
    this.#check(vtable, vtableBytes, 2, 'vtable');
    if (tableBytes < 4 || tableBytes > MAX_VOFFSET) this.#fail('bad table size');
    this.#check(pos, tableBytes, 4, 'table');
    for (let i = 0; i < shape.length; i++) {
      const slot = 4 + 2 * i;
      if (slot >= vtableBytes) break;
      const voffset = this.#u16(vtable + slot);
      if (voffset === 0) continue;
      const field = shape[i]!;
      const size = field[0] === 'scalar' ? field[1] : 4;
      if (voffset < 4 || voffset > MAX_VOFFSET || voffset + size > tableBytes) this.#fail(`field ${i} outside its table`);
      this.#field(pos + voffset, field, depth);
    }
  }

  #field(pos: number, field: FieldShape, depth: number): void {
    switch (field[0]) {
      case 'scalar':
        this.#check(pos, field[1], field[1], 'scalar field');
        return;
      case 'string':
        this.#string(this.#offsetTarget(pos, 'string offset'));
        return;
      case 'vector':
        this.#vector(this.#offsetTarget(pos, 'vector offset'), field[1]);
        return;
      case 'strings': {
        const [body, n] = this.#vector(this.#offsetTarget(pos, 'vector offset'), 4);
        this.#spend(n);
        for (let k = 0; k < n; k++) this.#string(this.#offsetTarget(body + 4 * k, 'string offset'));
        return;
      }
      case 'table':
        this.#table(this.#offsetTarget(pos, 'table offset'), field[1](), depth + 1);
        return;
      case 'tables': {
        const [body, n] = this.#vector(this.#offsetTarget(pos, 'vector offset'), 4);
        const shape = field[1]();
        for (let k = 0; k < n; k++) this.#table(this.#offsetTarget(body + 4 * k, 'table offset'), shape, depth + 1);
        return;
      }
    }
  }

  /** Check a vector's length and body; return the body's position and the element count. */
  #vector(pos: number, elemBytes: ScalarSize): [number, number] {
    this.#spend(1);
    const n = this.#i32(pos) >>> 0;
    const body = pos + 4;
    if (n * elemBytes > this.#len - body) this.#fail('vector out of bounds');
    if (body % elemBytes !== 0) this.#fail('vector misaligned');
    return [body, n];
  }

  #string(pos: number): void {
    const [body, n] = this.#vector(pos, 1);
    if (body + n >= this.#len || this.#bytes[body + n] !== 0) this.#fail('string not terminated');
    // Most strings (ids, names) are ASCII: a byte loop is cheaper than a decoder call for them.
    const bytes = this.#bytes;
    const end = body + n;
    for (let i = body; i < end; i++) {
      if (bytes[i]! < 0x80) continue;
      // An ASCII prefix ends on a character boundary: the decoder checks the rest.
      try {
        strictUtf8.decode(bytes.subarray(i, end));
      } catch {
        this.#fail('string is not valid UTF-8');
      }
      return;
    }
  }
}

const sharedVerifier = new Verifier();

/**
 * Check that `bytes` is a well-formed FlatBuffer whose root table has `shape`: every offset,
 * vtable, string and vector the decoder will read lies inside the buffer.
 * @throws CodedError `SCH_ERR_BAD_PAYLOAD` naming `message` when it does not.
 */
export function verifyRoot(bytes: Uint8Array, shape: TableShape, message: string): void {
  if (!(bytes instanceof Uint8Array)) throw badPayload(message, 'not a Uint8Array');
  if (bytes.byteLength < MIN_BUFFER_BYTES) throw badPayload(message, `buffer of ${bytes.byteLength} bytes is shorter than ${MIN_BUFFER_BYTES}`);
  const verifier = sharedVerifier.busy ? new Verifier() : sharedVerifier;
  verifier.busy = true;
  verifier.reset(bytes);
  try {
    verifier.root(shape);
  } catch (err) {
    if (err instanceof VerifyError) throw badPayload(message, err.message);
    throw badPayload(message, 'verification failed', err);
  } finally {
    verifier.release();
    verifier.busy = false;
  }
}

/** Read `n` elements through `at`: the shape of every generated vector decode. */
export function readList<T>(n: number, at: (i: number) => T): T[] {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(at(i));
  return out;
}

/**
 * Return `value` when it is one of `values`, the members of enum `name`.
 * @throws CodedError `SCH_ERR_BAD_PAYLOAD` for a value the enum does not define.
 */
export function enumMember<T extends number>(value: number, values: readonly T[], name: string): T {
  if (!(values as readonly number[]).includes(value)) throw badPayload(name, `${value} is not a member of enum ${name}`);
  return value as T;
}

/** Unwrap a value the verifier guarantees is present. */
export function present<T>(value: T | null | undefined, message: string): T {
  if (value === null || value === undefined) throw badPayload(message, 'missing element');
  return value;
}

/** Decode a nested table, or give the message's default when the field is absent. */
export function nested<A, T>(table: A | null, read: (table: A) => T, empty: () => T): T {
  return table === null ? empty() : read(table);
}

/**
 * A {@link Codec} over flatc's generated code: `build` writes the table with flatc's builder
 * functions, `read` turns flatc's accessor object into a plain object. Decode verifies first.
 * Encode and decode both throw `SCH_ERR_BAD_PAYLOAD` (encode: the value does not fit the message).
 */
export function tableCodec<T>(name: string, shape: TableShape, build: (b: Builder, value: T) => Offset, read: (bb: ByteBuffer) => T): Codec<T> {
  // One builder per codec, cleared for each encode: a new Builder costs a buffer, a TextEncoder
  // and a TextDecoder (flatbuffers' ByteBuffer makes one each), on every frame of a hot route.
  // The encoded bytes are copied out, so the builder is free again when encode returns; an
  // encode that re-enters this codec (a build calling encode) gets a builder of its own.
  let shared: Builder | null = null;
  const spare = SpareByteBuffer.make();
  return Object.freeze({
    name,
    encode(value: T): Uint8Array {
      const b = shared ?? new Builder(INITIAL_BUILDER_BYTES);
      shared = null;
      b.clear();
      try {
        b.finish(build(b, value));
        return b.asUint8Array().slice();
      } catch (err) {
        throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `cannot encode ${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      } finally {
        // A builder grown past the usual size by one large value is not kept.
        if (b.dataBuffer().capacity() <= MAX_KEPT_BUILDER_BYTES) shared = b;
      }
    },
    decode(bytes: Uint8Array): T {
      verifyRoot(bytes, shape, name);
      const lent = spare !== null && !spare.busy ? spare : null;
      try {
        return read(lent === null ? new ByteBuffer(bytes) : lent.lend(bytes));
      } catch (err) {
        if (err instanceof CodedError) throw err;
        throw badPayload(name, err instanceof Error ? err.message : String(err), err);
      } finally {
        lent?.release();
      }
    },
  });
}
