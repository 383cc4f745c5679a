import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GoMissingError, atLeast, findGo, parseGoVersion, sourceKey } from '../../bench/controller-runtime.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('bench controller-runtime contender build', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'bench-go-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parses `go version` output', () => {
    expect(parseGoVersion('go version go1.26.8 linux/amd64')).to.deep.equal([1, 26, 8]);
    expect(parseGoVersion('go version go1.27rc1 linux/amd64')).to.deep.equal([1, 27, 0]);
    expect(parseGoVersion('command not found')).to.equal(undefined);
  });

  it('compares versions part by part', () => {
    expect(atLeast([1, 26, 0], [1, 26])).to.equal(true);
    expect(atLeast([1, 25, 9], [1, 26])).to.equal(false);
    expect(atLeast([2, 0, 0], [1, 26])).to.equal(true);
  });

  it('keys the cached binary by the sources, whatever their order', () => {
    const a = sourceKey([{ name: 'go.mod', content: 'module x' }, { name: 'main.go', content: 'package main' }]);
    const b = sourceKey([{ name: 'main.go', content: 'package main' }, { name: 'go.mod', content: 'module x' }]);
    const c = sourceKey([{ name: 'go.mod', content: 'module x' }, { name: 'main.go', content: 'package main // changed' }]);
    expect(a).to.match(/^[0-9a-f]{16}$/);
    expect(a).to.equal(b);
    expect(a).to.not.equal(c);
  });

  it('says what to do when there is no Go', () => {
    expect(() => findGo({ PATH: dir }, [])).to.throw(GoMissingError, /no Go toolchain was found.*--contenders maestro,baseline,peer/);
    expect(() => findGo({ GO: join(dir, 'nope') }, [])).to.throw(GoMissingError, /GO=.*nope is not a Go toolchain/);
  });

  it('refuses a Go older than the module needs', () => {
    const fake = join(dir, 'go');
    writeFileSync(fake, '#!/bin/sh\necho "go version go1.21.4 linux/amd64"\n');
    chmodSync(fake, 0o755);
    expect(() => findGo({ PATH: dir }, [])).to.throw(GoMissingError, /needs Go >= 1\.26, found 1\.21\.4/);
    const fine = join(dir, 'go');
    writeFileSync(fine, '#!/bin/sh\necho "go version go1.26.1 linux/amd64"\n');
    expect(findGo({ PATH: dir }, [])).to.equal(fine);
  });

  it('the bench exits with that message (and starts nothing) when Go is missing', () => {
    const result = spawnSync(process.execPath, [join(root, 'dist', 'bench', 'run.js'), '--only', 'convergence', '--contenders', 'cr', '--n', '1'], {
      encoding: 'utf8',
      env: { ...process.env, GO: join(dir, 'no-go'), XDG_CACHE_HOME: dir },
      timeout: 30_000,
    });
    expect(result.status).to.equal(2);
    expect(result.stderr).to.match(/GO=.*no-go is not a Go toolchain/);
    expect(result.stderr).to.not.match(/control plane/);
  });
});
