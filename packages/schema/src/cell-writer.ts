/**
 * Encoding cell frames (the layout of entities.ts) with a writer made for them: the FlatBuffers
 * format, written front to back into buffers kept between frames, each entity table's layout and
 * vtable worked out once per (type, fields sent) and written once per frame.
 *
 * A frame is: the root offset; the cell table's vtable and the table (tick, cell, the offsets
 * of its vectors); the leave vectors and one vector of table offsets per entity type; then the
 * entity tables, each after its vtable the first time that layout appears in the frame, each
 * followed by its strings. Offsets all point forward (uoffset), vtables backward (soffset), as
 * any FlatBuffers reader expects; every scalar is aligned to its size (a table with a float64
 * field starts 8-aligned, others 4-aligned).
 * The flatc-generated readers of every language read it (tests: cell-frames.test.ts).
 */
import { CELL_SLOTS, ENTITY_SLOTS, type EntityFieldDef, type EntityValue, type SceneEntitiesDef } from './entities.js';
import { FRAME_HEADER_BYTES, FrameKind } from './wire.js';

/** Where each part of one entity table goes, for one type and one set of fields sent. */
interface TableLayout {
  /** The vtable's bytes. */
  readonly vtable: Uint8Array;
  /** The table's size (its soffset included). */
  readonly size: number;
  /** Its start's alignment: 8 with a float64 field, else 4. */
  readonly align: number;
  /** Offset of the id (int32) and of the enter flag (int8; -1: not sent), from the table's start. */
  readonly idAt: number;
  readonly enterAt: number;
  /** Per field index: its offset in the table, -1 when not sent. */
  readonly fieldAt: Int16Array;
  /** The frame this layout's vtable was last written in, and where (within the entities region). */
  frame: number;
  vtableAt: number;
}

const SIZE_OF: Record<EntityFieldDef['type'], number> = { bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, float64: 8, string: 4 };

function fieldBytes(f: EntityFieldDef): number {
  return f.quantize !== null ? 4 : SIZE_OF[f.type];
}

function tableLayout(fields: readonly EntityFieldDef[], mask: number, enter: boolean): TableLayout {
  // Slots in vtable order; placed largest first after the 4-byte soffset, each aligned to its size.
  const slots: { slot: number; bytes: number }[] = [{ slot: 0, bytes: 4 }];
  if (enter) slots.push({ slot: 1, bytes: 1 });
  for (let f = 0; f < fields.length; f++) if ((mask & (2 ** f)) !== 0) slots.push({ slot: ENTITY_SLOTS + f, bytes: fieldBytes(fields[f]!) });
  const at = new Map<number, number>();
  let cursor = 4;
  for (const s of [...slots].sort((a, b) => b.bytes - a.bytes)) {
    cursor = align(cursor, s.bytes);
    at.set(s.slot, cursor);
    cursor += s.bytes;
  }
  const lastSlot = Math.max(...slots.map((s) => s.slot));
  const vtable = new Uint8Array(4 + 2 * (lastSlot + 1));
  const v = new DataView(vtable.buffer);
  v.setUint16(0, vtable.byteLength, true);
  v.setUint16(2, cursor, true);
  for (const [slot, offset] of at) v.setUint16(4 + 2 * slot, offset, true);
  const fieldAt = new Int16Array(fields.length).fill(-1);
  for (let f = 0; f < fields.length; f++) fieldAt[f] = at.get(ENTITY_SLOTS + f) ?? -1;
  return { vtable, size: cursor, align: slots.some((s) => s.bytes === 8) ? 8 : 4, idAt: at.get(0)!, enterAt: at.get(1) ?? -1, fieldAt, frame: -1, vtableAt: 0 };
}

function align(n: number, to: number): number {
  return (n + to - 1) & -to;
}

/** A growable byte buffer with a DataView over it. */
class Bytes {
  u8 = new Uint8Array(4096);
  view = new DataView(this.u8.buffer);
  length = 0;

  /** Make room for `n` more bytes. */
  reserve(n: number): void {
    if (this.length + n <= this.u8.byteLength) return;
    const grown = new Uint8Array(Math.max(this.u8.byteLength * 2, this.length + n));
    grown.set(this.u8.subarray(0, this.length));
    this.u8 = grown;
    this.view = new DataView(grown.buffer);
  }

  /** Zero-fill up to a multiple of `to`. */
  pad(to: number): void {
    const end = align(this.length, to);
    this.reserve(end - this.length);
    this.u8.fill(0, this.length, end);
    this.length = end;
  }
}

const utf8 = new TextEncoder();

/**
 * Builds cell frames. Per frame: `begin`, any number of `entity` and `leave` calls, then one of
 * the `finish` calls. Values are taken as they are: check them with {@link checkEntityValue}
 * when they are set.
 */
