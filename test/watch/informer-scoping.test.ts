// What a scoped informer asks the API server for, and what it keeps: selectors in the list
// and watch queries, PartialObjectMetadata asked for by the Accept header, a transform,
// and indexes kept up to date with watch events (a local HTTP server plays the API server).
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { V1ConfigMap, type KubernetesObject } from '@kubernetes/client-node';
import { ApiError } from '../../lib/index.js';
import { ApiTransport, Backoff, Informer, METADATA_LIST_ACCEPT, METADATA_WATCH_ACCEPT, resourceOf } from '../../lib/runtime/index.js';
import { waitFor } from '../queue/wait.js';
import { kubeConfigFor } from '../support/kubeconfig.js';

const meta = (name: string, rv: string, labels: Record<string, string> = {}) => ({
  name, namespace: 'web', uid: `uid-${name}`, resourceVersion: rv, creationTimestamp: '2026-01-02T03:04:05Z', labels,
  managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:data': {} } }],
});

describe('a scoped informer (against a local HTTP server)', () => {
  let server: Server;
  const requests: Array<{ url: string; accept: string | undefined }> = [];
  let watchResponse: ((res: ServerResponse) => void) | undefined;
  let transport: ApiTransport;

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      requests.push({ url: req.url ?? '', accept: req.headers.accept });
      const url = new URL(req.url ?? '/', 'http://x');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (url.searchParams.get('watch') !== 'true') {
        res.end(JSON.stringify({
          apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadataList', metadata: { resourceVersion: '10' },
          items: [
            { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: meta('a', '5', { site: 's1' }) },
            { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: meta('b', '6', { site: 's1' }) },
          ],
        }));
        return;
      }
      const respond = watchResponse;
      watchResponse = undefined;
      if (respond) respond(res);
      // Later watches stay open and silent until the informer stops.
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    transport = ApiTransport.create(kubeConfigFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 't'));
  });
  after(async () => {
    await transport.close(100);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends the selectors and asks for metadata only; keeps apiVersion, kind and metadata (no managedFields); indexes follow events', async () => {
    const event = (type: string, name: string, rv: string, labels: Record<string, string>) =>
      `${JSON.stringify({ type, object: { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: meta(name, rv, labels) } })}\n`;
    watchResponse = (res) => {
      res.write(event('ADDED', 'c', '11', { site: 's2' }));
      res.write(event('MODIFIED', 'a', '12', { site: 's2' }));
      res.write(event('DELETED', 'b', '13', { site: 's1' }));
      res.end();
    };
    let transformErrors = 0;
    const informer = new Informer<KubernetesObject>({
      transport,
      resource: resourceOf(V1ConfigMap),
      namespace: 'web',
      labelSelector: 'app=site',
      fieldSelector: 'metadata.name!=skip',
      metadataOnly: true,
      transform: (obj) => {
        if (obj.metadata?.name === 'c' && transformErrors++ === 0) throw new Error('transform bug');
        return { ...obj, metadata: { ...obj.metadata, annotations: { transformed: 'yes' } } };
      },
      indexes: [{ field: 'site', extract: (obj) => obj.metadata?.labels?.['site'] }],
    });
    informer.start();
    await informer.waitForSync();
    await waitFor(() => informer.resourceVersion === '13', 'the watch events applied');
    await informer.stop();

    const [list, watch] = requests;
    expect(list!.accept).to.equal(METADATA_LIST_ACCEPT);
    expect(watch!.accept).to.equal(METADATA_WATCH_ACCEPT);
    for (const r of [list!, watch!]) {
      const params = new URL(r.url, 'http://x').searchParams;
      expect(params.get('labelSelector')).to.equal('app=site');
      expect(params.get('fieldSelector')).to.equal('metadata.name!=skip');
    }
    expect(informer.list().map((o) => o.metadata?.name).sort()).to.deep.equal(['a', 'c']);
    const a = informer.get('a', 'web')!;
    expect(Object.keys(a).sort()).to.deep.equal(['apiVersion', 'kind', 'metadata']);
    expect(a).to.include({ apiVersion: 'v1', kind: 'ConfigMap' });
    expect(a.metadata?.managedFields).to.equal(undefined);
    expect(a.metadata?.creationTimestamp).to.be.instanceOf(Date);
    expect(a.metadata?.annotations).to.deep.equal({ transformed: 'yes' });
    expect(informer.get('c', 'web')!.metadata?.annotations, 'the transform threw: stored as it came').to.equal(undefined);
    expect(informer.stats.transformErrors).to.equal(1);
    const byIndex = (site: string) => informer.list(undefined, undefined, { site }).map((o) => o.metadata?.name).sort();
    expect(byIndex('s2')).to.deep.equal(['a', 'c']);
    expect(byIndex('s1'), 'a moved to s2, b was deleted').to.deep.equal([]);
    expect(() => informer.list(undefined, undefined, { nope: 'x' })).to.throw(/has no index 'nope' \(its indexes: site\)/);
  });

  it('a first list refused as a bad request (400) fails the sync after three in a row; one or two are retried', async () => {
    let refusals = 0;
    let lists = 0;
    const refusing = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.searchParams.get('watch') === 'true') return; // stays open and silent
      lists++;
      if (lists <= refusals) {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'BadRequest', code: 400, message: 'field label not supported: spec.bogus' }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: '10' }, items: [] }));
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const local = ApiTransport.create(kubeConfigFor(`http://127.0.0.1:${(refusing.address() as AddressInfo).port}`, 't'));
    const informerFor = () => new Informer<KubernetesObject>({ transport: local, resource: resourceOf(V1ConfigMap), namespace: 'web', fieldSelector: 'spec.bogus=1', backoff: new Backoff(5, 20) });
    try {
      // Two refusals (e.g. a replica that has not yet seen a CRD's new selectableFields), then the list: synced.
      refusals = 2;
      lists = 0;
      const passing = informerFor();
      passing.start();
      await passing.waitForSync(AbortSignal.timeout(10_000));
      expect([lists, passing.lastError]).to.deep.equal([3, undefined]);
      await passing.stop();

      // Refused every time: the waiters get the API server's answer after the third, not at the sync timeout.
      refusals = 1_000;
      lists = 0;
      const refused = informerFor();
      refused.start();
      const err = await refused.waitForSync(AbortSignal.timeout(10_000)).then(() => undefined, (e: unknown) => e);
      await refused.stop();
      expect(err).to.be.instanceOf(ApiError);
      expect((err as ApiError).statusCode).to.equal(400);
      expect((err as ApiError).message).to.contain('field label not supported: spec.bogus');
      expect(refused.lastError).to.equal(err);
      expect(lists).to.be.within(3, 4);
    } finally {
      await local.close(100);
      refusing.closeAllConnections();
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  });
});
