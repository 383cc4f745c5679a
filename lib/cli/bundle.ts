/**
 * `maestro-operator bundle`: an operator's compiled entry module and everything it imports,
 * as one ES module (and side files for what Maestro loads only on first use), with esbuild.
 *
 * Why an operator ships bundled: `@kubernetes/client-node`'s root module imports every
 * generated API class (`CoreV1Api`, ... and their three wrapper layers: 1,001 of its 1,033
 * files). A Node process keeps the source text of every module it loads, so an operator
 * run from `node_modules` holds ~20 MiB of code it never calls and spends about a second
 * of CPU compiling it. A bundle keeps only what is reachable from the entry (the API
 * classes fall away; the models stay, the object serializer needs them all), and the image
 * needs no `node_modules`. Measured in bench/README.md ("Bundled").
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import type { BuildOptions, Plugin } from 'esbuild';
import { OPERATOR_NODE_FLAGS } from './node-flags.js';
import { UsageError } from './usage.js';

export const BUNDLE_HELP = `Usage:
  maestro-operator bundle <entry.js> [--outdir <dir>] [--readable] [--external <package>]... [--node-flags="<flags>"] [--cache-uid <uid>]

Bundles the operator's compiled entry module (e.g. dist/src/main.js, the file that calls
createOperator) and everything it imports into one ES module, <dir>/<entry>.code.mjs
(default --outdir: dist/bundle), with its source map, and prepares V8's compiled code of it
for the operator's flags (Node's compile cache, <dir>/compile-cache). <dir>/<entry>.mjs
starts it with that cache. What Maestro loads only when first needed is written beside it
and loaded from there: <dir>/<entry>.undici.mjs (undici's fetch), <dir>/<entry>.x509.mjs
(@peculiar/x509) and <dir>/<entry>.undici-*.cjs (undici's HTTP/1.1 parsers). Run it with
the operator's flags:
  node ${OPERATOR_NODE_FLAGS.join(' ')} dist/bundle/main.mjs
The bundle needs no node_modules (a container image copies all of <dir>). Compared with
running dist/ from node_modules it starts with a fraction of the CPU and holds tens of MiB
less: @kubernetes/client-node's API classes, which an operator does not call, are left out,
and so are its exec, attach, cp and port-forward modules unless the operator uses them.

Options:
  --outdir <dir>          where to write the bundle (default: dist/bundle)
  --readable              keep whitespace and comments (names are always kept, so stack
                          traces name the functions; node --enable-source-maps maps them
                          to the sources through <entry>.code.mjs.map)
  --external <package>    leave a package out of the bundle (loaded from node_modules at run
                          time), e.g. one with native code; repeatable
  --node-flags="<flags>"  the Node flags the operator runs with, if not the ones above (V8
                          uses the compile cache only under the flags it was made for),
                          e.g. --node-flags="--max-semi-space-size=8 --optimize-for-size"
  --cache-uid <uid>       the user id the operator runs as, if not the one bundling (Node
                          keeps the compile cache per user), e.g. --cache-uid 1000 for an
                          image with USER 1000
  -h, --help              show this help
`;

/** What to bundle. */
export interface BundleOptions {
  /** The compiled entry module (JavaScript), e.g. `dist/src/main.js`. */
  entry: string;
  /** Output folder; default `dist/bundle`. */
  outdir?: string;
  /** Keep whitespace and comments; default false (names are kept either way). */
  readable?: boolean;
  /** Packages left out of the bundle, loaded from `node_modules` at run time; default none. */
  external?: readonly string[];
  /**
   * The Node flags the operator runs with, for which the compile cache is made: V8 uses a
   * cache only under the flags it was made with (a mismatch is not an error: the operator
   * compiles as without one). Default: the operator flags, `--max-semi-space-size=4`.
   *
   * @example
   * ```ts
   * await bundle({ entry: 'dist/src/main.js', nodeFlags: ['--max-semi-space-size=8', '--optimize-for-size'] }); // an image with other flags
   * ```
   */
  nodeFlags?: readonly string[];
  /**
   * The user id the operator runs as (an image's `USER`). Node keeps its compile cache per
   * user, in a folder named with the user id: a process of another user finds none, cannot
   * create one in a read-only image, and compiles as without a cache (the starter then
   * warns). Default: the user running `bundle` (POSIX only; ignored elsewhere).
   *
   * @example
   * ```ts
   * await bundle({ entry: 'dist/src/main.js', cacheUid: 1000 }); // the image runs as USER 1000
   * ```
   */
  cacheUid?: number;
}

/** What `bundle` wrote. */
export interface BundleResult {
  /** The file to run with `node`: it starts {@link code} with the compile cache. */
  entry: string;
  /** The bundle itself: the operator and everything it imports, one ES module. */
  code: string;
  /**
   * The side modules beside it: packages Maestro imports on a path an operator takes late or
   * never (undici's `fetch`, `@peculiar/x509`), each loaded by the bundle when first needed.
   */
  sideModules: string[];
  /** Every file written (the starter, the bundle, its side modules, their source maps and the side files copied beside them; not the compile cache). */
  files: string[];
  /** Bytes of the bundle (without the source map). */
  bytes: number;
  /**
   * The compile cache's folder, with V8's code for the bundle under the operator's flags;
   * `undefined` when it could not be made (see {@link warnings}: the operator then parses
   * the bundle at each start, as without a cache).
   */
  compileCache: string | undefined;
  /** Warnings esbuild reported, formatted. */
  warnings: string[];
}

