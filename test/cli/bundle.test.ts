// The pure parts of `maestro-operator bundle`: asciiOnly, the escape pass it runs over
// esbuild's output, which leaves non-ASCII characters in regular expression literals;
// modelModule, what it bundles for a client-node model module; promClientIndex;
// cheaperNames, its pass over esbuild's `__name` helper; builtinModule.
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInThisContext } from 'node:vm';
import { MODEL_FACTORY_SOURCE, NAME_SETTER, asciiOnly, builtinModule, cheaperNames, modelModule, promClientIndex } from '../../lib/cli/bundle.js';

/** Evaluates `code` (statements ending in a `return`) as a function body. */
const evaluate = (code: string): unknown => runInThisContext(`(() => { ${code} })()`);

describe('maestro-operator bundle: asciiOnly', () => {
  const cases: Array<[string, string]> = [
    ['a pattern (class-validator isAlpha style)', 'return [/^[A-ZÄÖÜß]+$/i.test("ÄÖÜ"), /^[A-ZÄÖÜß]+$/i.test("É")];'],
    ['a string and an identifier', 'const café = "naïve"; return café + "ü";'],
    ['an astral character in a u pattern and a string', 'return [/^[😀]$/u.test("😀"), "😀".length, [..."😀"].length];'],
    ['an identity escape in a pattern and a string', 'return [/\\ä/.test("ä"), "\\ä"];'],
    ['an escaped backslash before the character', 'return "\\\\ä";'],
  ];
  for (const [what, code] of cases) {
    it(`keeps the meaning of ${what}`, () => {
      const ascii = asciiOnly(code);
      expect(ascii).not.to.match(/[\u0080-\uffff]/);
      expect(evaluate(ascii)).to.deep.equal(evaluate(code));
    });
  }

  it('leaves ASCII code as it is', () => {
    const code = 'const x = /[a-z]\\u00e4/u; return "\\\\u00e4";';
    expect(asciiOnly(code)).to.equal(code);
  });
});

describe('maestro-operator bundle: client-node models through one factory (modelModule)', () => {
  const models = dirname(createRequire(import.meta.url).resolve('@kubernetes/client-node/dist/gen/models/V1ConfigMap.js'));
  const source = (file: string) => readFileSync(join(models, file), 'utf8');
  /** The factory call's arguments: the class name and the attributes' JSON. */
  const call = (module: string) => {
    const match = /model\(("\w+"), ("(?:[^"\\]|\\.)*")\);\n$/.exec(module);
    return match ? { name: JSON.parse(match[1]!) as string, attributes: JSON.parse(JSON.parse(match[2]!) as string) as unknown } : undefined;
  };

  it("takes every model module of the installed client-node, with the attributes the package's class has", async () => {
    const files = readdirSync(models).filter((file) => file.endsWith('.js') && file !== 'ObjectSerializer.js' && file !== 'all.js');
    expect(files.length).to.be.above(900);
    expect(files.filter((file) => modelModule(source(file), file) === undefined), 'not taken').to.deep.equal([]);
    for (const file of ['V1ConfigMap.js', 'V1ObjectMeta.js', 'V1JSONSchemaProps.js']) {
      const name = file.slice(0, -3);
      const { [name]: Model } = await import(pathToFileURL(join(models, file)).href) as Record<string, { attributeTypeMap: unknown }>;
      expect(call(modelModule(source(file), file)!), file).to.deep.equal({ name, attributes: Model!.attributeTypeMap });
    }
  });

  it('leaves a module written otherwise as it is: a discriminator, another body, attributes that are not JSON, another name, code between comments', () => {
    const generated = source('V1ConfigMap.js');
    expect(modelModule(generated, 'V1ConfigMap.js')).to.be.a('string');
    expect(modelModule(generated.replace(/\n/g, '\r\n'), 'V1ConfigMap.js'), 'CRLF line ends').to.equal(modelModule(generated, 'V1ConfigMap.js'));
    expect(modelModule(`/* a */ globalThis.sideEffect = 1; /* b */\n${generated}`, 'V1ConfigMap.js'), 'code between comments').to.equal(undefined);
    expect(modelModule(generated.replace('V1ConfigMap.discriminator = undefined;', 'V1ConfigMap.discriminator = "kind";'), 'V1ConfigMap.js'), 'discriminator').to.equal(undefined);
    expect(modelModule(generated.replace('    constructor() {\n    }\n', '    constructor() {\n        this.kind = "ConfigMap";\n    }\n'), 'V1ConfigMap.js'), 'constructor').to.equal(undefined);
    expect(modelModule(generated.replace('"format": "byte"', "format: 'byte'"), 'V1ConfigMap.js'), 'not JSON').to.equal(undefined);
    expect(modelModule(`${generated}\nexport const extra = 1;\n`, 'V1ConfigMap.js'), 'more code').to.equal(undefined);
    expect(modelModule(generated, 'V1Secret.js'), 'file of another name').to.equal(undefined);
  });
});

