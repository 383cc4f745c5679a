#!/usr/bin/env node
// Bootstrap for the README's commands (`npm test`, `npm run demo`, `npm run bench`).
// It runs on whatever Node the machine has (Node 20 included) and uses only built-ins:
//   1. find a Node >= 22.19 (this one, or one installed earlier into .tools/), else
//      install Node 24 from the npm registry package node-<platform>-<arch>;
//   2. install dependencies when node_modules is missing or older than the lockfile;
//   3. run the given npm script with that Node first in PATH, forwarding arguments,
//      signals and the exit code.
// Usage: node scripts/run.mjs <npm-script> [args...]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_PACKAGE_VERSION = '24.21.0';
const MINIMUM = [22, 19, 0];
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const say = (message) => process.stderr.write(`[maestro] ${message}\n`);

const [script, ...args] = process.argv.slice(2);
if (!script) {
  say('usage: node scripts/run.mjs <npm-script> [args...]');
  process.exit(2);
}

function atLeast(version, minimum) {
  const parts = version.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < minimum.length; i++) {
    if (parts[i] !== minimum[i]) return parts[i] > minimum[i];
  }
  return true;
}

function run(command, commandArgs, env) {
  const result = spawnSync(command, commandArgs, { cwd: root, env, stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function findNodeDir() {
  if (atLeast(process.version, MINIMUM)) return dirname(process.execPath);
  const pkg = `node-${process.platform}-${process.arch}`;
  const prefix = join(root, '.tools', 'node');
  const bin = join(prefix, 'node_modules', pkg, 'bin');
  if (existsSync(join(bin, 'node'))) return bin;
  say(`Node ${process.version} is older than ${MINIMUM.join('.')}; installing ${pkg}@${NODE_PACKAGE_VERSION} into .tools/node`);
  // Its own prefix folder: a later `npm install` of the project must not prune it.
  const status = run('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-package-lock',
    '--loglevel=error', `${pkg}@${NODE_PACKAGE_VERSION}`], process.env);
  if (status !== 0 || !existsSync(join(bin, 'node'))) {
    say(`could not install ${pkg} from the npm registry (exit ${status}); install Node >= ${MINIMUM.join('.')} and retry`);
    process.exit(1);
  }
  return bin;
}

const nodeDir = findNodeDir();
const env = { ...process.env, PATH: `${nodeDir}${delimiter}${process.env.PATH ?? ''}` };

const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(installed) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs)) {
  say('installing dependencies (npm ci)');
  const status = run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], env);
  if (status !== 0) process.exit(status);
}

const child = spawn('npm', ['run', '--silent', script, '--', ...args], { cwd: root, env, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
