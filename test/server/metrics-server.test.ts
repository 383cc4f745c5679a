import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Registry } from 'prom-client';
import { MetricsServer, ServerConfigError, selfSignedCertificate } from '../../lib/server/index.js';
import { get } from '../support/https-client.js';
import { catchError } from '../support/errors.js';

/** Records uncaught exceptions and unhandled rejections while installed (mocha would otherwise swallow some). */
function watchProcess(): { problems: unknown[]; restore: () => void } {
  const problems: unknown[] = [];
  const record = (err: unknown) => problems.push(err);
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  return { problems, restore: () => { process.off('uncaughtException', record); process.off('unhandledRejection', record); } };
}

describe('server: MetricsServer', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => { await server?.stop(); server = undefined; });

  describe('with secure: false (local development)', () => {
    it('serves a prom-client registry over plain HTTP', async () => {
      const registry = new Registry();
      new Counter({ name: 'demo_total', help: 'demo', registers: [registry] }).inc(3);
      server = new MetricsServer({ secure: false, port: 0, metrics: () => registry.metrics(), contentType: registry.contentType });
      await server.start();
      expect(server.url).to.match(/^http:\/\//);
      const res = await get(`${server.url}/metrics`);
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.equal(registry.contentType);
      expect(res.body).to.contain('demo_total 3');
      expect((await get(`${server.url}/other`)).status).to.equal(404);
      expect((await get(`${server.url}/metrics`, { method: 'DELETE' })).status).to.equal(405);
    });

    it('answers 500 when the collector throws or rejects, and the process and server live on', async () => {
      const watch = watchProcess();
      try {
        let mode: 'throw' | 'reject' | 'string' | 'slow-reject' | 'ok' = 'throw';
        server = new MetricsServer({
          secure: false, port: 0,
          metrics: () => {
            if (mode === 'throw') throw new Error('collector exploded');
            if (mode === 'reject') return Promise.reject(new Error('collector rejected'));
            if (mode === 'string') throw 'not even an Error'; // eslint-disable-line @typescript-eslint/only-throw-error -- the case under test: a collector throwing a non-Error
            if (mode === 'slow-reject') return new Promise<string>((_, reject) => setTimeout(() => reject(new Error('late')), 50));
            return 'up 1\n';
          },
        });
        await server.start();
        for (const failing of ['throw', 'reject', 'string', 'slow-reject'] as const) {
          mode = failing;
          const res = await get(`${server.url}/metrics`);
          expect([res.status, res.body], failing).to.deep.equal([500, 'collecting metrics failed\n']);
        }
        mode = 'ok';
        const res = await get(`${server.url}/metrics`);
        expect([res.status, res.body]).to.deep.equal([200, 'up 1\n']);
        // Give any stray rejection a turn of the event loop to surface.
        await new Promise((resolve) => setImmediate(resolve));
        expect(watch.problems).to.deep.equal([]);
      } finally {
        watch.restore();
      }
    });

    it('refuses tls options without secure serving', () => {
      expect(catchError(() => new MetricsServer({ secure: false, metrics: () => '', tls: { certDir: '/x' } }))).to.be.instanceOf(ServerConfigError);
    });
  });

  describe('secure (the default)', () => {
    it('cannot be created without a way to review tokens', () => {
      const err = catchError(() => new MetricsServer({ metrics: () => '' }));
      expect(err).to.be.instanceOf(ServerConfigError);
      expect((err as Error).message).to.contain('reviewClientFromKubeConfig');
    });

    it('fails to start, with a typed error naming the files, when the certificate files are missing or not a pair', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'maestro-certs-'));
      try {
        const reviews = { createTokenReview: () => Promise.reject(new Error('unused')), createSubjectAccessReview: () => Promise.reject(new Error('unused')) };
        const missing = await new MetricsServer({ metrics: () => '', reviews, port: 0, tls: { certDir: dir } }).start().then(() => undefined, (e: unknown) => e);
        expect(missing).to.be.instanceOf(ServerConfigError);
        expect((missing as Error).message).to.contain(join(dir, 'tls.crt'));
        const a = await selfSignedCertificate();
        const b = await selfSignedCertificate();
        await writeFile(join(dir, 'tls.crt'), a.certPem);
        await writeFile(join(dir, 'tls.key'), b.keyPem);
        const mismatch = await new MetricsServer({ metrics: () => '', reviews, port: 0, tls: { certDir: dir } }).start().then(() => undefined, (e: unknown) => e);
        expect(mismatch).to.be.instanceOf(ServerConfigError);
        expect((mismatch as Error).message).to.match(/not a valid pair: .*key values mismatch/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
