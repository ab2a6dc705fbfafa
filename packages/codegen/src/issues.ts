/**
 * Where a problem is in the protocol YAML, and the list of problems: all are gathered, then
 * reported at once in file and line order.
 */
import type { LineCounter, Node } from 'yaml';
import { CodedError, ErrorCodes } from '@gos/schema';

export interface FileCtx {
  readonly path: string;
  readonly lc: LineCounter;
}

export interface Where {
  readonly file: FileCtx;
  readonly node: Node | null;
  readonly path: string;
}

export class Issues {
  readonly #list: { readonly file: string; readonly offset: number; readonly text: string }[] = [];

  add(where: Where, message: string): void {
    const text = `${locate(where)}: ${where.path === '' ? '' : `${where.path}: `}${message}`;
    this.#list.push({ file: where.file.path, offset: where.node?.range?.[0] ?? 0, text });
  }

  /** A problem the YAML parser found, already located. */
  addAt(file: string, offset: number, text: string): void {
    this.#list.push({ file, offset, text });
  }

  /** @throws CodedError `SCH_ERR_BAD_YAML` listing every problem in file and line order. */
  throwIfAny(): void {
    const n = this.#list.length;
    if (n === 0) return;
    const sorted = [...this.#list].sort((a, b) => (a.file === b.file ? a.offset - b.offset : a.file < b.file ? -1 : 1));
    throw new CodedError(ErrorCodes.SCH_ERR_BAD_YAML, `${n} problem${n === 1 ? '' : 's'} in protocol YAML:\n  ${sorted.map((i) => i.text).join('\n  ')}`);
  }
}

export function locate(where: Where): string {
  const offset = where.node?.range?.[0] ?? 0;
  const { line, col } = where.file.lc.linePos(offset);
  return `${where.file.path}:${line}:${col}`;
}

export function at(file: FileCtx, node: Node | null, path: string): Where {
  return { file, node, path };
}