/**
 * lib/declare/type-hints.ts reads class-transformer's `@Type` store through its CommonJS
 * path, the build Node loads for `import 'class-transformer'`. In the bundle the entry point
 * is the ES module build, with a store of its own: resolve the adapter's import to that one.
 */
const sameClassTransformerStore: Plugin = {
  name: 'maestro-class-transformer-store',
  setup(build) {
    build.onResolve({ filter: /^class-transformer\/cjs\/storage\.js$/ }, (args) =>
      build.resolve('class-transformer/esm5/storage.js', { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer }));
  },
};

/** Maestro's undici adapter, compiled beside this module. */
const UNDICI_ADAPTER = fileURLToPath(new URL('../client/undici.js', import.meta.url));

/**
 * client-node imports undici's package root (its kubeconfig's `Agent` and `ProxyAgent`,
 * and `fetch` for its generated API classes). The root loads fetch, WebSocket, caches and
 * mocks at once: about 40 ms of start-up CPU. Its imports resolve to Maestro's undici
 * adapter instead: the same classes, and a `fetch` that loads the root on its first call.
 */
const clientNodeUndici: Plugin = {
  name: 'maestro-client-node-undici',
  setup(build) {
    build.onResolve({ filter: /^undici$/ }, (args) =>
      /[\\/]@kubernetes[\\/]client-node[\\/]/.test(args.importer) ? { path: UNDICI_ADAPTER } : undefined);
  },
};

/**
 * Node's built-in modules, imported with `import`, are loaded with `require` instead. An ES
 * module import of a built-in makes Node build its ES module facade, which reads every
 * export, and so runs every lazy getter: `import http from 'node:http'` loads Node's
 * internal copy of undici (for `http.WebSocket`), about 40 ms of CPU at each start that
 * `require('node:http')` does not spend.
 *
 * A static import gets an ES module of the built-in: its default export is the module, and
 * each of its other exports (their names read from the built-in by the Node that bundles,
 * which must be the operator's, as for the compile cache) is read from it once, when that
 * module is evaluated, as Node's own ES module imports of built-ins read them (a later
 * change to the built-in's object, e.g. an instrumentation's patch, is not seen; nor does
 * `module.syncBuiltinESMExports()` apply). esbuild keeps only the exports that are
 * imported, so a built-in's other exports, getters included, are never read; a namespace
 * import used as a value (`f(http)`) keeps them all, and then reads every one, as Node
 * does. (As a CommonJS module, each importer got esbuild's interop copy of it, with a
 * getter for every export of the built-in: 50 copies in the bench's operator, about 4 ms
 * of CPU at every start, bench/README.md.) `import()` gets the CommonJS form, read when imported.
 */
const builtinsThroughRequire: Plugin = {
  name: 'maestro-builtins-through-require',
  setup(build) {
    build.onResolve({ filter: /^[a-z0-9_:/]+$/ }, (args) =>
      (args.kind === 'import-statement' || args.kind === 'dynamic-import') && isBuiltin(args.path)
        ? { path: args.path, namespace: args.kind === 'import-statement' ? BUILTIN_ESM : BUILTIN_CJS }
        : undefined);
    build.onLoad({ filter: /.*/, namespace: BUILTIN_CJS }, (args) =>
      ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
    build.onLoad({ filter: /.*/, namespace: BUILTIN_ESM }, (args) => ({ contents: builtinModule(args.path), loader: 'js' }));
  },
};

const BUILTIN_ESM = 'maestro-builtin';
const BUILTIN_CJS = 'maestro-builtin-cjs';

/**
 * The ES module {@link builtinsThroughRequire} gives a static import of the built-in
 * `name`: the module as its default export, and every other export read from it at import
 * (pure: esbuild leaves out those not imported).
 */
export function builtinModule(name: string): string {
  // Only its names are read: a deprecated module (e.g. `punycode`) must not warn here.
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  let builtin: object;
  try {
    builtin = createRequire(import.meta.url)(name) as object;
  } finally {
    process.noDeprecation = quiet;
  }
  const names = declarableNames(builtin);
  return `const __maestroBuiltin = require(${JSON.stringify(name)});\nexport default __maestroBuiltin;\n`
    + names.map((key) => `export const ${key} = /* @__PURE__ */ (() => __maestroBuiltin.${key})();\n`).join('');
}

/**
 * Packages Maestro's own modules import with `import()`, on a path an operator takes late or
 * never: undici's package root (its `fetch`, for client-node's generated API classes, which
 * the runtime does not call) and `@peculiar/x509` (generating a certificate). Each is
 * written beside the bundle as a module of its own, `<entry>.<file>.mjs`, which that
 * `import()` loads. With undici's parsers ({@link SIDE_ASSETS}) the bundle is 1.1 MB
 * smaller (2.84 to 1.76 for the bench's operator), which Node no longer reads and hashes at
 * every start (and 0.17 MiB less cached code to deserialize): about 18 ms of CPU
 * (bench/README.md). Only these imports,
 * by these importers: an `import()` elsewhere stays in the bundle, as Node would resolve
 * it. `commonjs`: the package's exports are read from it while bundling (an ES module
 * cannot re-export a CommonJS module's names without knowing them).
 */
const SIDE_MODULES: ReadonlyArray<{ name: string; importer: string; file: string; format: 'esm' | 'commonjs' }> = [
  { name: 'undici', importer: UNDICI_ADAPTER, file: 'undici', format: 'commonjs' },
  { name: '@peculiar/x509', importer: fileURLToPath(new URL('../server/x509.js', import.meta.url)), file: 'x509', format: 'esm' },
];

/** A side module the bundle imports: its entry in {@link SIDE_MODULES}, the package's file it re-exports and the file it is written to. */
interface SideModule {
  side: (typeof SIDE_MODULES)[number];
  /** The package's module, as esbuild resolves the import (absolute). */
  resolved: string;
  /** The side module's file name, beside the bundle. */
  file: string;
}

/** `path` with its symbolic links resolved, as esbuild names importers; `path` itself when that fails. */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Leaves the `import()`s of {@link SIDE_MODULES} to Node, as imports of `./<entry>.<file>.mjs`,
 * and records them in `found`. Not for a package the user leaves `external` (theirs), one in
 * `inBundle` (found imported by other code too: one instance, in the bundle), nor a CommonJS
 * package that `require` resolves to another file than the import (the side module's
 * exports are read through `require`).
 */
const sideModules = (entryName: string, found: Map<string, SideModule>, external: readonly string[], inBundle: ReadonlySet<string>): Plugin => ({
  name: 'maestro-side-modules',
  setup(build) {
    const importers = new Map(SIDE_MODULES.map((side) => [side.name, realPath(side.importer)]));
    build.onResolve({ filter: new RegExp(`^(${SIDE_MODULES.map((side) => side.name.replace(/[/.]/g, '\\$&')).join('|')})$`) }, async (args) => {
      if (args.pluginData === SIDE || args.kind !== 'dynamic-import' || external.includes(args.path) || inBundle.has(args.path)) return undefined;
      const side = SIDE_MODULES.find((entry) => entry.name === args.path && importers.get(entry.name) === args.importer);
      if (!side) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: SIDE });
      if (resolved.errors.length > 0 || resolved.external) return undefined;
      if (side.format === 'commonjs' && realPath(createRequire(side.importer).resolve(side.name)) !== resolved.path) return undefined;
      const file = `${entryName}.${side.file}.mjs`;
      found.set(side.name, { side, resolved: resolved.path, file });
      return { path: `./${file}`, external: true };
    });
  },
});

