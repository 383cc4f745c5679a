import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ControlPlaneAssetsError, controlPlaneAssets, type ControlPlaneAssets } from '../../lib/testing/index.js';
import { rejectionOf } from './helpers.js';

const variables = ['TEST_ASSET_KUBE_APISERVER', 'TEST_ASSET_ETCD', 'TEST_ASSET_KUBE_CONTROLLER_MANAGER', 'TEST_ASSET_KUBECTL', 'KUBEBUILDER_ASSETS'];

describe('testing: finding the control plane binaries', () => {
  let cached: ControlPlaneAssets;
  let saved: Record<string, string | undefined>;
  let folder: string;

  before(async () => {
    saved = Object.fromEntries(variables.map((v) => [v, process.env[v]]));
    for (const v of variables) delete process.env[v];
    cached = await controlPlaneAssets();
    // A setup-envtest style folder: the same binary names, elsewhere.
    folder = await mkdtemp(join(tmpdir(), 'maestro-assets-'));
    await symlink(cached.kubeApiServer, join(folder, 'kube-apiserver'));
    await symlink(cached.etcd, join(folder, 'etcd'));
  });

  afterEach(() => {
    for (const v of variables) delete process.env[v];
  });

  after(async () => {
    for (const v of variables) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
    await rm(folder, { recursive: true, force: true });
  });

  it('finds the cached binaries when nothing is configured', () => {
    expect(cached.dir).to.be.a('string');
    expect(cached.kubeApiServer).to.equal(join(cached.dir!, 'kube-apiserver'));
    expect(cached.etcd).to.equal(join(cached.dir!, 'etcd'));
    expect(cached.kubeControllerManager).to.equal(join(cached.dir!, 'kube-controller-manager'));
    expect(cached.kubectl).to.equal(join(cached.dir!, 'kubectl'));
  });

  it('prefers $KUBEBUILDER_ASSETS, taking what it lacks from the cache', async () => {
    process.env['KUBEBUILDER_ASSETS'] = folder;
    const found = await controlPlaneAssets();
    expect(found).to.include({ kubeApiServer: join(folder, 'kube-apiserver'), etcd: join(folder, 'etcd'), dir: folder });
    expect(found.kubectl).to.equal(cached.kubectl);
  });

  it('prefers TEST_ASSET_* variables over $KUBEBUILDER_ASSETS', async () => {
    process.env['KUBEBUILDER_ASSETS'] = folder;
    process.env['TEST_ASSET_ETCD'] = cached.etcd;
    const found = await controlPlaneAssets();
    expect(found.etcd).to.equal(cached.etcd);
    expect(found.kubeApiServer).to.equal(join(folder, 'kube-apiserver'));
  });

  it('rejects a TEST_ASSET_* variable that names no executable', async () => {
    process.env['TEST_ASSET_KUBE_APISERVER'] = join(folder, 'missing');
    const err = await rejectionOf(controlPlaneAssets());
    expect(err).to.be.instanceOf(ControlPlaneAssetsError);
    expect((err as ControlPlaneAssetsError).message).to.include('TEST_ASSET_KUBE_APISERVER');
  });
});
