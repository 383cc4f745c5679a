/**
 * `maestro-operator bundle`: an operator's compiled entry module and everything it imports,
 * as one ES module, with esbuild.
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
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { basename, extname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Plugin } from 'esbuild';
import { OPERATOR_NODE_FLAGS } from './node-flags.js';
import { UsageError } from './usage.js';

export const BUNDLE_HELP = `Usage:
  maestro-operator bundle <entry.js> [--outdir <dir>] [--readable] [--external <package>]...

Bundles the operator's compiled entry module (e.g. dist/src/main.js, the file that calls
createOperator) and everything it imports into one ES module, <dir>/<entry>.mjs (default
--outdir: dist/bundle), with its source map. Run it with the operator's flags:
  node ${OPERATOR_NODE_FLAGS.join(' ')} dist/bundle/main.mjs
The bundle needs no node_modules (a container image copies only <dir>). Compared with
running dist/ from node_modules it starts with a fraction of the CPU and holds tens of MiB
less: @kubernetes/client-node's API classes, which an operator does not call, are left out.

Options:
  --outdir <dir>          where to write the bundle (default: dist/bundle)
  --readable              keep whitespace and comments (names are always kept, so stack
                          traces name the functions; node --enable-source-maps maps them
                          to the sources through <entry>.mjs.map)
  --external <package>    leave a package out of the bundle (loaded from node_modules at run
                          time), e.g. one with native code; repeatable
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
}

/** What `bundle` wrote. */
export interface BundleResult {
  /** The bundle's entry file, to run with `node`. */
  entry: string;
  /** Every file written (the bundle and its source map). */
  files: string[];
  /** Bytes of JavaScript written (without the source map). */
  bytes: number;
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

/**
 * Node's built-in modules, imported with `import`, are loaded with `require` instead. An ES
 * module import of a built-in makes Node build its ES module facade, which reads every
 * export, and so runs every lazy getter: `import http from 'node:http'` loads Node's
 * internal copy of undici (for `http.WebSocket`), about 40 ms of CPU at each start that
 * `require('node:http')` does not spend. Through `require`, esbuild's interop reads an
 * export only where the code uses it; the values are the same objects.
 */
const builtinsThroughRequire: Plugin = {
  name: 'maestro-builtins-through-require',
  setup(build) {
    build.onResolve({ filter: /^[a-z_:/]+$/ }, (args) =>
      (args.kind === 'import-statement' || args.kind === 'dynamic-import') && isBuiltin(args.path)
        ? { path: args.path, namespace: 'maestro-builtin' }
        : undefined);
    build.onLoad({ filter: /.*/, namespace: 'maestro-builtin' }, (args) =>
      ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

// CommonJS modules inside an ES module bundle call `require` for Node's built-ins.
const BANNER = "import { createRequire as __maestroCreateRequire } from 'node:module';\n"
  + 'const require = __maestroCreateRequire(import.meta.url);';

/**
 * Bundles an operator's compiled entry module into `outdir` with esbuild.
 *
 * Settings, and why: platform node, one ES module (modules imported on demand are
 * included but, as in Node, evaluated only when imported); packages' ES module builds
 * first, so that what is never imported is left out; class and function names kept
 * (Maestro finds classes by name); ASCII output; linked source maps.
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
  // Imported here: esbuild is needed by this command only.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { [basename(entry, extname(entry))]: entry },
    outdir,
    bundle: true,
    // Non-ASCII characters in strings and names escaped (asciiOnly below does the rest).
    charset: 'ascii',
    // No code splitting: esbuild gives a CommonJS package imported with `import()` from a
    // chunk only a default export, where Node gives its named exports too.
    splitting: false,
    format: 'esm',
    platform: 'node',
    target: 'node22.19',
    outExtension: { '.js': '.mjs' },
    // A package's ES module build first: esbuild can then leave out what is never imported
    // (most of class-validator's validators and their libphonenumber-js and validator
    // tables: 8 MiB less at rest, measured). One instance per package still holds: every
    // import of a package resolves the same way inside the bundle, and the one deep
    // CommonJS import (class-transformer's metadata store) is redirected below.
    mainFields: ['module', 'main'],
    plugins: [sameClassTransformerStore, builtinsThroughRequire],
    keepNames: true,
    minifyWhitespace: !options.readable,
    minifySyntax: !options.readable,
    sourcemap: 'linked',
    banner: { js: BANNER },
    external: [...(options.external ?? [])],
    write: false,
    logLevel: 'silent',
  });
  await mkdir(outdir, { recursive: true });
  let bytes = 0;
  for (const file of result.outputFiles) {
    // ASCII: one other character makes V8 hold the whole source two bytes per character.
    const text = file.path.endsWith('.mjs') ? asciiOnly(file.text) : file.text;
    if (file.path.endsWith('.mjs')) bytes += Buffer.byteLength(text);
    await writeFile(file.path, text);
  }
  const files = result.outputFiles.map((file) => file.path);
  const warnings = await esbuild.formatMessages(result.warnings, { kind: 'warning', color: false });
  return { entry: join(outdir, `${basename(entry, extname(entry))}.mjs`), files, bytes, warnings };
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
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return log(BUNDLE_HELP.trimEnd()), 0;
  if (positionals.length !== 1) throw new UsageError(`bundle takes one entry module\n\n${BUNDLE_HELP}`);
  const result = await bundle({ entry: positionals[0]!, outdir: values.outdir, readable: values.readable ?? false, external: values.external ?? [] });
  for (const warning of result.warnings) log(warning.trimEnd());
  log(`wrote ${relative(process.cwd(), result.entry)} (${(result.bytes / 1048576).toFixed(1)} MiB) and its source map`);
  return 0;
}
