#!/usr/bin/env node
// The static checks of `npm test` (after the build), from the repository root:
//   1. ESLint with typescript-eslint's type-aware rules (tools/check/eslint.config.js);
//   2. the dependency rules of the layers, cycles included (tools/check/dependency-cruiser.cjs);
//   3. the API reports (api/*.api.md) of the package's entry points, by api-extractor:
//      a change of the public surface fails until the report is updated and reviewed.
// Usage: node tools/check/check.mjs [--update-api] [lint|deps|api ...]
// tools/check is a package of its own: typescript-eslint and api-extractor need the
// JavaScript API of TypeScript 6, which TypeScript 7 (the build's compiler) no longer has.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const args = process.argv.slice(2);
const updateApi = args.includes('--update-api');
const only = args.filter((a) => !a.startsWith('--'));
const wanted = (name) => only.length === 0 || only.includes(name);
const say = (line) => process.stderr.write(`[check] ${line}\n`);

function run(command, commandArgs, cwd = root) {
  const result = spawnSync(command, commandArgs, { cwd, stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

// Install the checkers when missing or older than their lockfile.
const installed = join(here, 'node_modules', '.package-lock.json');
const lock = join(here, 'package-lock.json');
if (!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs) {
  say('installing the checkers (npm ci in tools/check)');
  if (run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], here) !== 0) process.exit(1);
}
const bin = (name) => join(here, 'node_modules', '.bin', name);

let failed = false;

if (wanted('lint')) {
  say('eslint (type-aware rules)');
  const status = run(bin('eslint'), ['--config', join(here, 'eslint.config.js'), '--max-warnings=0', 'lib', 'decorators', 'samples', 'test', 'bench']);
  if (status !== 0) failed = true;
}

if (wanted('deps')) {
  say('dependency rules (layers, cycles, adapters)');
  const status = run(bin('depcruise'), ['--config', join(here, 'dependency-cruiser.cjs'), '--output-type', 'err', 'lib', 'decorators']);
  if (status !== 0) failed = true;
}

if (wanted('api')) {
  // The package's entry points and the file of each one's report.
  const entries = [
    ['lib/index.d.ts', 'maestro-operator'],
    ['lib/conductor/index.d.ts', 'maestro-operator-conductor'],
    ['decorators/index.d.ts', 'maestro-operator-decorators'],
    ['lib/generate/index.d.ts', 'maestro-operator-generate'],
    ['lib/runtime/index.d.ts', 'maestro-operator-runtime'],
    ['lib/testing/index.d.ts', 'maestro-operator-testing'],
    ['lib/webhook/index.d.ts', 'maestro-operator-webhook'],
  ];
  const { Extractor, ExtractorConfig } = await import('@microsoft/api-extractor');
  for (const [entry, report] of entries) {
    say(`api report ${report}.api.md${updateApi ? ' (updating)' : ''}`);
    const config = ExtractorConfig.prepare({
      configObjectFullPath: join(here, 'api-extractor.json'),
      packageJsonFullPath: join(root, 'package.json'),
      configObject: {
        projectFolder: root,
        mainEntryPointFilePath: join(root, 'dist', entry),
        compiler: {
          overrideTsconfig: {
            compilerOptions: {
              target: 'es2023', lib: ['es2023'], module: 'nodenext', moduleResolution: 'nodenext', types: ['node'], strict: true, skipLibCheck: true,
            },
            include: [join(root, 'dist', entry)],
          },
        },
        apiReport: { enabled: true, reportFileName: `${report}.api.md`, reportFolder: join(root, 'api'), reportTempFolder: join(root, 'dist', 'api') },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages: {
          compilerMessageReporting: { default: { logLevel: 'warning' } },
          extractorMessageReporting: {
            default: { logLevel: 'warning' },
            // Types of other entry points and of dependencies are referenced, not re-exported.
            'ae-forgotten-export': { logLevel: 'none' },
            'ae-missing-release-tag': { logLevel: 'none' },
            // Members that only restate their type (codes of errors, overrides) carry no TSDoc.
            'ae-undocumented': { logLevel: 'none' },
            // Each entry point is analysed alone, so a {@link} to another entry point's name cannot resolve.
            'ae-unresolved-link': { logLevel: 'none' },
          },
          tsdocMessageReporting: { default: { logLevel: 'none' } },
        },
      },
    });
    const result = Extractor.invoke(config, { localBuild: updateApi, showVerboseMessages: false });
    if (!result.succeeded || result.warningCount > 0) {
      failed = true;
      if (result.apiReportChanged && !updateApi) say(`the public API of ${report} changed: review it, then run \`npm run api:update\` and commit api/${report}.api.md`);
    }
  }
}

process.exit(failed ? 1 : 0);
