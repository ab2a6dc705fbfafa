/**
 * Sheets → checked tables and bundles. Every problem is collected (not just the first), each
 * naming `file:sheet:row:column` and what is wrong; bundles are made only when there is none.
 */
import { createHash } from 'node:crypto';
import type { RawSheet } from './read-workbook.js';
import { parseSide, parseType, readCell, type CellValue, type ColumnType, type Side, type Value } from './types.js';

export interface ConfigProblem {
  readonly file: string;
  readonly sheet: string;
  /** 1-based, as the spreadsheet shows it; null for the sheet as a whole. */
  readonly row: number | null;
  /** A letter (A, B, … AA), null for a whole row or sheet. */
  readonly column: string | null;
  readonly message: string;
}

export function formatProblem(p: ConfigProblem): string {
  return `${[p.file, p.sheet, ...(p.row === null ? [] : [String(p.row)]), ...(p.column === null ? [] : [p.column])].join(':')}: ${p.message}`;
}

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  readonly side: Side;
  readonly description: string;
  /** 0-based column index. */
  readonly index: number;
}

export interface TableSheet {
  readonly kind: 'table';
  readonly file: string;
  readonly name: string;
  readonly columns: readonly Column[];
  readonly rows: ReadonlyArray<{ readonly row: number; readonly values: Readonly<Record<string, Value>> }>;
}

export interface GlobalEntry {
  readonly key: string;
  readonly type: ColumnType;
  readonly side: Side;
  readonly description: string;
  readonly value: Value;
  readonly row: number;
}

export interface GlobalSheet {
  readonly kind: 'globals';
  readonly file: string;
  readonly name: string;
  readonly entries: readonly GlobalEntry[];
}

/** The format of the JSON bundles (`format` in each). */
export const BUNDLE_FORMAT = 1;

/** What a server or client loads: every table's rows (only that side's columns) and the global values. */
export interface ConfigBundle {
  readonly format: typeof BUNDLE_FORMAT;
  /** A hash of the content: the same sheets give the same version. */
  readonly version: string;
  readonly side: 'server' | 'client';
  readonly tables: Readonly<Record<string, ReadonlyArray<Readonly<Record<string, Value>>>>>;
  readonly globals: Readonly<Record<string, Value>>;
}

