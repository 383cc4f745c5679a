// Builds the local control plane's binaries from Go modules (through the Go module proxy)
// into a cache folder outside any clone, keyed by version. Every entry point (npm test,
// npm run demo, npm run bench, a user's startControlPlane(), `maestro-operator envtest`)
// comes here through controlPlaneAssets(), so they all build the same way and show the
// same progress.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { access, chmod, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, homedir, tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { ControlPlaneAssetsError } from './errors.js';
import { elapsed, Progress, progressSink } from './progress.js';
import { packageRoot } from './root.js';

/**
 * The binaries of a local control plane.
 * - `kube-apiserver`, `etcd`: always needed;
 * - `kube-controller-manager`: garbage collection and the built-in controllers
 *   (`controllerManager: true`);
 * - `kube-scheduler`, `kwok`: Pods scheduled on simulated nodes (`nodes: N`);
 * - `kubectl`: for people and tests that run it.
 */
export type ControlPlaneBinary = 'kube-apiserver' | 'etcd' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok' | 'kubectl';

/** Every binary, in build order: what a control plane needs first, kubectl last. */
export const allBinaries: readonly ControlPlaneBinary[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'kubectl'];

type GoModule = 'etcd' | 'kubernetes';

/** The pinned versions (tools/control-plane/versions.env). */
export interface ControlPlaneVersions {
  kubernetes: string;
  etcd: string;
  kwok: string;
}

const sources: Record<ControlPlaneBinary, { module: GoModule; version: (v: ControlPlaneVersions) => string }> = {
  'etcd': { module: 'etcd', version: (v) => v.etcd },
  'kube-apiserver': { module: 'kubernetes', version: (v) => v.kubernetes },
  'kube-controller-manager': { module: 'kubernetes', version: (v) => v.kubernetes },
  'kube-scheduler': { module: 'kubernetes', version: (v) => v.kubernetes },
  'kubectl': { module: 'kubernetes', version: (v) => v.kubernetes },
  // In the Kubernetes module, sharing its compiled packages (see its cmd/kwok/main.go).
  'kwok': { module: 'kubernetes', version: (v) => v.kwok },
};

/** The Go wrapper modules the binaries are built from (`tools/control-plane` of this package). */
export function toolsDir(): string | undefined {
  const root = packageRoot();
  const dir = root && join(root, 'tools', 'control-plane');
  return dir && existsSync(join(dir, 'versions.env')) ? dir : undefined;
}

/** Reads `versions.env` (KEY=VALUE lines). */
export function readVersions(tools: string): ControlPlaneVersions {
  const values: Record<string, string> = {};
  for (const line of readFileSync(join(tools, 'versions.env'), 'utf8').split('\n')) {
    const match = /^\s*([A-Z_]+)=(\S+)\s*$/.exec(line);
    if (match) values[match[1]!] = match[2]!;
  }
  const get = (key: string): string => {
    const value = values[key];
    if (!value) throw new ControlPlaneAssetsError(`${join(tools, 'versions.env')} does not set ${key}`);
    return value;
  };
  return { kubernetes: get('KUBERNETES_VERSION'), etcd: get('ETCD_VERSION'), kwok: get('KWOK_VERSION') };
}

/**
 * The root of Maestro's cache: `$MAESTRO_CACHE_DIR`, else `$XDG_CACHE_HOME/maestro-operator`,
 * else `~/.cache/maestro-operator`.
 */
export function cacheRoot(): string {
  return process.env['MAESTRO_CACHE_DIR'] || join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'maestro-operator');
}

/** The cache folder of one pinned release: usable as KUBEBUILDER_ASSETS. */
export function cacheDir(versions: ControlPlaneVersions): string {
  return join(cacheRoot(), 'control-plane', `kubernetes-${versions.kubernetes}-etcd-${versions.etcd}`);
}

/** Records which version each binary of a cache folder was built from (kwok's is not in the folder name). */
const MANIFEST = '.maestro-build.json';

async function readManifest(dir: string): Promise<Partial<Record<ControlPlaneBinary, string>>> {
  try {
    return JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Partial<Record<ControlPlaneBinary, string>>;
  } catch {
    return {};
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, 1 /* X_OK */);
    return true;
  } catch {
    return false;
  }
}

/** The binaries of the cache folder that exist and were built from the pinned versions. */
export async function cachedBinaries(dir: string, versions: ControlPlaneVersions): Promise<Set<ControlPlaneBinary>> {
  const manifest = await readManifest(dir);
  const present = new Set<ControlPlaneBinary>();
  for (const binary of allBinaries) {
    if (!(await isExecutable(join(dir, binary)))) continue;
    // Kubernetes and etcd versions are in the folder name; kwok's must be in the manifest.
    if (binary === 'kwok' && manifest[binary] !== versions.kwok) continue;
    present.add(binary);
  }
  return present;
}

