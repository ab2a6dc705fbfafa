/** Encoding cell frames (the layout of entities.ts), with one reused FlatBuffers builder. */
import { Builder, type Offset } from 'flatbuffers';
import { CELL_SLOTS, ENTITY_SLOTS, type EntityValue, type SceneEntitiesDef } from './entities.js';
import { FRAME_HEADER_BYTES, FrameKind } from './wire.js';

/**
 * Builds cell frames, reusing one FlatBuffers builder. Per frame: `begin`, any number of
 * `entity` and `leave` calls, then `finish`, which returns a copy of the frame's bytes.
 * Values are taken as they are: check them with {@link checkEntityValue} when they are set.
 */
export class CellFrameWriter {
  readonly #def: SceneEntitiesDef;
  readonly #b = new Builder(1024);
  readonly #byType: Offset[][];
  #leaves: number[] = [];
  #leaveTo: number[] = [];
  #tick = 0;
  #cx = 0;
  #cy = 0;
  #entities = 0;

  constructor(def: SceneEntitiesDef) {
    this.#def = def;
    this.#byType = def.types.map(() => []);
    // Optional scalars: a present field is written even when it equals the type's default.
    this.#b.forceDefaults(true);
  }

  /** Entities and leaves added since `begin`. */
  get size(): number {
    return this.#entities + this.#leaves.length;
  }

  begin(tick: number, cx: number, cy: number): void {
    this.#b.clear();
    // clear() resets it.
    this.#b.forceDefaults(true);
    for (const list of this.#byType) list.length = 0;
    this.#leaves = [];
    this.#leaveTo = [];
    this.#entities = 0;
    this.#tick = tick >>> 0;
    this.#cx = cx;
    this.#cy = cy;
  }

  /**
   * Add an entity of type index `type`: the fields whose bit is set in `mask` (bit f = field f),
   * read from `values` (by field index). `enter`: every field is sent and the client treats it as new to the cell.
   */
  entity(type: number, id: number, enter: boolean, mask: number, values: readonly EntityValue[]): void {
    const b = this.#b;
    const fields = this.#def.types[type]!.fields;
    const strings: Offset[] = [];
    for (let f = 0; f < fields.length; f++) {
      strings.push(fields[f]!.type === 'string' && (mask & (1 << f)) !== 0 ? b.createString(values[f] as string) : 0);
    }
    b.startObject(ENTITY_SLOTS + fields.length);
    b.addFieldInt32(0, id, 0);
    if (enter) b.addFieldInt8(1, 1, 0);
    for (let f = 0; f < fields.length; f++) {
      if ((mask & (1 << f)) === 0) continue;
      const field = fields[f]!;
      const slot = ENTITY_SLOTS + f;
      const v = values[f]!;
      if (field.quantize !== null) {
        b.addFieldInt32(slot, Math.round((v as number) / field.quantize), 0);
        continue;
      }
      switch (field.type) {
        case 'string':
          b.addFieldOffset(slot, strings[f]!, 0);
          break;
        case 'bool':
          b.addFieldInt8(slot, v === true ? 1 : 0, 0);
          break;
        case 'int8':
        case 'uint8':
          b.addFieldInt8(slot, v as number, 0);
          break;
        case 'int16':
        case 'uint16':
          b.addFieldInt16(slot, v as number, 0);
          break;
        case 'int32':
        case 'uint32':
          b.addFieldInt32(slot, v as number, 0);
          break;
        case 'float32':
          b.addFieldFloat32(slot, v as number, 0);
          break;
        case 'float64':
          b.addFieldFloat64(slot, v as number, 0);
          break;
      }
    }
    this.#byType[type]!.push(b.endObject());
    this.#entities++;
  }

  /** Entity `id` left this cell for `to` (a packed cell), or left the scene (CELL_GONE). */
  leave(id: number, to: number): void {
    this.#leaves.push(id >>> 0);
    this.#leaveTo.push(to >>> 0);
  }

  /** The frame's FlatBuffer bytes (a copy). */
  finish(): Uint8Array {
    return this.#build().slice();
  }

  /**
   * The frame as a whole client PUSH frame with opcode `push` (the 8-byte header of wire.ts,
   * then the FlatBuffer): one allocation and one copy.
   */
  finishPush(push: number): Uint8Array {
    const body = this.#build();
    const out = new Uint8Array(FRAME_HEADER_BYTES + body.byteLength);
    out[0] = FrameKind.PUSH;
    out[2] = push & 0xff;
    out[3] = push >>> 8;
    out.set(body, FRAME_HEADER_BYTES);
    return out;
  }

  #build(): Uint8Array {
    const b = this.#b;
    const vectors = this.#byType.map((list) => {
      if (list.length === 0) return 0;
      b.startVector(4, list.length, 4);
      for (let i = list.length - 1; i >= 0; i--) b.addOffset(list[i]!);
      return b.endVector();
    });
    const leaves = this.#leaves.length === 0 ? 0 : this.#u32Vector(this.#leaves);
    const leaveTo = this.#leaveTo.length === 0 ? 0 : this.#u32Vector(this.#leaveTo);
    b.startObject(CELL_SLOTS + vectors.length);
    b.addFieldInt32(0, this.#tick, 0);
    b.addFieldInt16(1, this.#cx, 0);
    b.addFieldInt16(2, this.#cy, 0);
    if (leaves !== 0) b.addFieldOffset(3, leaves, 0);
    if (leaveTo !== 0) b.addFieldOffset(4, leaveTo, 0);
    for (let t = 0; t < vectors.length; t++) if (vectors[t] !== 0) b.addFieldOffset(CELL_SLOTS + t, vectors[t]!, 0);
    b.finish(b.endObject());
    return b.asUint8Array();
  }

  #u32Vector(values: readonly number[]): Offset {
    const b = this.#b;
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]! | 0);
    return b.endVector();
  }
}
