import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A command line that does not fit: printed with usage, without a stack trace (exit 2). */
export class UsageError extends Error {}

/** The package root of maestro-operator (where its package.json is), from a module URL inside it. */
export async function packageRoot(from: string): Promise<string> {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    try {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'maestro-operator') return dir;
    } catch {
      // not here; keep looking upwards
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the maestro-operator package root');
    dir = parent;
  }
}
