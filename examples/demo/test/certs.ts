import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAKE_CERTS = fileURLToPath(new URL('../../../../scripts/make-certs.sh', import.meta.url));

/** A throw-away CA and certificates signed by it (scripts/make-certs.sh, openssl), in a temp folder. */
export interface TestCa {
  readonly dir: string;
  /** `<dir>/<name>`. */
  file(name: string): string;
  /** The contents of `<dir>/<name>`. */
  read(name: string): Buffer;
  /** `{ ca, cert, key }` for a link, with this CA and the certificate `name`. */
  link(name: string): { ca: Buffer; cert: Buffer; key: Buffer };
  remove(): void;
}

/** Make a CA and one certificate (`<name>.pem`, `<name>.key`) per name. */
export function makeCa(names: readonly string[], env: Record<string, string> = {}): TestCa {
  const dir = mkdtempSync(path.join(tmpdir(), 'gos-certs-'));
  execFileSync('bash', [MAKE_CERTS, dir, ...names], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const file = (name: string): string => path.join(dir, name);
  const read = (name: string): Buffer => readFileSync(file(name));
  return {
    dir,
    file,
    read,
    link: (name) => ({ ca: read('ca.pem'), cert: read(`${name}.pem`), key: read(`${name}.key`) }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