export interface ConvertResult {
  readonly problems: readonly ConfigProblem[];
  readonly tables: readonly TableSheet[];
  readonly globals: readonly GlobalSheet[];
  /** null when there are problems. */
  readonly server: ConfigBundle | null;
  readonly client: ConfigBundle | null;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names the generated TypeScript cannot take for a table: its own declarations, Config's members, reserved words. */
const RESERVED_SHEETS = new Set([
  'Config', 'ConfigTable', 'ConfigBundle', 'Globals', 'loadConfig', 'configOf', 'version', 'globals', 'constructor',
  // Globals the generated code uses.
  'Map', 'Object', 'Array', 'Error', 'String', 'Number', 'JSON',
  ...'break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await'.split(' '),
]);
const SHEET = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Rows before the data of a table sheet: description, type, field name, side. */
const HEADER_ROWS = 4;

export function columnLetter(index: number): string {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

const text = (v: CellValue | undefined): string => (v === null || v === undefined ? '' : String(v).trim());
const isBlank = (row: readonly CellValue[] | undefined): boolean => row === undefined || row.every((c) => text(c) === '');
const isComment = (row: readonly CellValue[]): boolean => text(row[0]).startsWith('#');

export function convertSheets(raw: readonly RawSheet[]): ConvertResult {
  const problems: ConfigProblem[] = [];
  const problem = (sheet: RawSheet, row: number | null, column: number | null, message: string): void => {
    problems.push({ file: sheet.file, sheet: sheet.name, row, column: column === null ? null : columnLetter(column), message });
  };
  const seen = new Map<string, RawSheet>();
  const tableSheets: RawSheet[] = [];
  const globalSheets: RawSheet[] = [];
  for (const sheet of raw) {
    if (sheet.name.startsWith('#')) continue;
    if (!SHEET.test(sheet.name)) {
      problem(sheet, null, null, 'a sheet name is a letter and then letters, digits or _ (it names a table); start it with # to leave the sheet out');
      continue;
    }
    const isGlobal = /^global/i.test(sheet.name);
    if (!isGlobal && RESERVED_SHEETS.has(sheet.name)) {
      problem(sheet, null, null, `${sheet.name} cannot name a table (the generated TypeScript uses it); rename the sheet`);
      continue;
    }
    const other = seen.get(sheet.name.toLowerCase());
    if (other !== undefined) {
      problem(sheet, null, null, `another sheet is named ${other.name} (in ${other.file}): sheet names are unique, ignoring case`);
      continue;
    }
    seen.set(sheet.name.toLowerCase(), sheet);
    (isGlobal ? globalSheets : tableSheets).push(sheet);
  }

  // Headers first: a ref's cells read as its target's id type.
  const headers = new Map<string, { sheet: RawSheet; columns: Column[] }>();
  for (const sheet of tableSheets) {
    const columns = readHeader(sheet, (row, column, message) => problem(sheet, row, column, message));
    if (columns !== null) headers.set(sheet.name, { sheet, columns });
  }
  const idKind = (name: string): 'int' | 'string' | null => {
    const id = headers.get(name)?.columns[0];
    return id === undefined ? null : id.type.kind === 'int' ? 'int' : 'string';
  };
  for (const { sheet, columns } of headers.values()) {
    for (const c of columns) {
      if (c.type.ref !== null && !headers.has(c.type.ref)) problem(sheet, 2, c.index, `${c.type.text}: there is no table sheet ${c.type.ref}${globalSheets.some((g) => g.name === c.type.ref) ? ' (a global sheet has no ids)' : ''}`);
    }
  }

  const tables: TableSheet[] = [];
  const ids = new Map<string, Set<string | number>>();
  for (const { sheet, columns } of headers.values()) {
    const rows: Array<{ row: number; values: Record<string, Value> }> = [];
    const seenIds = new Map<string | number, number>();
    for (let r = HEADER_ROWS; r < sheet.rows.length; r++) {
      const cells = sheet.rows[r]!;
      if (isBlank(cells) || isComment(cells)) continue;
      const values: Record<string, Value> = {};
      let ok = true;
      for (const c of columns) {
        const read = readCell(cells[c.index] ?? null, c.type, c.type.ref === null ? null : idKind(c.type.ref));
        if (typeof read === 'string') {
          problem(sheet, r + 1, c.index, `${c.name} (${c.type.text}): ${read}`);
          ok = false;
        } else values[c.name] = read.value;
      }
      if (!ok) continue;
      const id = values['id'];
      if (typeof id !== 'number' && typeof id !== 'string') continue;
      if (id === '') {
        problem(sheet, r + 1, 0, 'the id is empty');
        continue;
      }
      const first = seenIds.get(id);
      if (first !== undefined) {
        problem(sheet, r + 1, 0, `duplicate id ${JSON.stringify(id)} (first on row ${first})`);
        continue;
      }
      seenIds.set(id, r + 1);
      rows.push({ row: r + 1, values });
    }
    ids.set(sheet.name, new Set(seenIds.keys()));
    tables.push({ kind: 'table', file: sheet.file, name: sheet.name, columns, rows });
  }

  // References: every id named must be a row of its sheet.
  for (const t of tables) {
    const sheet = headers.get(t.name)!.sheet;
    for (const c of t.columns) {
      if (c.type.ref === null) continue;
      const targets = ids.get(c.type.ref);
      if (targets === undefined) continue;
      for (const { row, values } of t.rows) {
        const v = values[c.name];
        for (const id of Array.isArray(v) ? v : [v]) {
          if (id === null) continue;
          if ((typeof id === 'string' || typeof id === 'number') && targets.has(id)) continue;
          problem(sheet, row, c.index, `${c.name}: no ${c.type.ref} has id ${JSON.stringify(id)} (a dangling reference)`);
        }
      }
    }
  }

  const globals = globalSheets.map((sheet) => readGlobals(sheet, (row, column, message) => problem(sheet, row, column, message)));
  const seenKeys = new Map<string, string>();
  for (const g of globals) {
    for (const e of g.entries) {
      const other = seenKeys.get(e.key);
      if (other !== undefined) problems.push({ file: g.file, sheet: g.name, row: e.row, column: 'A', message: `global ${e.key} is also defined in ${other}` });
      else seenKeys.set(e.key, g.name);
    }
  }

  if (problems.length > 0) return { problems, tables, globals, server: null, client: null };
  return { problems, tables, globals, server: bundle('server', tables, globals), client: bundle('client', tables, globals) };
}

function readHeader(sheet: RawSheet, problem: (row: number, column: number | null, message: string) => void): Column[] | null {
  if (sheet.rows.length < HEADER_ROWS) {
    problem(1, null, 'a table sheet starts with four rows: description, type, field name, side (server, client or both)');
    return null;
  }
  const [descriptions, types, names, sides] = [sheet.rows[0]!, sheet.rows[1]!, sheet.rows[2]!, sheet.rows[3]!];
  const width = Math.max(types.length, names.length, sides.length);
  const columns: Column[] = [];
  const seen = new Set<string>();
  for (let c = 0; c < width; c++) {
    const name = text(names[c]);
    if (name === '') {
      if (text(types[c]) !== '') problem(3, c, 'a column with a type needs a field name');
      continue;
    }
    if (!IDENT.test(name)) {
      problem(3, c, `field name ${JSON.stringify(name)} is not an identifier (letters, digits, _; not starting with a digit)`);
      continue;
    }
    if (seen.has(name)) {
      problem(3, c, `field ${name} appears twice`);
      continue;
    }
    seen.add(name);
    const type = parseType(text(types[c]));
    if (type === null) {
      problem(2, c, `unknown type ${JSON.stringify(text(types[c]))} (int, double, string, bool, json, ref:<Sheet>, each with [] for a list or ? for optional)`);
      continue;
    }
    const sideText = text(sides[c]);
    // No side: a designer's column, exported nowhere.
    if (sideText === '') continue;
    const side = parseSide(sideText);
    if (side === null) {
      problem(4, c, `unknown side ${JSON.stringify(sideText)} (server, client or both; empty leaves the column out)`);
      continue;
    }
    columns.push({ name, type, side, description: text(descriptions[c]), index: c });
  }
  const id = columns[0];
  if (id === undefined || id.name !== 'id' || id.index !== 0) {
    problem(3, 0, 'the first column of a table sheet is its id (field name id)');
    return null;
  }
  if ((id.type.kind !== 'int' && id.type.kind !== 'string') || id.type.list || id.type.optional) {
    problem(2, 0, `the id is an int or a string, not ${id.type.text}`);
    return null;
  }
  return columns;
}

/** A `global…` sheet: a header row, then one value a row: key, type, side, value, description. */
function readGlobals(sheet: RawSheet, problem: (row: number, column: number | null, message: string) => void): GlobalSheet {
  const entries: GlobalEntry[] = [];
  for (let r = 1; r < sheet.rows.length; r++) {
    const cells = sheet.rows[r]!;
    if (isBlank(cells) || isComment(cells)) continue;
    const key = text(cells[0]);
    if (!IDENT.test(key)) {
      problem(r + 1, 0, `global name ${JSON.stringify(key)} is not an identifier`);
      continue;
    }
    const type = parseType(text(cells[1]));
    if (type === null || type.ref !== null) {
      problem(r + 1, 1, `unknown type ${JSON.stringify(text(cells[1]))} for a global (int, double, string, bool, json, with [] or ?)`);
      continue;
    }
    const side = parseSide(text(cells[2]));
    if (side === null) {
      problem(r + 1, 2, `unknown side ${JSON.stringify(text(cells[2]))} (server, client or both)`);
      continue;
    }
    const read = readCell(cells[3] ?? null, type, null);
    if (typeof read === 'string') {
      problem(r + 1, 3, `${key} (${type.text}): ${read}`);
      continue;
    }
    entries.push({ key, type, side, description: text(cells[4]), value: read.value, row: r + 1 });
  }
  return { kind: 'globals', file: sheet.file, name: sheet.name, entries };
}

const onSide = (side: Side, want: 'server' | 'client'): boolean => side === 'both' || side === want;

/** The tables and globals one side sees. */
export function sideView(side: 'server' | 'client', tables: readonly TableSheet[], globals: readonly GlobalSheet[]): { tables: TableSheet[]; globals: GlobalEntry[] } {
  const t = tables
    .map((table) => ({ ...table, columns: table.columns.filter((c, i) => i === 0 || onSide(c.side, side)) }))
    .filter((table) => table.columns.length > 1 || onSide(table.columns[0]!.side, side));
  return { tables: t, globals: globals.flatMap((g) => g.entries.filter((e) => onSide(e.side, side))) };
}

function bundle(side: 'server' | 'client', all: readonly TableSheet[], allGlobals: readonly GlobalSheet[]): ConfigBundle {
  const { tables, globals } = sideView(side, all, allGlobals);
  const content = {
    tables: Object.fromEntries(tables.map((t) => [t.name, t.rows.map((r) => Object.fromEntries(t.columns.map((c) => [c.name, r.values[c.name] ?? null])))])),
    globals: Object.fromEntries(globals.map((g) => [g.key, g.value])),
  };
  const version = createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16);
  return { format: BUNDLE_FORMAT, version, side, ...content };
}