/** Options of {@link buildControlPlane}. */
export interface BuildOptions {
  /** Progress lines; default: stderr (one line redrawn in place on a terminal). */
  log?: (line: string) => void;
}

/**
 * Builds the binaries of `wanted` that the cache folder lacks, and returns the folder.
 * One build at a time per machine (a lock in the cache); a second caller waits and then
 * finds them built. Modules of all needed Go modules are downloaded at once (network)
 * while the first one compiles (CPU); binaries are compiled in {@link allBinaries} order,
 * each installed as soon as it is linked.
 *
 * @throws {ControlPlaneAssetsError} when Go is missing or too old, the module proxy is
 *   unreachable, or a build fails (with the end of Go's output).
 */
export async function buildControlPlane(wanted: readonly ControlPlaneBinary[], options: BuildOptions = {}): Promise<string> {
  const tools = toolsDir();
  if (!tools) throw new ControlPlaneAssetsError('cannot build the control plane: tools/control-plane is not in this installation of maestro-operator');
  const versions = readVersions(tools);
  const dir = cacheDir(versions);
  if (missingOf(wanted, await cachedBinaries(dir, versions)).length === 0) return dir;

  const progress = new Progress(progressSink(options.log));
  try {
    const go = await findGo(tools);
    await mkdir(join(cacheRoot(), 'control-plane'), { recursive: true });
    const release = await acquireLock(join(cacheRoot(), 'control-plane', '.lock'), () =>
      progress.setPhase('waiting for another build of the control plane to finish'));
    try {
      await removeAbandonedBuilds(dir);
      // Someone else may have built them while we waited.
      const missing = missingOf(wanted, await cachedBinaries(dir, versions));
      if (missing.length === 0) return dir;
      progress.note(`building ${missing.join(', ')} (Kubernetes ${versions.kubernetes}, etcd ${versions.etcd}${missing.includes('kwok') ? `, kwok ${versions.kwok}` : ''}) from Go modules into ${dir}; once per machine`);
      if (go.note) progress.note(go.note);
      await new Builder(go, tools, versions, dir, progress).build(missing);
      progress.note(`control plane binaries built in ${elapsed(progress.elapsedMs)}`);
    } finally {
      release();
    }
    return dir;
  } finally {
    progress.close();
  }
}

/** Staging folders of builds whose process died (killed mid-build); called under the lock. */
async function removeAbandonedBuilds(dir: string): Promise<void> {
  const prefix = `${basename(dir)}.partial.`;
  for (const entry of await readdir(dirname(dir)).catch(() => [] as string[])) {
    const pid = Number(entry.slice(prefix.length));
    if (!entry.startsWith(prefix) || !Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    await rm(join(dirname(dir), entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const plural = (n: number, word: string): string => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

function missingOf(wanted: readonly ControlPlaneBinary[], present: Set<ControlPlaneBinary>): ControlPlaneBinary[] {
  return allBinaries.filter((b) => wanted.includes(b) && !present.has(b));
}

interface GoToolchain {
  path: string;
  env: NodeJS.ProcessEnv;
  /** Said once before building (e.g. that a newer toolchain is downloaded). */
  note?: string;
}

/** What to tell someone without a usable Go. */
export function goMissingMessage(need: string, found?: string, chosen?: string): string {
  const where = chosen ? `MAESTRO_GO=${chosen} is not an executable` : 'looked in PATH, /usr/local/go/bin, /usr/lib/go/bin and ~/go/bin';
  return `${found ? `Go ${found} is too old` : 'Go is not installed'}: the local control plane (kube-apiserver, etcd, kube-controller-manager, ` +
    `kube-scheduler, kwok) is built from source once per machine, which needs Go ${need} or newer ` +
    `(${where}). Install it from https://go.dev/dl/ ` +
    `(Linux: download go${need}.linux-amd64.tar.gz, then \`tar -C /usr/local -xzf go*.tar.gz\` and add /usr/local/go/bin to PATH), ` +
    'or point KUBEBUILDER_ASSETS at a folder that already has kube-apiserver and etcd (e.g. from `setup-envtest use -p path`).';
}

async function findGo(tools: string): Promise<GoToolchain> {
  const need = /^go (\S+)/m.exec(readFileSync(join(tools, 'kubernetes', 'go.mod'), 'utf8'))?.[1] ?? '1.26.0';
  const chosen = process.env['MAESTRO_GO'];
  const candidates = chosen ? [chosen] : [
    ...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'go')),
    '/usr/local/go/bin/go', '/usr/lib/go/bin/go', join(homedir(), 'go', 'bin', 'go'), join(homedir(), '.local', 'go', 'bin', 'go'),
  ];
  let path: string | undefined;
  for (const candidate of candidates) {
    if (await isExecutable(candidate)) { path = candidate; break; }
  }
  if (!path) throw new ControlPlaneAssetsError(goMissingMessage(need, undefined, chosen));
  // Outside the modules: an older Go would refuse their go.mod before answering.
  const [goVersion = '', goFlags = ''] = (await runGo(path, ['env', 'GOVERSION', 'GOFLAGS'], tmpdir(), { ...process.env, GOTOOLCHAIN: 'local' })).output.split('\n');
  const have = goVersion.trim().replace(/^go/, '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CGO_ENABLED: '0',
    // Read-write module files, so the module cache can be deleted; no VCS stamping (the
    // wrapper modules may sit in a clone, a copy or node_modules).
    GOFLAGS: `-modcacherw -buildvcs=false ${goFlags.trim()}`.trim(),
    GOTOOLCHAIN: 'local',
  };
  if (compareVersions(have, need) >= 0) return { path, env };
  // Go 1.21+ can fetch the toolchain a module asks for, through the same module proxy.
  if (compareVersions(have, '1.21') >= 0) {
    return { path, env: { ...env, GOTOOLCHAIN: `go${need}` }, note: `Go ${have} is older than ${need}: Go downloads toolchain go${need} through the module proxy first` };
  }
  throw new ControlPlaneAssetsError(goMissingMessage(need, have));
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.a-z]/).map((x) => Number(x) || 0);
  const pb = b.split(/[.a-z]/).map((x) => Number(x) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * An exclusive lock on `path` held by flock(1) (util-linux), the same lock earlier shell
 * builds took: it is released when this process's pipe to it closes, even if this process
 * is killed. Without flock (not Linux) there is no lock: builds install atomically anyway.
 */
function acquireLock(path: string, onWait: () => void): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const child = spawn('flock', ['--exclusive', path, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    const waiting = setTimeout(onWait, 1_000);
    const release = (): void => { child.stdin.end(); };
    child.stdin.on('error', () => { /* flock gone */ });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.stdout.setEncoding('utf8').once('data', () => { clearTimeout(waiting); resolve(release); });
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(waiting);
      if (err.code === 'ENOENT') resolve(() => {});
      else reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(waiting);
      reject(new ControlPlaneAssetsError(`could not lock ${path} (flock exited with ${code}): ${stderr.trim()}`));
    });
  });
}

