/** Reading `.xlsx` workbooks with exceljs: each worksheet as rows of primitive cells. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { FORMULA_ERROR, type CellValue } from './types.js';

export interface RawSheet {
  /** The workbook's file name (for messages). */
  readonly file: string;
  readonly name: string;
  /** rows[r][c], 0-based; a missing cell is null. Row r is the sheet's row r + 1. */
  readonly rows: readonly (readonly CellValue[])[];
}

/** A cell's value as a primitive: a formula gives its cached result, rich text and hyperlinks their text, a date its ISO text. */
export function cellValue(v: ExcelJS.CellValue): CellValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    if ('richText' in v && Array.isArray(v.richText)) return v.richText.map((t) => t.text).join('');
    if ('formula' in v || 'sharedFormula' in v) {
      if (!('result' in v) || v.result === undefined) return `${FORMULA_ERROR}a formula saved without its value (open and save the workbook in a spreadsheet program)`;
      return cellValue(v.result);
    }
    if ('text' in v && typeof v.text === 'string') return v.text;
    if ('error' in v) return `${FORMULA_ERROR}the cell is an error (${String(v.error)})`;
  }
  return String(v);
}

/** Every worksheet of every `.xlsx` in `dir` (not `~$` lock files), by file then sheet order. */
export async function readWorkbooks(dir: string): Promise<RawSheet[]> {
  const files = (await readdir(dir)).filter((f) => f.toLowerCase().endsWith('.xlsx') && !f.startsWith('~$')).sort();
  const sheets: RawSheet[] = [];
  for (const file of files) {
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(join(dir, file));
    for (const ws of book.worksheets) {
      const rows: CellValue[][] = [];
      ws.eachRow({ includeEmpty: true }, (row, n) => {
        const cells: CellValue[] = [];
        row.eachCell({ includeEmpty: true }, (cell, c) => {
          cells[c - 1] = cellValue(cell.value);
        });
        rows[n - 1] = Array.from({ length: cells.length }, (_, i) => cells[i] ?? null);
      });
      sheets.push({ file, name: ws.name, rows: Array.from({ length: rows.length }, (_, i) => rows[i] ?? []) });
    }
  }
  return sheets;
}
