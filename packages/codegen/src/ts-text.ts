/** Small helpers for writing TypeScript source text. */

export const upper = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
export const lower = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
export const str = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function jsdoc(doc: string | null, indent: string): string[] {
  if (doc === null || doc.trim() === '') return [];
  const lines = doc.trim().replace(/\*\//g, '*\\/').split('\n');
  if (lines.length === 1) return [`${indent}/** ${lines[0]!.trim()} */`];
  return [`${indent}/**`, ...lines.map((l) => `${indent} * ${l.trim()}`.trimEnd()), `${indent} */`];
}
