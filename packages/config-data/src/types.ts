/**
 * The sheet conventions (GOS gen_excels, docs/config-data.md): a table sheet has a description
 * row, a type row, a field-name row and a side row, then data rows; a `global…` sheet holds one
 * named value a row. This file says what a column type is and how a cell reads as one.
 */

/** Who a column is exported for. */
export type Side = 'server' | 'client' | 'both';

export type ScalarKind = 'int' | 'double' | 'string' | 'bool' | 'json';

/** A column's type, from the type row: `int`, `double`, `string`, `bool`, `json`, `ref:<Sheet>`, each optionally `[]` (a list, cells split on `|`) or `?` (may be empty: null). */
export interface ColumnType {
  readonly kind: ScalarKind | 'ref';
  /** The sheet a `ref:` points at (its `id` column). */
  readonly ref: string | null;
  readonly list: boolean;
  readonly optional: boolean;
  /** As written in the sheet. */
  readonly text: string;
}

const TYPE = /^(int|double|string|bool|json|ref:([A-Za-z][A-Za-z0-9_]*))(\[\])?(\?)?$/;

/** @returns null when `text` is not a type */
export function parseType(text: string): ColumnType | null {
  const m = TYPE.exec(text.trim());
  if (m === null) return null;
  const ref = m[2] ?? null;
  return { kind: ref === null ? (m[1] as ScalarKind) : 'ref', ref, list: m[3] !== undefined, optional: m[4] !== undefined, text: text.trim() };
}

export function parseSide(text: string): Side | null {
  const t = text.trim().toLowerCase();
  if (t === 'server' || t === 's') return 'server';
  if (t === 'client' || t === 'c') return 'client';
  if (t === 'both' || t === 'sc' || t === 'cs' || t === 'all') return 'both';
  return null;
}

/** A cell, as the converter sees it: exceljs's value reduced to a primitive (formulas give their result, rich text its text). */
export type CellValue = string | number | boolean | null;

/** A value of a column (refs are checked later, against the sheets read). */
export type Value = string | number | boolean | null | unknown[] | Record<string, unknown>;

/** What read-workbook.ts makes of a formula with no usable result (the rest of the text says why). */
export const FORMULA_ERROR = '\u0000formula:';

const TRUE = new Set(['true', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'no', 'n', '0']);

/** Read one cell as `type`; a string is the problem when it cannot. `refKind` is the id kind of a ref's target sheet. */
export function readCell(cell: CellValue, type: ColumnType, refKind: 'int' | 'string' | null): { value: Value } | string {
  // A formula that failed, or one saved without its computed value: never a value, whatever the type.
  if (typeof cell === 'string' && cell.startsWith(FORMULA_ERROR)) return cell.slice(FORMULA_ERROR.length);
  const empty = cell === null || (typeof cell === 'string' && cell.trim() === '');
  if (type.list) {
    if (empty) return { value: [] };
    const parts = String(cell).split('|').map((p) => p.trim());
    const out: unknown[] = [];
    for (const [i, part] of parts.entries()) {
      const one = scalar(part, type, refKind);
      if (typeof one === 'string') return `item ${i + 1} of the list: ${one}`;
      out.push(one.value);
    }
    return { value: out };
  }
  if (empty) {
    if (type.optional) return { value: null };
    if (type.kind === 'string') return { value: '' };
    return `empty, and the type ${type.text} is not optional (add ?)`;
  }
  return scalar(cell, type, refKind);
}

function scalar(cell: CellValue, type: ColumnType, refKind: 'int' | 'string' | null): { value: Value } | string {
  const kind = type.kind === 'ref' ? (refKind ?? 'string') : type.kind;
  const text = typeof cell === 'string' ? cell.trim() : String(cell);
  switch (kind) {
    case 'int': {
      const n = typeof cell === 'number' ? cell : /^-?\d+$/.test(text) ? Number(text) : NaN;
      return Number.isSafeInteger(n) ? { value: n } : `not an int: ${JSON.stringify(text).slice(0, 60)}`;
    }
    case 'double': {
      const n = typeof cell === 'number' ? cell : text === '' ? NaN : Number(text);
      return Number.isFinite(n) ? { value: n } : `not a number: ${JSON.stringify(text).slice(0, 60)}`;
    }
    case 'bool': {
      if (typeof cell === 'boolean') return { value: cell };
      const t = text.toLowerCase();
      return TRUE.has(t) ? { value: true } : FALSE.has(t) ? { value: false } : `not a bool (true/false, yes/no, 1/0): ${JSON.stringify(text).slice(0, 60)}`;
    }
    case 'json': {
      try {
        return { value: JSON.parse(text) as Value };
      } catch (err) {
        return `not JSON: ${(err as Error).message}`;
      }
    }
    case 'string':
      return { value: typeof cell === 'string' ? cell : text };
  }
}