/**
 * undici's HTTP/1.1 parsers, WebAssembly written out as base64 in four CommonJS modules
 * (0.3 MiB of source) that undici requires on its first HTTP/1.1 connection: an operator
 * talks HTTP/2 to the API server and may never make one. Each is copied beside the bundle,
 * `<entry>.undici-<dir>-<name>.cjs` (they require nothing but `node:buffer`), and required
 * from there when needed.
 */
const SIDE_ASSETS = /[\\/]undici[\\/]lib[\\/](llhttp|milo)[\\/](llhttp-wasm|llhttp_simd-wasm|simd|no-simd)\.js$/;

/**
 * Leaves the requires of {@link SIDE_ASSETS} to Node, as requires of
 * `./<entry>.undici-<dir>-<name>.cjs`; records the copies to make in `found` (file → source).
 * A second copy of undici in the bundle (another version) whose parser would take a name
 * already taken keeps its parser in the bundle: the WebAssembly's glue is version-specific.
 */
const sideAssets = (entryName: string, found: Map<string, string>): Plugin => ({
  name: 'maestro-side-assets',
  setup(build) {
    build.onResolve({ filter: /[\\/](llhttp|milo)[\\/]/ }, async (args) => {
      if (args.kind !== 'require-call' || args.pluginData === SIDE) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: SIDE });
      const match = resolved.errors.length === 0 ? SIDE_ASSETS.exec(resolved.path) : null;
      if (!match) return undefined;
      const file = `${entryName}.undici-${match[1]}-${match[2]}.cjs`;
      const taken = found.get(file);
      if (taken !== undefined && taken !== resolved.path) return undefined;
      found.set(file, resolved.path);
      return { path: `./${file}`, external: true };
    });
  },
});

/** Whether `file` is one of the side files `bundle` writes for the entry `entryName`. */
function isSideFile(entryName: string, file: string): boolean {
  if (!file.startsWith(`${entryName}.`)) return false;
  const rest = file.slice(entryName.length + 1);
  return SIDE_MODULES.some((side) => rest === `${side.file}.mjs` || rest === `${side.file}.mjs.map`) || /^undici-(llhttp|milo)-[\w-]+\.cjs$/.test(rest);
}

/** The source of a side module: the package's exports, as `import()` of the package gives them. */
function sideModuleSource(side: SideModule['side']): string {
  if (side.format === 'esm') return `export * from ${JSON.stringify(side.name)};\n`;
  // `default` is the package's module.exports, as Node's import() of a CommonJS module gives it.
  const names = declarableNames(createRequire(side.importer)(side.name) as object);
  return `import * as m from ${JSON.stringify(side.name)};\nexport const { ${names.join(', ')} } = m;\nexport default m.default;\n`;
}

/** The names of a module's exports that an ES module can declare as constants of its own (`default` aside). */
function declarableNames(exports: object): string[] {
  return Object.keys(exports).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default' && !RESERVED.has(name));
}

/** Reserved words, `eval` and `arguments`: names a module cannot declare as constants (a side module's or a built-in's exports). */
const RESERVED = new Set(('arguments eval break case catch class const continue debugger default delete do else enum export extends false finally for function if import in '
  + 'instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await').split(' '));

/** A module of client-node's own (not of a package nested in its node_modules). */
const CLIENT_NODE_MODULE = /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/](?:(?![\\/]node_modules[\\/]).)*$/;
/** What the plugins below pass to the resolutions they ask for, so as not to handle them again; and the stand-ins' namespace. */
const ON_USE = 'maestro-on-use';
const ON_DEMAND = 'maestro-on-demand';
const SIDE = 'maestro-side';