interface GoRun {
  code: number | null;
  output: string;
  /** The last lines that were neither downloads nor package names: Go's errors. */
  tail: string[];
}

/** Runs go; `onLine` sees each stderr line (downloads, `-v` package names, errors). */
function runGo(go: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, onLine?: (line: string) => void): Promise<GoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(go, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const tail: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    createInterface({ input: child.stderr }).on('line', (line) => {
      onLine?.(line);
      if (!line.startsWith('go: downloading ') && !/^[\w.\-/~]+$/.test(line)) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
      }
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output, tail }));
  });
}

const NETWORK = /dial tcp|no such host|i\/o timeout|connection refused|proxyconnect|TLS handshake timeout|network is unreachable/;

/** The packages (import paths) of each binary's wrapper main, per Go module. */
const mainPackage = (binary: ControlPlaneBinary): string => `./cmd/${binary}`;

class Builder {
  private readonly parallelism = String(Math.max(1, availableParallelism()));

  constructor(
    private readonly go: GoToolchain,
    private readonly tools: string,
    private readonly versions: ControlPlaneVersions,
    private readonly dir: string,
    private readonly progress: Progress,
  ) {}

  /** What the status line shows: downloads in flight and the compile under way. */
  private readonly state = { downloading: 0, downloads: 0, lastDownload: '', compiling: '', compiled: 0, total: 0, current: '' };

