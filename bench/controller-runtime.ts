// The controller-runtime contender's binary: built from bench/controller-runtime (go.mod,
// go.sum, main.go; sigs.k8s.io/controller-runtime from the Go module proxy) into a cache
// outside the clone, keyed by the hash of those files, like the control plane binaries.
// Only the source is in the repository.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The files the binary is built from (all of them go into the cache key). */
export const SOURCES = ['go.mod', 'go.sum', 'main.go'] as const;
/** go.mod's `go` line: older toolchains would try to download a newer one (which fails offline). */
export const MINIMUM_GO = [1, 26] as const;

/** Thrown when Go is missing or too old; the message says what to do. */
export class GoMissingError extends Error {}

/** The cache key of the sources: the first 16 hex digits of a SHA-256 over their names and contents. */
export function sourceKey(files: ReadonlyArray<{ name: string; content: string | Buffer }>): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => a.name.localeCompare(b.name))) {
    hash.update(file.name).update('\0').update(file.content).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** Parses `go version` output ("go version go1.26.8 linux/amd64") into [major, minor, patch]. */
export function parseGoVersion(output: string): [number, number, number] | undefined {
  const match = /\bgo(\d+)\.(\d+)(?:\.(\d+))?/.exec(output);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : undefined;
}

/** Whether `version` is at least `minimum` (compared part by part). */
export function atLeast(version: readonly number[], minimum: readonly number[]): boolean {
  for (let i = 0; i < minimum.length; i++) {
    const v = version[i] ?? 0;
    if (v !== minimum[i]) return v > minimum[i]!;
  }
  return true;
}

const HOW = 'install Go >= 1.26 (https://go.dev/dl, or set GO=/path/to/go), or leave this contender out: '
  + '--contenders maestro,baseline,peer';

/**
 * Finds a usable `go`: $GO when set (and only it), else PATH, then /usr/local/go/bin/go;
 * throws {@link GoMissingError} with a clear message.
 */
export function findGo(env: NodeJS.ProcessEnv = process.env, fallbacks: readonly string[] = ['/usr/local/go/bin/go']): string {
  const candidates = env['GO']
    ? [env['GO']]
    : [...(env['PATH'] ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'go')), ...fallbacks];
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue;
    const result = spawnSync(candidate, ['version'], { encoding: 'utf8', env: { ...env, GOTOOLCHAIN: 'local' } });
    const version = result.status === 0 ? parseGoVersion(result.stdout) : undefined;
    if (!version) continue;
    if (!atLeast(version, MINIMUM_GO)) {
      throw new GoMissingError(`the controller-runtime contender needs Go >= ${MINIMUM_GO.join('.')}, found ${version.join('.')} at ${candidate}: ${HOW}`);
    }
    return candidate;
  }
  const where = env['GO'] ? `GO=${env['GO']} is not a Go toolchain` : 'no Go toolchain was found (GO, PATH, /usr/local/go/bin)';
  throw new GoMissingError(`the controller-runtime contender is built from Go source, but ${where}: ${HOW}`);
}

/** The cache folder of the bench's binaries (beside the control plane's). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'maestro-operator', 'bench');
}

/**
 * Returns the path of the controller-runtime contender's binary, building it first when
 * the cache has none for the current sources (minutes on 2 cores the first time: it
 * compiles client-go and controller-runtime; Go's build cache makes later builds fast).
 */
export function controllerRuntimeBinary(sourceDir: string, log: (line: string) => void): string {
  const files = SOURCES.map((name) => {
    const path = join(sourceDir, name);
    if (!existsSync(path)) throw new Error(`missing ${path} (the controller-runtime contender's source)`);
    return { name, content: readFileSync(path) };
  });
  const dir = join(cacheRoot(), `controller-runtime-${sourceKey(files)}`);
  const binary = join(dir, 'site-operator');
  if (existsSync(binary)) return binary;
  const go = findGo();
  mkdirSync(dir, { recursive: true });
  const partial = `${binary}.partial.${process.pid}`;
  log(`building the controller-runtime contender (${go} build, into ${dir}; minutes the first time)`);
  const started = performance.now();
  const result = spawnSync(go, ['build', '-trimpath', '-mod=readonly', '-o', partial, '.'], {
    cwd: sourceDir,
    stdio: ['ignore', 2, 2],
    // The go.mod's toolchain, never a download; CGO off for a static binary.
    env: { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' },
  });
  if (result.status !== 0) {
    rmSync(partial, { force: true });
    throw new Error(`building the controller-runtime contender failed (go build exit ${result.status ?? result.error?.message}); see the output above`);
  }
  // Atomic: a concurrent bench either sees no binary or a whole one.
  renameSync(partial, binary);
  log(`built the controller-runtime contender in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return binary;
}