export class CellFrameWriter {
  readonly #def: SceneEntitiesDef;
  /** Per type: its table layouts by `mask * 2 + enter`. */
  readonly #layouts: Map<number, TableLayout>[];
  /** The entity tables of the frame (positions relative to the start of this region). */
  readonly #entities = new Bytes();
  /** The frame as finished: header, vectors, then the entity tables copied after them. */
  readonly #out = new Bytes();
  /** Per type: where its tables start in #entities, and how many this frame has. */
  readonly #tables: number[][];
  readonly #counts: number[];
  readonly #leaves: number[] = [];
  readonly #leaveTo: number[] = [];
  #nLeaves = 0;
  #nEntities = 0;
  /** Whether a table of this frame holds a float64 (its entities then start 8-aligned). */
  #align8 = false;
  #frame = 0;
  #tick = 0;
  #cx = 0;
  #cy = 0;

  constructor(def: SceneEntitiesDef) {
    this.#def = def;
    this.#layouts = def.types.map(() => new Map<number, TableLayout>());
    this.#tables = def.types.map(() => []);
    this.#counts = def.types.map(() => 0);
  }

  /** Entities and leaves added since `begin`. */
  get size(): number {
    return this.#nEntities + this.#nLeaves;
  }

  begin(tick: number, cx: number, cy: number): void {
    this.#frame++;
    this.#entities.length = 0;
    this.#counts.fill(0);
    this.#nLeaves = 0;
    this.#nEntities = 0;
    this.#align8 = false;
    this.#tick = tick >>> 0;
    this.#cx = cx;
    this.#cy = cy;
  }

  /**
   * Add an entity of type index `type`: the fields whose bit is set in `mask` (bit f = field f),
   * read from `values` (by field index). `enter`: the client treats it as new to the cell.
   */
  entity(type: number, id: number, enter: boolean, mask: number, values: readonly EntityValue[]): void {
    const fields = this.#def.types[type]!.fields;
    const layouts = this.#layouts[type]!;
    const key = mask * 2 + (enter ? 1 : 0);
    let layout = layouts.get(key);
    if (layout === undefined) layouts.set(key, (layout = tableLayout(fields, mask, enter)));
    const b = this.#entities;
    if (layout.frame !== this.#frame) {
      // First table of this layout in the frame: its vtable goes just before it.
      b.pad(2);
      b.reserve(layout.vtable.byteLength);
      layout.vtableAt = b.length;
      layout.frame = this.#frame;
      b.u8.set(layout.vtable, b.length);
      b.length += layout.vtable.byteLength;
    }
    b.pad(layout.align);
    if (layout.align === 8) this.#align8 = true;
    b.reserve(layout.size);
    const at = b.length;
    const u8 = b.u8;
    u8.fill(0, at, at + layout.size);
    b.view.setInt32(at, at - layout.vtableAt, true);
    b.view.setInt32(at + layout.idAt, id, true);
    if (layout.enterAt >= 0) u8[at + layout.enterAt] = 1;
    b.length = at + layout.size;
    const fieldAt = layout.fieldAt;
    // A string field may grow the buffer: every write below reads b.u8 and b.view afresh.
    for (let f = 0; f < fields.length; f++) {
      const off = fieldAt[f]!;
      if (off < 0) continue;
      const field = fields[f]!;
      const p = at + off;
      const v = values[f]!;
      if (field.quantize !== null) {
        b.view.setInt32(p, Math.round((v as number) / field.quantize), true);
        continue;
      }
      switch (field.type) {
        case 'bool':
          b.u8[p] = v === true ? 1 : 0;
          break;
        case 'int8':
        case 'uint8':
          b.u8[p] = (v as number) & 0xff;
          break;
        case 'int16':
        case 'uint16':
          b.view.setInt16(p, v as number, true);
          break;
        case 'int32':
        case 'uint32':
          b.view.setInt32(p, v as number, true);
          break;
        case 'float32':
          b.view.setFloat32(p, v as number, true);
          break;
        case 'float64':
          b.view.setFloat64(p, v as number, true);
          break;
        case 'string':
          this.#string(p, v as string);
          break;
      }
    }
    const tables = this.#tables[type]!;
    tables[this.#counts[type]!] = at;
    this.#counts[type]!++;
    this.#nEntities++;
  }

  /** A string after the table, its offset stored at `field` (a position in the entities region). */
  #string(field: number, s: string): void {
    const b = this.#entities;
    b.pad(4);
    b.reserve(4 + s.length * 3 + 1);
    const at = b.length;
    const { written } = utf8.encodeInto(s, b.u8.subarray(at + 4));
    b.view.setUint32(at, written, true);
    b.u8[at + 4 + written] = 0;
    b.length = at + 4 + written + 1;
    b.view.setUint32(field, at - field, true);
  }

