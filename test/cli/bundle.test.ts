// The pure parts of `maestro-operator bundle`: asciiOnly, the escape pass it runs over
// esbuild's output, which leaves non-ASCII characters in regular expression literals; and
// modelModule, what it bundles for a client-node model module.
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInThisContext } from 'node:vm';
import { asciiOnly, modelModule } from '../../lib/cli/bundle.js';

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

  it('leaves a module written otherwise as it is: a discriminator, another body, attributes that are not JSON, another name', () => {
    const generated = source('V1ConfigMap.js');
    expect(modelModule(generated, 'V1ConfigMap.js')).to.be.a('string');
    expect(modelModule(generated.replace('V1ConfigMap.discriminator = undefined;', 'V1ConfigMap.discriminator = "kind";'), 'V1ConfigMap.js'), 'discriminator').to.equal(undefined);
    expect(modelModule(generated.replace('    constructor() {\n    }\n', '    constructor() {\n        this.kind = "ConfigMap";\n    }\n'), 'V1ConfigMap.js'), 'constructor').to.equal(undefined);
    expect(modelModule(generated.replace('"format": "byte"', "format: 'byte'"), 'V1ConfigMap.js'), 'not JSON').to.equal(undefined);
    expect(modelModule(`${generated}\nexport const extra = 1;\n`, 'V1ConfigMap.js'), 'more code').to.equal(undefined);
    expect(modelModule(generated, 'V1Secret.js'), 'file of another name').to.equal(undefined);
  });
});
