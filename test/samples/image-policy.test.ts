// The static-site sample's image allow-list: the guard against an operator turned into a
// confused deputy that runs whatever image a StaticSite names.
import { expect } from 'chai';
import { loadYaml } from '@kubernetes/client-node';
import { validateResource } from '../../lib/validation/index.js';
import { StaticSite, allowedImageSources, imageRepository, isAllowedImage } from '../../samples/static-site/site.js';

const site = (image: string) => loadYaml<StaticSite>(`
apiVersion: sites.maestro.dev/v1
kind: StaticSite
metadata: { name: web, namespace: sites }
spec:
  image: "${image}"
  replicas: 1
  content: "<h1>hi</h1>"
`);

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('samples/static-site: image allow-list', () => {
  it('normalizes image references as Docker does', () => {
    expect(imageRepository('nginx:1.27')).to.equal('docker.io/library/nginx');
    expect(imageRepository('nginx')).to.equal('docker.io/library/nginx');
    expect(imageRepository('bitnami/nginx:1.27')).to.equal('docker.io/bitnami/nginx');
    expect(imageRepository('index.docker.io/library/nginx:1.27')).to.equal('docker.io/library/nginx');
    expect(imageRepository(`ghcr.io/org/app@${DIGEST}`)).to.equal('ghcr.io/org/app');
    expect(imageRepository(`ghcr.io/org/app:1.0@${DIGEST}`)).to.equal('ghcr.io/org/app');
    expect(imageRepository('localhost:5000/nginx')).to.equal('localhost:5000/nginx');
    expect(imageRepository('localhost/nginx:1')).to.equal('localhost/nginx');
  });

  it('matches sources whole path segments at a time', () => {
    const sources = ['docker.io/library', 'registry.example.com'];
    expect(isAllowedImage('nginx:1.27', sources)).to.equal(true);
    expect(isAllowedImage('registry.example.com/team/web:2', sources)).to.equal(true);
    for (const image of ['docker.io/libraryx/nginx:1', 'docker.io.evil.example/library/nginx:1', 'registry.example.com.evil.example/web:1',
      'evil.example/docker.io/library/nginx:1', 'bitnami/nginx:1.27', 'localhost:5000/nginx:1']) {
      expect(isAllowedImage(image, sources), image).to.equal(false);
    }
  });

  it('makes a StaticSite with a foreign image invalid (what the operator checks before reconciling)', async () => {
    expect(allowedImageSources).to.deep.equal(['docker.io/library']); // the default (STATIC_SITE_ALLOWED_IMAGES unset)
    expect(await validateResource(StaticSite, site('nginx:1.27'))).to.deep.equal([]);
    expect(await validateResource(StaticSite, site(`docker.io/library/nginx@${DIGEST}`))).to.deep.equal([]);
    expect(await validateResource(StaticSite, site('registry.evil.example/nginx:1.27'))).to.deep.equal([{
      path: 'spec.image', constraint: 'isAllowedImageSource',
      message: 'image must come from an allowed registry or repository (docker.io/library)',
    }]);
  });

  it('follows changes of the list at run time', async () => {
    const saved = [...allowedImageSources];
    try {
      allowedImageSources.push('registry.example.com/web');
      expect(await validateResource(StaticSite, site('registry.example.com/web/nginx:1.27'))).to.deep.equal([]);
      expect((await validateResource(StaticSite, site('registry.example.com/other/nginx:1.27'))).map((v) => v.constraint)).to.deep.equal(['isAllowedImageSource']);
    } finally {
      allowedImageSources.splice(0, allowedImageSources.length, ...saved);
    }
  });
});
