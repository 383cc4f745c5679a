import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdYAML, rbacYAML } from '../../lib/generate/index.js';
import { StaticSite } from '../../samples/static-site/site.js';
import { staticSiteComponents } from '../../samples/static-site/reconcilers.js';
import { runCli } from '../support/cli.js';

const dist = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

describe('the maestro-operator CLI', function () {
  this.timeout(90_000); // each case spawns the CLI, slow on a loaded machine

  it('explains itself with --help, for every command', async () => {
    const top = await runCli(['--help']);
    expect(top.code).to.equal(0);
    expect(top.stdout).to.contain('maestro-operator init <dir>').and.contain('generate crd').and.contain('generate rbac');
    const init = await runCli(['init', '--help']);
    expect(init.code).to.equal(0);
    expect(init.stdout).to.contain('Usage: maestro-operator init <dir> [options]');
    for (const args of [['generate', '--help'], ['generate', 'crd', '--help'], ['generate', 'rbac', '--help']]) {
      const help = await runCli(args);
      expect(help.code, args.join(' ')).to.equal(0);
      expect(help.stdout).to.contain('maestro-operator generate crd <module...>');
    }
    const bundle = await runCli(['bundle', '--help']);
    expect(bundle.code).to.equal(0);
    expect(bundle.stdout).to.contain('maestro-operator bundle <entry.js>');
    expect(top.stdout).to.contain('maestro-operator bundle <entry.js>');
  });

  it('fails with usage and exit code 2 on a command line that does not fit', async () => {
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain("unknown command 'frobnicate'");
    const missing = await runCli(['generate', 'rbac', dist('samples/static-site/reconcilers.js')]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('generate rbac needs --name <operator>');
    const none = await runCli(['generate', 'crd']);
    expect(none.code).to.equal(2);
    expect(none.stderr).to.contain('name at least one compiled module');
    const noEntry = await runCli(['bundle', 'dist/no-such-main.js']);
    expect(noEntry.code).to.equal(2);
    expect(noEntry.stderr).to.contain('no such file: dist/no-such-main.js');
    const badUid = await runCli(['bundle', dist('samples/static-site/main.js'), '--cache-uid', 'operator']);
    expect(badUid.code).to.equal(2);
    expect(badUid.stderr).to.contain('--cache-uid takes a user id (a number), not operator');
  });

  it('writes the CRD and RBAC of compiled modules, exactly as the library generates them', async () => {
    const crd = await runCli(['generate', 'crd', dist('samples/static-site/site.js')]);
    expect(crd.code, crd.stderr).to.equal(0);
    expect(crd.stdout).to.equal(crdYAML([StaticSite]));
    const dir = await mkdtemp(join(tmpdir(), 'maestro-cli-'));
    try {
      const out = join(dir, 'deploy', 'rbac.yaml');
      const rbac = await runCli(['generate', 'rbac', dist('samples/static-site/reconcilers.js'), '--name', 'sites',
        '--service-account', 'ops/sites', '--namespaces', 'a,b', '--leader-election', 'ops', '--out', out]);
      expect(rbac.code, rbac.stderr).to.equal(0);
      expect(await readFile(out, 'utf8')).to.equal(rbacYAML(staticSiteComponents, {
        name: 'sites', serviceAccount: { namespace: 'ops', name: 'sites' }, namespaces: ['a', 'b'], leaderElection: { namespace: 'ops' },
      }));
      expect(await readFile(out, 'utf8')).to.contain('name: sites-metrics-auth').and.contain('name: sites-metrics-reader');
      // An operator that serves no authenticated metrics needs no review rights.
      const plain = await runCli(['generate', 'rbac', dist('samples/static-site/reconcilers.js'), '--name', 'sites',
        '--service-account', 'ops/sites', '--no-metrics-auth']);
      expect(plain.code, plain.stderr).to.equal(0);
      expect(plain.stdout).to.equal(rbacYAML(staticSiteComponents, { name: 'sites', serviceAccount: { namespace: 'ops', name: 'sites' }, metricsAuth: false }));
      expect(plain.stdout).not.to.contain('tokenreviews');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to scaffold into a directory that is not empty, and an invalid operator name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maestro-cli-'));
    try {
      const busy = await runCli(['init', dist('')]);
      expect(busy.code).to.equal(2);
      expect(busy.stderr).to.contain('is not empty');
      const bad = await runCli(['init', join(dir, 'x'), '--name', 'Not_Valid']);
      expect(bad.code).to.equal(2);
      expect(bad.stderr).to.contain("'Not_Valid' is not a valid operator name");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
