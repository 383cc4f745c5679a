// asciiOnly: the escape pass `maestro-operator bundle` runs over esbuild's output, which
// leaves non-ASCII characters in regular expression literals.
import { expect } from 'chai';
import { runInThisContext } from 'node:vm';
import { asciiOnly } from '../../lib/cli/bundle.js';

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
