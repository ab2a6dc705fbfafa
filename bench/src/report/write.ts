import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { html, markdown, replaceSection } from './render.js';
import type { AnyResultsFile } from './results.js';

/**
 * Write `<scenario>.json`, `<scenario>.md` and `<scenario>.html` into `outDir`, and when
 * `resultsMd` is given, replace that scenario's section of it (bench/RESULTS.md), leaving the
 * hand-written text around it alone.
 */
export async function writeResults(outDir: string, file: AnyResultsFile, resultsMd: string | null): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const base = path.join(outDir, file.scenario);
  const md = markdown(file);
  await writeFile(`${base}.json`, `${JSON.stringify(file, null, 2)}\n`);
  await writeFile(`${base}.md`, `# ${file.scenario}\n\n${md}\n`);
  await writeFile(`${base}.html`, await html(file));
  if (resultsMd === null) return;
  let doc: string;
  try {
    doc = await readFile(resultsMd, 'utf8');
  } catch {
    doc = '# Benchmark results\n';
  }
  const rel = path.relative(path.dirname(resultsMd), `${base}.html`);
  await writeFile(resultsMd, replaceSection(doc, file.scenario, `${md}\n\nCharts: [${rel}](${rel}).`));
}