/**
 * client-node's own modules do nothing on import but define classes and functions (its
 * `File` polyfill aside, which keeps its effect), but the package does not say so
 * (`sideEffects` in package.json). Said here, esbuild leaves out the modules an operator
 * never uses: exec, attach, cp, port-forward, log, top, metrics, client-node's own informer
 * and watch, and the WebSocket and tar packages they import (ws, tar-fs, ...: about 160 KiB
 * less code to compile and evaluate at every start). An operator that uses one (e.g.
 * `Exec`) still gets it. Packages nested in client-node's node_modules are not concerned.
 */
const clientNodeModulesOnUse: Plugin = {
  name: 'maestro-client-node-modules-on-use',
  setup(build) {
    build.onResolve({ filter: /^\./ }, async (args) => {
      if (args.pluginData === ON_USE || !CLIENT_NODE_MODULE.test(args.importer)) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: ON_USE });
      if (resolved.errors.length > 0 || resolved.external || !CLIENT_NODE_MODULE.test(resolved.path) || /[\\/]polyfill\.js$/.test(resolved.path)) return undefined;
      return { ...resolved, sideEffects: false };
    });
  },
};

/**
 * Packages imported at the top of a module that uses them only on a path most operators
 * never take, each with the modules whose imports of it are deferred:
 * - client-node's kubeconfig imports its proxy agents, which it makes only for a cluster
 *   with a `proxy-url` (with what they import: ip-address, debug, `dns`, `tty`; Maestro's
 *   transport then proxies through undici's agents, lib/client/transport.ts);
 * - prom-client's process CPU metric requires OpenTelemetry's API, for exemplars, which
 *   are off unless asked for.
 * With the modules left out above, about 20 ms of CPU at every start (bench/README.md).
 */
const ON_DEMAND_PACKAGES: ReadonlyArray<{ name: RegExp; importer: RegExp }> = [
  { name: /^(socks|socks-proxy-agent|hpagent)$/, importer: CLIENT_NODE_MODULE },
  { name: /^@opentelemetry\/api$/, importer: /[\\/]prom-client[\\/]/ },
];

/**
 * The imports of {@link ON_DEMAND_PACKAGES} get a stand-in with the package's exports
 * (their names read from the package, loaded in the bundling process) that evaluates the
 * package the first time one of them is read. Only a package whose exports are a plain
 * object can stand in so; another, or one left external, is imported as it is.
 */
const packagesOnDemand: Plugin = {
  name: 'maestro-packages-on-demand',
  setup(build) {
    // esbuild calls back only for the listed packages' names.
    build.onResolve({ filter: new RegExp(ON_DEMAND_PACKAGES.map((entry) => entry.name.source).join('|')) }, async (args) => {
      if (args.pluginData === ON_DEMAND || (args.kind !== 'import-statement' && args.kind !== 'require-call')) return undefined;
      if (!ON_DEMAND_PACKAGES.some((entry) => entry.name.test(args.path) && entry.importer.test(args.importer))) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: ON_DEMAND });
      if (resolved.errors.length > 0 || resolved.external) return undefined;
      let keys: string[];
      try {
        const exports: unknown = createRequire(args.importer)(args.path);
        if (typeof exports !== 'object' || exports === null) return undefined;
        keys = Object.keys(exports);
      } catch {
        return undefined;
      }
      // Named by the package's file relative to the working directory, as esbuild names files
      // (the bundle then does not depend on where it was made); `.cjs`: the stand-in is a
      // CommonJS module whatever the package's own file is (esbuild goes by the extension).
      const name = relative(build.initialOptions.absWorkingDir ?? process.cwd(), resolved.path).split(sep).join('/');
      return { path: `${name}.on-demand.cjs`, namespace: ON_DEMAND, pluginData: { target: resolved.path, keys } };
    });
    build.onLoad({ filter: /.*/, namespace: ON_DEMAND }, (args) => {
      const { target, keys } = args.pluginData as { target: string; keys: string[] };
      return {
        contents: `var load = () => require(${JSON.stringify(target)});\nvar standIn = {};\n`
          + `for (const key of ${JSON.stringify(keys)}) Object.defineProperty(standIn, key, { enumerable: true, get: () => load()[key], set: (value) => { load()[key] = value; } });\n`
          + 'module.exports = standIn;\n',
        loader: 'js',
        resolveDir: dirname(target),
      };
    });
  },
};

/** prom-client's root module. */
const PROM_CLIENT_INDEX = /[\\/]prom-client[\\/]index\.js$/;

/**
 * prom-client's exports that its root module requires at once and Maestro never uses at
 * start: the push gateway (which loads `node:zlib`), the default metrics (every metric
 * module, OpenTelemetry's API, GC and event loop observers) and the cluster aggregation.
 */
const PROM_CLIENT_ON_USE = ['Pushgateway', 'collectDefaultMetrics', 'aggregators', 'AggregatorRegistry'];

/**
 * prom-client's root module with the `exports.<name> = require('./lib/...')` of
 * {@link PROM_CLIENT_ON_USE} made getters that require the module when the export is first
 * read (and then become the data property it was); `undefined` when one of them is not
 * written so (another prom-client: bundled as it is).
 */
export function promClientIndex(source: string): string | undefined {
  let out = source.replace(/\r\n/g, '\n');
  for (const name of PROM_CLIENT_ON_USE) {
    const statement = new RegExp(`^exports\\.${name} =\\s*(require\\('\\./lib/[\\w/]+'\\)(?:\\.\\w+)?);$`, 'm');
    const match = statement.exec(out);
    if (!match) return undefined;
    out = out.replace(statement, () => `Object.defineProperty(exports, '${name}', { enumerable: true, configurable: true, `
      + `get() { const value = ${match[1]}; Object.defineProperty(exports, '${name}', { value, writable: true, enumerable: true, configurable: true }); return value; }, `
      + `set(value) { Object.defineProperty(exports, '${name}', { value, writable: true, enumerable: true, configurable: true }); } });`);
  }
  return out;
}

