import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { gitignore, mocharc, packageJson, readme, siteTest, testSetup, tsconfig, type ProjectTemplate } from './templates.js';
import { UsageError, packageRoot } from './usage.js';

export const INIT_HELP = `Usage: maestro-operator init <dir> [options]

Scaffolds a new operator project in <dir> from Maestro's static-site sample: a resource
class with validation, ordered reconcilers, a finalizer, a test on a local control plane,
and scripts to generate the CRD, the RBAC and the webhook configurations. Then:
cd <dir> && npm install && npm test.

Options:
  --name <name>      the operator's name (default: the directory name)
  --maestro <spec>   npm version spec for maestro-operator (default: this Maestro: its
                     version from the registry, or file:<path> when run from a checkout)
  --force            write into a directory that is not empty
  -h, --help         show this help
`;

const SAMPLE_FILES = ['site.ts', 'reconcilers.ts', 'main.ts'];
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Options of {@link init}. */
export interface InitOptions {
  name?: string;
  maestro?: string;
  force?: boolean;
  log?: (line: string) => void;
}

/**
 * Scaffolds an operator project in `dir` (see {@link INIT_HELP}).
 *
 * @example
 * ```ts
 * await init('./my-operator', { name: 'my-operator' });
 * ```
 */
export async function init(dir: string, options: InitOptions = {}): Promise<void> {
  const target = resolve(dir);
  const name = options.name ?? basename(target).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  if (!NAME.test(name) || name.length > 63) throw new UsageError(`'${name}' is not a valid operator name: use lower-case letters, digits and '-' (or pass --name)`);
  const existing = await readdir(target).catch(() => [] as string[]);
  if (existing.length > 0 && !options.force) throw new UsageError(`${target} is not empty (use --force to write into it)`);

  const root = await packageRoot(import.meta.url);
  const own = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    version: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string>;
  };
  // Run from an installed package: depend on the published version; from a checkout: on the checkout.
  const installed = root.split(sep).includes('node_modules');
  const maestroSpec = options.maestro ?? (installed ? `^${own.version}` : `file:${root}`);
  const template: ProjectTemplate = {
    packageName: name,
    operatorName: name,
    maestroSpec,
    versions: { ...own.dependencies, ...own.devDependencies },
  };

  await mkdir(join(target, 'src'), { recursive: true });
  await mkdir(join(target, 'test'), { recursive: true });
  for (const file of SAMPLE_FILES) {
    let source = await readFile(join(root, 'samples', 'static-site', file), 'utf8');
    if (file === 'main.ts') source = source.replace("'static-site-operator'", `'${name}'`).replace('dist/samples/static-site/main.js', 'dist/src/main.js');
    await writeFile(join(target, 'src', file), source);
  }
  const files: Record<string, string> = {
    'package.json': packageJson(template),
    'tsconfig.json': tsconfig,
    '.mocharc.json': mocharc,
    '.gitignore': gitignore,
    'README.md': readme(template),
    'test/site.test.ts': siteTest,
    'test/setup.ts': testSetup,
  };
  // A local Maestro is installed as a copy, so its dependencies are shared with the project's
  // (one @kubernetes/client-node, one tsyringe), as they are when installed from the registry.
  if (maestroSpec.startsWith('file:')) files['.npmrc'] = 'install-links=true\n';
  for (const [file, content] of Object.entries(files)) await writeFile(join(target, file), content);
  options.log?.(`created ${target} (operator '${name}', maestro-operator ${maestroSpec})`);
  options.log?.(`next: cd ${dir} && npm install && npm test`);
}