  async build(missing: ControlPlaneBinary[]): Promise<void> {
    // Compile groups in order; kubectl apart, after what a control plane needs.
    const groups: ControlPlaneBinary[][] = [];
    for (const binary of missing) {
      const last = groups.at(-1);
      if (last && sources[last[0]!].module === sources[binary].module && binary !== 'kubectl') last.push(binary);
      else groups.push([binary]);
    }
    const staging = `${this.dir}.partial.${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    try {
      // Phase 1, for every group at once: resolve its packages, downloading what the module
      // cache lacks (network-bound, so it overlaps the first compile).
      this.progress.setPhase('downloading Go modules', 'checking the module cache');
      const resolving = groups.map((group) => this.resolve(group));
      resolving.forEach((p) => { p.catch(() => { /* awaited below */ }); });
      // Phase 2: compile each group in turn with every core, once its modules are there.
      for (const [i, group] of groups.entries()) {
        await this.compile(group, await resolving[i]!, staging);
      }
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  private render(): void {
    const s = this.state;
    const downloads = s.downloading > 0 ? `${s.downloads} modules downloaded${s.lastDownload ? ` (${s.lastDownload})` : ''}` : '';
    if (!s.compiling) {
      this.progress.setDetail(downloads || 'checking the module cache');
      return;
    }
    // -v names only the packages actually compiled: cached ones never show, so the total is a bound.
    const packages = s.compiled === 0
      ? 'checking the build cache (nothing compiled yet)'
      : `${plural(s.compiled, 'package')} compiled${s.total ? ` (of at most ${s.total.toLocaleString('en-US')})` : ''}${s.current ? `, now ${s.current}` : ''}`;
    this.progress.setDetail(downloads ? `${packages}; meanwhile ${downloads}` : packages);
  }

  /** `go list -deps`: downloads the modules the group needs and counts its packages. */
  private async resolve(group: ControlPlaneBinary[]): Promise<number> {
    const module = sources[group[0]!].module;
    this.state.downloading++;
    try {
      const result = await runGo(this.go.path, ['list', '-deps', '-f', '{{.ImportPath}}', ...group.map(mainPackage)], join(this.tools, module), this.go.env, (line) => {
        const download = /^go: downloading (\S+) (\S+)/.exec(line);
        if (!download) return;
        this.state.downloads++;
        this.state.lastDownload = `${download[1]}@${download[2]}`;
        this.render();
      });
      if (result.code !== 0) throw this.failure(`resolving the Go modules of ${group.join(', ')}`, result);
      return result.output.split('\n').filter(Boolean).length;
    } finally {
      this.state.downloading--;
    }
  }

  private async compile(group: ControlPlaneBinary[], total: number, staging: string): Promise<void> {
    const module = sources[group[0]!].module;
    const names = group.join(', ');
    const started = this.progress.elapsedMs;
    Object.assign(this.state, { compiling: names, compiled: 0, total, current: '' });
    this.progress.setPhase(`building ${names}`);
    this.render();
    // -v names a main package when compiling it; once all are named, only linking is left.
    const mains = new Set(group.map((b) => `maestro.local/control-plane/${module}/cmd/${b}`));
    const result = await runGo(this.go.path, ['build', '-v', '-p', this.parallelism, '-trimpath', '-ldflags', this.ldflags(module), '-o', `${staging}/`, ...group.map(mainPackage)], join(this.tools, module), this.go.env, (line) => {
      if (!/^[\w.\-/~]+$/.test(line)) return;
      this.state.compiled++;
      this.state.current = line;
      if (mains.delete(line) && mains.size === 0) this.progress.setPhase(`linking ${names}`);
      this.render();
    });
    if (result.code !== 0) throw this.failure(`compiling ${names}`, result);
    const manifest = await readManifest(this.dir);
    await mkdir(this.dir, { recursive: true });
    for (const binary of group) {
      await chmod(join(staging, binary), 0o755);
      await rename(join(staging, binary), join(this.dir, binary));
      manifest[binary] = sources[binary].version(this.versions);
    }
    await writeFile(join(this.dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    // The marker earlier shell builds looked for, once their four binaries are there.
    if ((['kube-apiserver', 'kube-controller-manager', 'kubectl', 'etcd'] as const).every((b) => existsSync(join(this.dir, b)))) {
      await writeFile(join(this.dir, '.complete'), `${new Date().toISOString()}\n`);
    }
    this.state.compiling = '';
    this.progress.note(`built ${names} in ${elapsed(this.progress.elapsedMs - started)} (${this.state.compiled === 0 ? 'linked only: every package was in Go\'s build cache' : `${plural(this.state.compiled, 'package')} compiled`})`);
  }

  private ldflags(module: GoModule): string {
    if (module !== 'kubernetes') return '-s -w';
    const version = this.versions.kubernetes;
    const minor = version.split('.')[1] ?? '';
    // So that /version and `kubectl version` report the real release.
    return [
      '-s -w',
      ...['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
        `-X ${pkg}.gitVersion=${version}`, `-X ${pkg}.gitMajor=1`, `-X ${pkg}.gitMinor=${minor}`,
      ]),
      '-X k8s.io/component-base/version.gitTreeState=clean',
    ].join(' ');
  }

  private failure(what: string, result: GoRun): ControlPlaneAssetsError {
    const output = result.tail.join('\n');
    const hint = NETWORK.test(output)
      ? `\nThe Go module proxy (${this.go.env['GOPROXY'] || 'https://proxy.golang.org'}) could not be reached: it is needed once, to download the source of Kubernetes, etcd and kwok.`
      : '';
    return new ControlPlaneAssetsError(`${what} failed (go exited with ${result.code}):\n${output || '(no output)'}${hint}`);
  }
}

export { MANIFEST as buildManifestFile };