describe('maestro-operator bundle: the model factory (MODEL_FACTORY_SOURCE)', () => {
  type Model = (new () => object) & { attributeTypeMap: unknown; getAttributeTypeMap(): unknown };
  const generated = createRequire(import.meta.url).resolve('@kubernetes/client-node/dist/gen/models/V1ConfigMap.js');
  let Generated: Model;
  let make: () => Model;
  before(async () => {
    ({ V1ConfigMap: Generated } = await import(pathToFileURL(generated).href) as { V1ConfigMap: Model });
    const { model } = await import(`data:text/javascript,${encodeURIComponent(MODEL_FACTORY_SOURCE)}`) as { model: (name: string, attributes: string) => Model };
    make = () => model('V1ConfigMap', JSON.stringify(Generated.attributeTypeMap));
  });
  /** Own properties with their attributes (values compared where they are data, not functions). */
  const shape = (target: object) => Object.getOwnPropertyNames(target).map((key) => {
    const descriptor = Object.getOwnPropertyDescriptor(target, key)!;
    const value: unknown = descriptor.value;
    return {
      key, writable: descriptor.writable, enumerable: descriptor.enumerable, configurable: descriptor.configurable,
      accessor: 'get' in descriptor, value: typeof value === 'function' || key === 'prototype' ? typeof value : value,
    };
  });

  it('makes a class shaped as the generated one once its attributes are read: name, statics, their attributes, prototype, instances', () => {
    const Made = make();
    expect(Made.getAttributeTypeMap()).to.deep.equal(Generated.getAttributeTypeMap());
    expect(shape(Made)).to.deep.equal(shape(Generated));
    expect(shape(Made.prototype as object)).to.deep.equal(shape(Generated.prototype as object));
    expect(Object.keys(new Made())).to.deep.equal(Object.keys(new Generated()));
    expect(new Made()).to.be.instanceOf(Made);
  });

  it('takes an assignment before the first read, on the class assigned to, as a data property would (a subclass gets its own)', () => {
    const replaced = [{ name: 'a', baseName: 'a', type: 'string', format: '' }];
    const Made = make();
    Made.attributeTypeMap = replaced;
    expect(Made.getAttributeTypeMap()).to.equal(replaced);
    for (const Parent of [make(), Generated]) {
      const Sub = class extends Parent {} as unknown as Model;
      Sub.attributeTypeMap = replaced;
      expect(Sub.getAttributeTypeMap(), Parent === Generated ? 'generated' : 'made').to.equal(Parent.attributeTypeMap);
      expect(Sub.attributeTypeMap).to.equal(replaced);
      expect(Parent.attributeTypeMap).to.deep.equal(Generated.attributeTypeMap);
    }
  });

  it('reads its attributes from a class frozen before the first read', () => {
    const Made = Object.freeze(make());
    expect(Made.getAttributeTypeMap()).to.deep.equal(Generated.attributeTypeMap);
    expect(Made.getAttributeTypeMap()).to.equal(Made.getAttributeTypeMap());
  });
});

describe('maestro-operator bundle: prom-client on first use (promClientIndex)', () => {
  const index = createRequire(import.meta.url).resolve('prom-client');
  const source = readFileSync(index, 'utf8');

  it("makes the installed prom-client's push gateway, default metrics and cluster aggregation getters that require them when first read", () => {
    const out = promClientIndex(source)!;
    for (const name of ['Pushgateway', 'collectDefaultMetrics', 'aggregators', 'AggregatorRegistry']) {
      expect(out, name).not.to.match(new RegExp(`^exports\\.${name} =`, 'm'));
      expect(out, name).to.contain(`Object.defineProperty(exports, '${name}', { enumerable: true, configurable: true, get() { const value = require(`);
    }
    // What an operator uses stays as it is.
    for (const line of ["exports.Registry = require('./lib/registry');", "exports.Counter = require('./lib/counter');", "exports.Histogram = require('./lib/histogram');"]) expect(out).to.contain(line);
  });

  it('gives exports that read as before, and take an assignment', () => {
    const exports: Record<string, unknown> = {};
    const required: string[] = [];
    const require = (path: string) => (required.push(path), { aggregators: { sum: 'sum' }, path });
    (runInThisContext(`(function (exports, require) {\n${promClientIndex(source)!}\n})`) as (exports: object, require: (path: string) => unknown) => void)(exports, require);
    const atOnce = [...required];
    expect(atOnce).not.to.include('./lib/pushgateway');
    expect((exports['Pushgateway'] as { path: string }).path).to.equal('./lib/pushgateway');
    expect(exports['aggregators']).to.deep.equal({ sum: 'sum' });
    expect(Object.getOwnPropertyDescriptor(exports, 'Pushgateway')).to.include({ writable: true, enumerable: true, configurable: true });
    exports['collectDefaultMetrics'] = 'replaced';
    expect(exports['collectDefaultMetrics']).to.equal('replaced');
    expect(required.filter((path) => path === './lib/defaultMetrics'), 'required after the assignment').to.deep.equal([]);
  });

  it('leaves a root module written otherwise as it is', () => {
    expect(promClientIndex(source.replace("exports.Pushgateway = require('./lib/pushgateway');", "exports.Pushgateway = lazy('./lib/pushgateway');"))).to.equal(undefined);
    expect(promClientIndex(source.replace(/^exports\.collectDefaultMetrics = .*$/m, ''))).to.equal(undefined);
  });
});