/**
 * prom-client's root module through {@link promClientIndex}: about 4 ms less CPU at every
 * start (bench/README.md). Left as it is, with a warning in `notOnUse`, when it is written
 * otherwise.
 */
const promClientOnUse = (notOnUse: string[]): Plugin => ({
  name: 'maestro-prom-client-on-use',
  setup(build) {
    build.onLoad({ filter: PROM_CLIENT_INDEX, namespace: 'file' }, async (args) => {
      const contents = promClientIndex(await readFile(args.path, 'utf8'));
      if (contents === undefined) notOnUse.push(args.path);
      return contents === undefined ? undefined : { contents, loader: 'js' };
    });
  },
});

/** A module of client-node's models folder: a model (`V1ConfigMap.js`), its serializer or its index. */
const CLIENT_NODE_MODEL = /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]gen[\\/]models[\\/]\w+\.js$/;

/**
 * A client-node model module as generated (client-node 2.x, all 912 of them): comments, a
 * class with `getAttributeTypeMap()`, no discriminator, no mapping, its attributes as an
 * array literal that is JSON, and its source map's comment. Anything else is bundled as
 * written.
 */
const GENERATED_MODEL = /^(?:\s*\/\*(?:[^*]|\*(?!\/))*\*\/)*\s*export class (\w+) \{\n {4}static getAttributeTypeMap\(\) \{\n {8}return \1\.attributeTypeMap;\n {4}\}\n {4}constructor\(\) \{\n {4}\}\n\}\n\1\.discriminator = undefined;\n\1\.mapping = undefined;\n\1\.attributeTypeMap = (\[[\s\S]*\]);\s*(?:\/\/# sourceMappingURL=\S*\s*)?$/;

/** The module the models made by {@link clientNodeModels} import their factory from. */
const MODEL_FACTORY = 'maestro:client-node-model';

/**
 * The factory of {@link clientNodeModels}, an ES module: the same class as the generated
 * module declares (its name, static `getAttributeTypeMap()`, `discriminator` and `mapping`
 * undefined, a writable `attributeTypeMap`), whose attributes are parsed from JSON when first
 * read; the property is then a data property, as generated. Assigned before, it is set on
 * the class assigned to, as a data property would be (a subclass gets its own).
 */
export const MODEL_FACTORY_SOURCE = `export function model(name, attributes) {
  const Model = class {
    static getAttributeTypeMap() {
      return Model.attributeTypeMap;
    }
  };
  Object.defineProperty(Model, 'name', { value: name, configurable: true });
  Model.discriminator = undefined;
  Model.mapping = undefined;
  const field = (value) => ({ value, writable: true, enumerable: true, configurable: true });
  let parsed;
  Object.defineProperty(Model, 'attributeTypeMap', {
    enumerable: true,
    configurable: true,
    get() {
      parsed ??= JSON.parse(attributes);
      Reflect.defineProperty(Model, 'attributeTypeMap', field(parsed));
      return parsed;
    },
    set(value) {
      Object.defineProperty(this, 'attributeTypeMap', field(value));
    },
  });
  return Model;
}
`;

/**
 * What {@link clientNodeModels} bundles for the client-node model module `file` (`V1ConfigMap.js`)
 * of source `source`: one call of the factory, with the attributes as JSON; `undefined` when
 * the module is not as generated (bundled as written then).
 */
export function modelModule(source: string, file: string): string | undefined {
  const match = GENERATED_MODEL.exec(source.replace(/\r\n/g, '\n'));
  if (!match || `${match[1]}.js` !== file) return undefined;
  let attributes: unknown;
  try {
    attributes = JSON.parse(match[2]!);
  } catch {
    return undefined;
  }
  if (!Array.isArray(attributes)) return undefined;
  return `import { model } from ${JSON.stringify(MODEL_FACTORY)};\nexport const ${match[1]} = /* @__PURE__ */ model(${JSON.stringify(match[1])}, ${JSON.stringify(JSON.stringify(attributes))});\n`;
}

/**
 * client-node's 757 model classes are evaluated at every start (its serializer's type map
 * names them all), and their code was 58 % of the bundle's cached code (0.82 of 1.41 MB;
 * about 28 ms of CPU at each start to read and compile it, bench/README.md). Each
 * generated model module becomes one call of a shared factory with its attributes as a JSON
 * string, parsed when a serializer first asks for them: the same classes, to their names,
 * statics and prototypes (test/cli/bundle.integration.test.ts compares every one with the
 * package's). A model module written otherwise (another client-node) is bundled as is and
 * named in `notGenerated`, from which `bundle` warns.
 */
const clientNodeModels = (notGenerated: string[]): Plugin => ({
  name: 'maestro-client-node-models',
  setup(build) {
    build.onResolve({ filter: new RegExp(`^${MODEL_FACTORY}$`) }, () => ({ path: MODEL_FACTORY, namespace: MODEL_FACTORY }));
    build.onLoad({ filter: /.*/, namespace: MODEL_FACTORY }, () => ({ contents: MODEL_FACTORY_SOURCE, loader: 'js' }));
    build.onLoad({ filter: CLIENT_NODE_MODEL, namespace: 'file' }, async (args) => {
      if (/[\\/](ObjectSerializer|all)\.js$/.test(args.path)) return undefined;
      const contents = modelModule(await readFile(args.path, 'utf8'), basename(args.path));
      if (contents === undefined) notGenerated.push(args.path);
      return contents === undefined ? undefined : { contents, loader: 'js' };
    });
  },
});

/**
 * `<entry>.mjs`, the file users run: it turns on Node's compile cache in `compile-cache`
 * beside it (unless `NODE_COMPILE_CACHE` names another folder), portable so that the folder
 * can be copied elsewhere (an image's), then runs the bundle. V8 then reads the code
 * `bundle` compiled instead of parsing megabytes of source (measured: 50 ms of CPU at each
 * start). Where the cache does not fit (another Node, other flags, changed files), Node
 * compiles as without it.
 */
const starter = (code: string) => `// Made by maestro-operator bundle: runs ${code} with the compile cache made for it.
import { readdirSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';
if (!process.env.NODE_COMPILE_CACHE && typeof module.enableCompileCache === 'function') {
  process.env.NODE_COMPILE_CACHE_PORTABLE ??= '1';
  const directory = fileURLToPath(new URL('${COMPILE_CACHE}', import.meta.url));
  // Node keeps the cache per user: one made for another user is not used.
  const uid = process.getuid?.();
  let made = [];
  try { made = readdirSync(directory); } catch {}
  if (uid !== undefined && made.length > 0 && !made.some((name) => name.endsWith(\`-\${uid}\`))) {
    process.emitWarning(\`the compile cache in \${directory} was made for user \${made.map((name) => name.slice(name.lastIndexOf('-') + 1)).join(', ')}, this process runs as user \${uid}: it starts without it (bundle with --cache-uid \${uid})\`);
  }
  module.enableCompileCache(directory);
}
await import(${JSON.stringify(`./${code}`)});
`;

/** The compile cache's folder, beside the bundle. */
const COMPILE_CACHE = 'compile-cache';

/** An export `node:module` does not have: importing it fails when modules are linked, after they are compiled and before any runs. */
const COMPILE_ONLY = 'maestroCompileOnly';

/**
 * Fills `directory` with V8's code for `modules` (the bundle and its side modules) under the
 * operator's flags (V8 rejects code cached under other flags), in a Node process that
 * compiles them without running them: a module importing them and an export `node:module` does not have fails to link, and
 * linking comes after compiling and before evaluating. Returns why it failed, if it did.
 */
async function prepareCompileCache(modules: readonly string[], directory: string, nodeFlags: readonly string[]): Promise<string | undefined> {
  const scratch = await mkdtemp(join(tmpdir(), 'maestro-compile-'));
  try {
    const linkFails = join(scratch, 'compile-only.mjs');
    await writeFile(linkFails, `${modules.map((module) => `import ${JSON.stringify(pathToFileURL(module).href)};\n`).join('')}import { ${COMPILE_ONLY} } from 'node:module';\n`);
    const script = [
      "import module from 'node:module';",
      'const [directory, linkFails] = process.argv.slice(1);',
      "process.env.NODE_COMPILE_CACHE_PORTABLE = '1';",
      'const enabled = module.enableCompileCache(directory);',
      "if (!enabled.directory) throw new Error(`no compile cache: ${enabled.message ?? 'status ' + enabled.status}`);",
      `try { await import(linkFails); throw new Error('the bundle was linked'); } catch (err) { if (!String(err?.message).includes('${COMPILE_ONLY}')) throw err; }`,
      'module.flushCompileCache();',
    ].join('\n');
    const env = { ...process.env };
    delete env.NODE_COMPILE_CACHE;
    delete env.NODE_DISABLE_COMPILE_CACHE;
    await promisify(execFile)(process.execPath, [...nodeFlags, '--input-type=module', '--eval', script, directory, linkFails], { env, timeout: 120_000 });
    const written = await readdir(directory, { recursive: true, withFileTypes: true });
    if (!written.some((entry) => entry.isFile())) return 'Node wrote no compile cache';
    // Node writes it for its own user only (0600); an image's operator runs as another.
    for (const entry of written) await chmod(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
    await chmod(directory, 0o755);
    return undefined;
  } catch (err) {
    const error = err as { stderr?: string; message?: string };
    return (error.stderr?.trim().split('\n').find((line) => /Error/.test(line)) ?? error.message ?? String(err)).trim();
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Renames the compile cache's folder for `uid` (Node names it `<version>-<arch>-<flags>-<uid>`,
 * made here for the bundling user), so that the operator's user finds it. Returns why it
 * failed, if it did.
 */
async function cacheForUser(directory: string, uid: number | undefined): Promise<string | undefined> {
  const own = process.getuid?.();
  if (uid === undefined || own === undefined || uid === own) return undefined;
  if (!Number.isInteger(uid) || uid < 0) return `not a user id: ${uid}`;
  const made = (await readdir(directory)).filter((name) => name.endsWith(`-${own}`));
  if (made.length !== 1) return `expected one cache folder for user ${own} in ${directory}, found ${made.length}`;
  await rename(join(directory, made[0]!), join(directory, `${made[0]!.slice(0, -String(own).length)}${uid}`));
  return undefined;
}

/**
 * What the bundle's `__name` calls ({@link cheaperNames}): defines `name` as esbuild's
 * helper does, unless it already is that value.
 */
export const NAME_SETTER = "(target, value) => Object.getOwnPropertyDescriptor(target, 'name')?.value === value ? target : Object.defineProperty(target, 'name', { value, configurable: true })";

// CommonJS modules inside an ES module bundle call `require` for Node's built-ins.
const BANNER = "import { createRequire as __maestroCreateRequire } from 'node:module';\n"
  + 'const require = __maestroCreateRequire(import.meta.url);\n'
  + `const __maestroName = ${NAME_SETTER};`;

/** The body of esbuild's `__name` helper (`keepNames`), minified or not. */
const NAME_HELPER_BODY = /__defProp\(target, ?"name", ?\{ ?value, ?configurable: ?(?:true|!0) ?\}\)/g;

/**
 * `code` (esbuild's output, with {@link BANNER}) with its `__name` helper calling
 * `__maestroName`, which defines a function's or class's `name` only when it is not that
 * already; `undefined` when the helper is not there exactly once as esbuild 0.28 writes it.
 *
 * `keepNames` makes esbuild call `__name(fn, "fn")` for every function and class it might
 * rename (Maestro and its users find classes by name): 2,000 calls in the bench's
 * operator, most at start, 1,170 of them for a name the function already has. Each is an
 * `Object.defineProperty`; a comparison instead saves about 5 ms of CPU at every start
 * (bench/README.md), and nested functions made per call (e.g. pino's redaction) no longer
 * redefine their name each time. The result is the same: a name that differs, or is an
 * accessor, is defined as esbuild would (and a frozen function that has its name, on which
 * esbuild's helper would throw, is left as it is, as unbundled). The new body is padded
 * with spaces to the old one's length, so that the source map's columns on that line
 * still hold.
 */
export function cheaperNames(code: string): string | undefined {
  const found = code.match(NAME_HELPER_BODY);
  if (found?.length !== 1) return undefined;
  return code.replace(NAME_HELPER_BODY, (body) => '__maestroName(target,value)'.padEnd(body.length, ' '));
}

/**
 * Bundles an operator's compiled entry module into `outdir` with esbuild.
 *
 * Settings, and why: platform node, one ES module (modules imported on demand are
 * included but, as in Node, evaluated only when imported), but for the packages Maestro
 * loads only on first use, written beside it ({@link SIDE_MODULES}, {@link SIDE_ASSETS});
 * packages' ES module builds first, so that what is never imported is left out; class and
 * function names kept (Maestro finds classes by name); ASCII output; linked source maps.
 * Side files an earlier bundle of the same entry left in `outdir` are removed.
 *
 * @example
 * ```ts
 * const { entry } = await bundle({ entry: 'dist/src/main.js' });  // dist/bundle/main.mjs
 * ```
 */
export async function bundle(options: BundleOptions): Promise<BundleResult> {
  const entry = resolve(options.entry);
  const entryStat = await stat(entry).catch(() => undefined);
  if (!entryStat?.isFile()) throw new UsageError(`no such file: ${options.entry} (bundle a compiled module, e.g. dist/src/main.js)`);
  const outdir = resolve(options.outdir ?? join('dist', 'bundle'));
  const name = basename(entry, extname(entry));
  // Imported here: esbuild is needed by this command only.
  const esbuild = await import('esbuild');
  const common = {
    bundle: true,
    // Non-ASCII characters in strings and names escaped (asciiOnly below does the rest).
    charset: 'ascii',
    format: 'esm',
    platform: 'node',
    target: 'node22.19',
    // A package's ES module build first: esbuild can then leave out what is never imported
    // (most of class-validator's validators and their libphonenumber-js and validator
    // tables: 8 MiB less at rest, measured). One instance per package still holds inside
    // the bundle: every import of a package resolves the same way, and the one deep
    // CommonJS import (class-transformer's metadata store) is redirected below. (A side
    // module carries its own copies of what its package needs, e.g. undici's core: the
    // bundle hands it only a dispatcher, which undici's fetch uses by its methods.)
    mainFields: ['module', 'main'],
    keepNames: true,
    minifyWhitespace: !options.readable,
    minifySyntax: !options.readable,
    sourcemap: 'linked',
    banner: { js: BANNER },
    external: [...(options.external ?? [])],
    write: false,
    logLevel: 'silent',
  } satisfies BuildOptions;
  let notGenerated: string[] = [];
  let notOnUse: string[] = [];
  const build = (sides: Map<string, SideModule>, assets: Map<string, string>, inBundle: ReadonlySet<string>) => esbuild.build({
    ...common,
    entryPoints: { [`${name}.code`]: entry },
    outdir,
    // No code splitting: esbuild gives a CommonJS package imported with `import()` from a
    // chunk only a default export, where Node gives its named exports too (the side modules
    // are Maestro's own imports, written with their exports).
    splitting: false,
    outExtension: { '.js': '.mjs' },
    metafile: true,
    plugins: [sideModules(name, sides, options.external ?? [], inBundle), sideAssets(name, assets), sameClassTransformerStore, clientNodeUndici, clientNodeModulesOnUse, clientNodeModels(notGenerated), promClientOnUse(notOnUse), packagesOnDemand, builtinsThroughRequire],
  });
  let sides = new Map<string, SideModule>();
  let assets = new Map<string, string>();
  let result = await build(sides, assets, new Set());
  // A side module's package that other code in the bundle imports too stays in the bundle:
  // one instance of it, as Node would load (its state, its classes).
  const inputs = new Set(Object.keys(result.metafile.inputs).map((input) => resolve(input)));
  const inBundle = new Set([...sides.values()].filter(({ resolved }) => inputs.has(resolved)).map(({ side }) => side.name));
  if (inBundle.size > 0) {
    sides = new Map();
    assets = new Map();
    notGenerated = [];
    notOnUse = [];
    result = await build(sides, assets, inBundle);
  }
  const outputs = [...result.outputFiles];
  const warnings = await esbuild.formatMessages(result.warnings, { kind: 'warning', color: false });
  for (const path of new Set(notOnUse)) {
    warnings.push(`prom-client's root module (${path}) is not as the bundle command knows it: bundled as written, it loads what an operator does not use at every start\n`);
  }
  if (notGenerated.length > 0) {
    warnings.push(`${notGenerated.length} of client-node's model modules are not as the bundle command knows them (e.g. ${notGenerated[0]}): bundled as written, they cost the operator more CPU at every start\n`);
  }
  const sideFiles: string[] = [];
  for (const { side, file } of sides.values()) {
    const built = await esbuild.build({
      ...common,
      stdin: { contents: sideModuleSource(side), resolveDir: dirname(side.importer), sourcefile: `${side.name} (side module)`, loader: 'js' },
      outfile: join(outdir, file),
      plugins: [sideAssets(name, assets), builtinsThroughRequire],
    });
    outputs.push(...built.outputFiles);
    warnings.push(...await esbuild.formatMessages(built.warnings, { kind: 'warning', color: false }));
    sideFiles.push(join(outdir, file));
  }
  await mkdir(outdir, { recursive: true });
  // An earlier bundle's side files that this one does not write (e.g. a package now --external).
  const written = new Set([...outputs.map((file) => basename(file.path)), ...assets.keys()]);
  for (const file of await readdir(outdir)) {
    if (isSideFile(name, file) && !written.has(file)) await rm(join(outdir, file), { force: true });
  }
  let bytes = 0;
  for (const file of outputs) {
    // ASCII: one other character makes V8 hold the whole source two bytes per character.
    let text = file.path.endsWith('.mjs') ? asciiOnly(file.text) : file.text;
    if (file.path.endsWith('.mjs') && text.includes('__name(')) {
      const named = cheaperNames(text);
      if (named === undefined) warnings.push(`esbuild's __name helper in ${basename(file.path)} is not as the bundle command knows it: left as it is, it costs the operator more CPU at every start\n`);
      text = named ?? text;
    }
    if (file.path === join(outdir, `${name}.code.mjs`)) bytes += Buffer.byteLength(text);
    await writeFile(file.path, text);
  }
  // Written, not copied: a copy would keep the mode of a read-only node_modules.
  for (const [file, source] of assets) await writeFile(join(outdir, file), await readFile(source));
  const code = join(outdir, `${name}.code.mjs`);
  const start = join(outdir, `${name}.mjs`);
  await writeFile(start, starter(basename(code)));
  // Code cached for an earlier bundle is of no use.
  const compileCache = join(outdir, COMPILE_CACHE);
  await rm(compileCache, { recursive: true, force: true });
  const failed = await prepareCompileCache([code, ...sideFiles], compileCache, options.nodeFlags ?? OPERATOR_NODE_FLAGS)
    ?? await cacheForUser(compileCache, options.cacheUid);
  if (failed) warnings.push(`no compile cache was made (the operator will parse the bundle at each start): ${failed}`);
  return { entry: start, code, sideModules: sideFiles, files: [start, ...outputs.map((file) => file.path), ...[...assets.keys()].map((file) => join(outdir, file))], bytes, compileCache: failed ? undefined : compileCache, warnings };
}

/**
 * `code` with every non-ASCII character written as a `\uXXXX` escape (per UTF-16 code unit).
 * esbuild escapes them in strings and identifiers, not in regular expression literals
 * (evanw/esbuild#4205; class-validator's `isAlpha` tables have them), and one such
 * character makes V8 hold the whole source in two bytes per character. In strings,
 * identifiers and patterns (with or without the `u` flag, where an escaped surrogate pair
 * is one code point) the escape means the same character; only a pattern's `source` and a
 * tagged template's raw text show the escape, and source-map columns after it on the same
 * line shift.
 */
export function asciiOnly(code: string): string {
  // An odd run of backslashes before the character escapes it (`\\ä` is `ä`): the escape replaces that one.
  return code.replace(/(\\*)([\u0080-\uffff])/g, (_, slashes: string, c: string) =>
    `${slashes.length % 2 ? slashes.slice(1) : slashes}\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `maestro-operator bundle ...`; returns the exit code. */
export async function bundleCommand(args: string[], log: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      outdir: { type: 'string' },
      readable: { type: 'boolean' },
      external: { type: 'string', multiple: true },
      'node-flags': { type: 'string' },
      'cache-uid': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return log(BUNDLE_HELP.trimEnd()), 0;
  if (positionals.length !== 1) throw new UsageError(`bundle takes one entry module\n\n${BUNDLE_HELP}`);
  const nodeFlags = values['node-flags']?.split(/\s+/).filter(Boolean);
  const cacheUid = values['cache-uid'] === undefined ? undefined : Number(values['cache-uid']);
  if (cacheUid !== undefined && !(Number.isInteger(cacheUid) && cacheUid >= 0)) throw new UsageError(`--cache-uid takes a user id (a number), not ${values['cache-uid']}\n\n${BUNDLE_HELP}`);
  const result = await bundle({ entry: positionals[0]!, outdir: values.outdir, readable: values.readable ?? false, external: values.external ?? [], nodeFlags, cacheUid });
  for (const warning of result.warnings) log(warning.trimEnd());
  const sides = result.files.filter((file) => file !== result.entry && file !== result.code && !file.endsWith('.map')).length;
  const maps = sides ? ` and ${sides} side file${sides === 1 ? '' : 's'}, the source maps` : ', its source map';
  log(`wrote ${relative(process.cwd(), result.code)} (${(result.bytes / 1048576).toFixed(1)} MiB)${maps}${result.compileCache ? ' and compile cache' : ''}; run ${relative(process.cwd(), result.entry)}`);
  return 0;
}
