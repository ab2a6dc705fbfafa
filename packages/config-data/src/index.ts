export { convertSheets, formatProblem, columnLetter, BUNDLE_FORMAT } from './convert.js';
export type { ConfigBundle, ConfigProblem, ConvertResult, TableSheet, GlobalSheet, Column, GlobalEntry } from './convert.js';
export { readWorkbooks, cellValue } from './read-workbook.js';
export type { RawSheet } from './read-workbook.js';
export { emitTypeScript } from './emit-ts.js';
export { convertFolder } from './folder.js';
export type { ConvertFolderOptions, ConvertFolderResult } from './folder.js';