describe("maestro-operator bundle: esbuild's __name helper made cheaper (cheaperNames)", () => {
  /** esbuild's output for a module with a function and a class, with keepNames. */
  const built = async (minify: boolean) => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      stdin: { contents: 'export function f() {} export class C {} export const g = [() => 1][0];', loader: 'js' },
      bundle: true, format: 'esm', keepNames: true, minifyWhitespace: minify, minifySyntax: minify, write: false, logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  };

  for (const minify of [true, false]) {
    it(`calls __maestroName from the helper esbuild writes ${minify ? 'minified' : 'readable'}, keeping every column`, async () => {
      const code = await built(minify);
      const cheaper = cheaperNames(code);
      expect(cheaper).to.be.a('string');
      expect(cheaper!.length).to.equal(code.length);
      expect(cheaper!.split('\n').map((line) => line.length)).to.deep.equal(code.split('\n').map((line) => line.length));
      expect(cheaper).to.contain('__maestroName(target,value)');
      expect(cheaper).not.to.contain('"name"');
    });
  }

  it('leaves code without the helper, or with two, to the caller (undefined)', async () => {
    const code = await built(true);
    expect(cheaperNames('const x = 1;')).to.equal(undefined);
    expect(cheaperNames(code + code)).to.equal(undefined);
  });

  it("gives every target the name property esbuild's helper gives it, and defines it only where it differs", () => {
    const esbuildName = (target: object, value: string) => Object.defineProperty(target, 'name', { value, configurable: true });
    const ours = runInThisContext(NAME_SETTER) as (target: object, value: string) => object;
    const targets: Array<[string, () => object, string]> = [
      ['a function with that name', () => function widget() { /* empty */ }, 'widget'],
      ['a function renamed by esbuild', () => function widget2() { /* empty */ }, 'widget'],
      ['an anonymous function', () => [() => 1][0]!, 'onEvent'],
      ['a class with that name', () => class Widget {}, 'Widget'],
      ['a class with a static name method', () => runInThisContext('(class Widget { static name() { return 1; } })') as object, 'Widget'],
      ['a class with a static name getter', () => runInThisContext('(class Widget { static get name() { throw new Error("read"); } })') as object, 'Widget'],
      ['an object with a writable name of that value', () => ({ name: 'x' }), 'x'],
    ];
    for (const [what, make, value] of targets) {
      const [a, b] = [make(), make()];
      expect(ours(a, value), what).to.equal(a);
      esbuildName(b, value);
      expect(Object.getOwnPropertyDescriptor(a, 'name'), what).to.deep.equal(Object.getOwnPropertyDescriptor(b, 'name'));
    }
    // Defined only where it differs: a name that is already the value stays the same property.
    const frozen = Object.freeze(function widget() { /* empty */ });
    expect(() => ours(frozen, 'widget'), 'a frozen function with that name').not.to.throw();
    expect(() => esbuildName(frozen, 'widget'), "esbuild's helper on it").to.throw(TypeError);
  });
});

describe('maestro-operator bundle: a built-in as an ES module (builtinModule)', () => {
  it("exports the module as default and each of its other exports, read at import, pure (left out when not imported)", () => {
    const source = builtinModule('node:http');
    expect(source).to.match(/^const __maestroBuiltin = require\("node:http"\);\nexport default __maestroBuiltin;\n/);
    expect(source).to.contain('export const request = /* @__PURE__ */ (() => __maestroBuiltin.request)();\n');
    // A getter (it loads Node's internal undici) is exported like the others, and read only if imported.
    expect(source).to.contain('export const WebSocket = /* @__PURE__ */ (() => __maestroBuiltin.WebSocket)();\n');
    const exported = [...source.matchAll(/^export const (\w+) =/gm)].map((match) => match[1]);
    const http = createRequire(import.meta.url)('node:http') as object;
    expect(exported.sort()).to.deep.equal(Object.keys(http).filter((key) => /^[A-Za-z_$][\w$]*$/.test(key)).sort());
  });
});