  /** Entity `id` left this cell for `to` (a packed cell), or left the scene (CELL_GONE). */
  leave(id: number, to: number): void {
    this.#leaves[this.#nLeaves] = id >>> 0;
    this.#leaveTo[this.#nLeaves] = to >>> 0;
    this.#nLeaves++;
  }

  /** The frame's FlatBuffer bytes (a copy). */
  finish(): Uint8Array {
    return this.#build(0).slice();
  }

  /** The frame's FlatBuffer bytes, not copied: a view valid until the next `begin`. */
  finishView(): Uint8Array {
    return this.#build(0);
  }

  /**
   * The frame as a whole client PUSH frame with opcode `push` (the 8-byte header of wire.ts,
   * then the FlatBuffer): one allocation and one copy.
   */
  finishPush(push: number): Uint8Array {
    const body = this.#build(FRAME_HEADER_BYTES);
    const frame = this.#out.u8.slice(0, FRAME_HEADER_BYTES + body.byteLength);
    frame.fill(0, 0, FRAME_HEADER_BYTES);
    frame[0] = FrameKind.PUSH;
    frame[2] = push & 0xff;
    frame[3] = (push >>> 8) & 0xff;
    return frame;
  }

  /** Write the frame into #out from byte `base` on (room for a frame header before it); returns a view of the FlatBuffer. */
  #build(base: number): Uint8Array {
    const nTypes = this.#counts.length;
    const o = this.#out;
    o.length = 0;
    o.reserve(base);
    o.length = base;
    // Positions below are relative to the FlatBuffer's start (`base`): alignment is relative to it too.
    const cellVtable = 4;
    // tick, cx, cy, then one uoffset per vector present; the vtable ends at the last slot present.
    const hasLeaves = this.#nLeaves > 0;
    let tableBytes = 12;
    const vectorSlot: number[] = [];
    if (hasLeaves) vectorSlot.push(3, 4);
    for (let t = 0; t < nTypes; t++) if (this.#counts[t]! > 0) vectorSlot.push(CELL_SLOTS + t);
    const nSlots = (vectorSlot.at(-1) ?? 2) + 1;
    const vtableBytes = 4 + 2 * nSlots;
    const table = align(cellVtable + vtableBytes, 4);
    tableBytes += 4 * vectorSlot.length;
    let cursor = table + tableBytes;
    const vectorAt: number[] = [];
    for (const slot of vectorSlot) {
      vectorAt.push(cursor);
      const n = slot === 3 || slot === 4 ? this.#nLeaves : this.#counts[slot - CELL_SLOTS]!;
      cursor += 4 + 4 * n;
    }
    // Entity tables keep the alignment they were written with: 8 when one holds a float64.
    const entitiesAt = align(cursor, this.#align8 ? 8 : 4);
    const total = entitiesAt + this.#entities.length;
    o.reserve(total);
    const u8 = o.u8;
    const view = o.view;
    u8.fill(0, base, base + entitiesAt);
    view.setUint32(base, table, true);
    view.setUint16(base + cellVtable, vtableBytes, true);
    view.setUint16(base + cellVtable + 2, tableBytes, true);
    view.setUint16(base + cellVtable + 4, 4, true);
    view.setUint16(base + cellVtable + 6, 8, true);
    view.setUint16(base + cellVtable + 8, 10, true);
    view.setInt32(base + table, table - cellVtable, true);
    view.setUint32(base + table + 4, this.#tick, true);
    view.setInt16(base + table + 8, this.#cx, true);
    view.setInt16(base + table + 10, this.#cy, true);
    for (let i = 0; i < vectorSlot.length; i++) {
      const slot = vectorSlot[i]!;
      const field = table + 12 + 4 * i;
      view.setUint16(base + cellVtable + 4 + 2 * slot, 12 + 4 * i, true);
      view.setUint32(base + field, vectorAt[i]! - field, true);
      const vec = vectorAt[i]!;
      if (slot === 3 || slot === 4) {
        const values = slot === 3 ? this.#leaves : this.#leaveTo;
        view.setUint32(base + vec, this.#nLeaves, true);
        for (let k = 0; k < this.#nLeaves; k++) view.setUint32(base + vec + 4 + 4 * k, values[k]!, true);
        continue;
      }
      const type = slot - CELL_SLOTS;
      const n = this.#counts[type]!;
      const tables = this.#tables[type]!;
      view.setUint32(base + vec, n, true);
      for (let k = 0; k < n; k++) {
        const element = vec + 4 + 4 * k;
        view.setUint32(base + element, entitiesAt + tables[k]! - element, true);
      }
    }
    u8.set(this.#entities.u8.subarray(0, this.#entities.length), base + entitiesAt);
    o.length = base + total;
    return u8.subarray(base, base + total);
  }
}
