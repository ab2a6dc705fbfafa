/** Test workbooks written with exceljs, laid out as a designer would (docs/config-data.md). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';

type Cell = string | number | boolean | null | { formula: string; result: number } | { richText: Array<{ text: string }> };

/** Write `sheets` (name → rows of cells) as workbook `file` in `dir`. */
export async function writeWorkbook(dir: string, file: string, sheets: Record<string, Cell[][]>): Promise<void> {
  const book = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(sheets)) {
    const ws = book.addWorksheet(name);
    rows.forEach((cells, r) => {
      cells.forEach((v, c) => {
        if (v !== null) ws.getCell(r + 1, c + 1).value = v;
      });
    });
  }
  await book.xlsx.writeFile(join(dir, file));
}

export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'gos-config-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A small game's sheets: items referring to weapons, a global sheet, comments, designer columns. */
export const GAME: Record<string, Record<string, Cell[][]>> = {
  'items.xlsx': {
    Item: [
      ['Item id', 'Name shown', 'Price in gold', 'Stackable', 'Drops from levels', 'Weapon it unlocks', 'Designer note', 'Extra'],
      ['int', 'string', 'int', 'bool', 'int[]', 'ref:Weapon?', 'string', 'json'],
      ['id', 'name', 'price', 'stack', 'levels', 'weapon', 'note', 'extra'],
      ['both', 'both', 'server', 'client', 'server', 'both', '', 'server'],
      [1, 'Potion', 10, true, '1|2|3', null, 'cheap', '{"heal":50}'],
      ['# a comment row', 'ignored'],
      [2, { richText: [{ text: 'Iron ' }, { text: 'Key' }] }, { formula: '5*4', result: 20 }, 'no', null, 'sword', null, '[]'],
      [],
      [3, 'Sword scroll', 100, 'yes', '7', 'sword', 'x', 'null'],
    ],
    '#Notes': [['anything at all', 1, 2]],
  },
  'weapons.xlsx': {
    Weapon: [
      ['Weapon id', 'Damage', 'Tags'],
      ['string', 'double', 'string[]'],
      ['id', 'damage', 'tags'],
      ['both', 'both', 'client'],
      ['sword', 12.5, 'sharp|metal'],
      ['bow', 8, ''],
    ],
    Globals: [
      ['key', 'type', 'side', 'value', 'description'],
      ['maxLevel', 'int', 'both', 60, 'the level cap'],
      ['serverTick', 'int', 'server', 100, 'ms'],
      ['motd', 'string', 'client', 'Welcome!', ''],
      ['# retired', 'int', 'both', 1, ''],
    ],
  },
};
