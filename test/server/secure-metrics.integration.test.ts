// Secure metrics against the real API server: TokenReview + SubjectAccessReview decide who
// may scrape, over IPv4 and IPv6, with the operator running as a ServiceAccount that has only
// the rules METRICS_AUTH_RULES lists.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Counter, Registry } from 'prom-client';
import {
  MetricsServer, metricsAuthClusterRole, metricsReaderClusterRole, reviewClientFromKubeConfig, selfSignedCertificate,
  type ReviewClient,
} from '../../lib/server/index.js';
import type { ControlPlane } from '../../lib/testing/index.js';
import { sharedControlPlane } from '../support/control-plane.js';
import { get } from '../support/https-client.js';
import { hasIPv6Loopback } from '../support/ipv6.js';
import { serviceAccountKubeConfig } from '../support/service-account.js';
import { eventually } from '../support/wait.js';

/** Wraps a ReviewClient to count calls and inject failures of the first calls. */
function instrumented(client: ReviewClient, failFirst: { tokenReviews?: number; error?: () => Error } = {}) {
  const counts = { tokenReviews: 0, subjectAccessReviews: 0 };
  return {
    counts,
    client: {
      createTokenReview: (review, signal) => {
        counts.tokenReviews++;
        if (counts.tokenReviews <= (failFirst.tokenReviews ?? 0)) return Promise.reject(failFirst.error?.() ?? Object.assign(new Error('injected: service unavailable'), { statusCode: 503 }));
        return client.createTokenReview(review, signal);
      },
      createSubjectAccessReview: (review, signal) => {
        counts.subjectAccessReviews++;
        return client.createSubjectAccessReview(review, signal);
      },
    } satisfies ReviewClient,
  };
}

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('server: secure metrics on the real API server', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  let namespace: string;
  let operator: KubeConfig;
  let scraperToken: string;
  let strangerToken: string;
  let name: string;
  const registry = new Registry();
  new Counter({ name: 'scrapes_demo_total', help: 'a metric to find', registers: [registry] }).inc(7);
  const servers: MetricsServer[] = [];
  const start = async (server: MetricsServer) => { servers.push(server); await server.start(); return server; };

  before(async () => {
    plane = await sharedControlPlane();
    namespace = await plane.createNamespace('metrics');
    name = `maestro-test-${namespace}`;
    const core = plane.kubeConfig.makeApiClient(CoreV1Api);
    const rbac = plane.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    for (const account of ['operator', 'scraper', 'stranger', 'unprivileged-operator']) {
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: account } } });
    }
    const auth = await rbac.createClusterRole({ body: metricsAuthClusterRole(name) });
    const reader = await rbac.createClusterRole({ body: metricsReaderClusterRole(name) });
    const bind = (role: string, account: string) => rbac.createClusterRoleBinding({ body: {
      metadata: { name: `${role}-${account}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'ServiceAccount', name: account, namespace }],
    } });
    await bind(auth.metadata!.name!, 'operator');
    await bind(reader.metadata!.name!, 'scraper');
    operator = await serviceAccountKubeConfig(plane.kubeConfig, { name: 'operator', namespace });
    scraperToken = (await serviceAccountKubeConfig(plane.kubeConfig, { name: 'scraper', namespace })).getCurrentUser()!.token!;
    strangerToken = (await serviceAccountKubeConfig(plane.kubeConfig, { name: 'stranger', namespace })).getCurrentUser()!.token!;
    // RBAC reaches the authorizer through an informer: wait until the operator may review.
    await eventually(async () => (await reviewClientFromKubeConfig(operator).createTokenReview({ spec: { token: scraperToken } }, AbortSignal.timeout(5000))).status?.authenticated, { message: 'operator may create TokenReviews' });
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    const rbac = plane?.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    for (const role of [`${name}-metrics-auth`, `${name}-metrics-reader`]) {
      await rbac?.deleteClusterRole({ name: role }).catch(() => undefined);
    }
    for (const binding of [`${name}-metrics-auth-operator`, `${name}-metrics-reader-scraper`]) {
      await rbac?.deleteClusterRoleBinding({ name: binding }).catch(() => undefined);
    }
  });

  it('answers 401 without a valid token, 403 to a ServiceAccount without metrics-reader, 200 with it: over 127.0.0.1 and [::1]', async () => {
    const server = await start(new MetricsServer({ port: 0, metrics: () => registry.metrics(), reviews: reviewClientFromKubeConfig(operator) }));
    const ca = server.certificatePem!;
    const { port } = new URL(server.url!);
    const hosts = hasIPv6Loopback() ? ['127.0.0.1', '[::1]'] : ['127.0.0.1'];
    expect(hosts, 'this machine has the IPv6 loopback; both families are tested').to.have.length(2);
    for (const host of hosts) {
      const url = `https://${host}:${port}/metrics`;
      const anonymous = await get(url, { ca });
      expect([anonymous.status, anonymous.body, anonymous.headers['www-authenticate']], `${host} anonymous`).to.deep.equal([401, 'Unauthorized\n', 'Bearer']);
      expect((await get(url, { ca, token: 'not-a-real-token' })).status, `${host} bad token`).to.equal(401);
      const stranger = await get(url, { ca, token: strangerToken });
      expect([stranger.status, stranger.body], `${host} stranger`).to.deep.equal([403, `Authorization denied for user system:serviceaccount:${namespace}:stranger\n`]);
      const scraper = await eventually(async () => {
        const res = await get(url, { ca, token: scraperToken });
        return res.status === 200 ? res : undefined;
      }, { message: `${host}: the scraper is allowed once its ClusterRoleBinding is effective` });
      expect(scraper.body).to.contain('scrapes_demo_total 7');
      expect(scraper.fingerprint).to.equal(fingerprintOf(ca));
      // Only GET is granted: a POST is authenticated, then denied.
      expect((await get(url, { ca, token: scraperToken, method: 'POST' })).status, `${host} POST`).to.equal(403);
    }
  });

  it('caches decisions briefly: repeated and concurrent scrapes cost one TokenReview and one SubjectAccessReview', async () => {
    const reviews = instrumented(reviewClientFromKubeConfig(operator));
    const server = await start(new MetricsServer({ port: 0, host: '127.0.0.1', metrics: () => registry.metrics(), reviews: reviews.client }));
    const url = `${server.url}/metrics`;
    const ca = server.certificatePem!;
    const first = await Promise.all([1, 2, 3].map(() => get(url, { ca, token: scraperToken })));
    expect(first.map((r) => r.status)).to.deep.equal([200, 200, 200]);
    for (let i = 0; i < 5; i++) expect((await get(url, { ca, token: scraperToken })).status).to.equal(200);
    expect(reviews.counts).to.deep.equal({ tokenReviews: 1, subjectAccessReviews: 1 });
    // A denial is cached too (30 s), so a denied client cannot make the operator hammer the API server.
    for (let i = 0; i < 3; i++) expect((await get(url, { ca, token: strangerToken })).status).to.equal(403);
    expect(reviews.counts).to.deep.equal({ tokenReviews: 2, subjectAccessReviews: 2 });
  });

  it('retries reviews the API server fails, and answers 500 (and keeps serving) when they keep failing', async () => {
    const flaky = instrumented(reviewClientFromKubeConfig(operator), { tokenReviews: 2 });
    const server = await start(new MetricsServer({ port: 0, host: '127.0.0.1', metrics: () => registry.metrics(), reviews: flaky.client, auth: { retryDelayMs: 10 } }));
    expect((await get(`${server.url}/metrics`, { ca: server.certificatePem!, token: scraperToken })).status).to.equal(200);
    expect(flaky.counts.tokenReviews).to.equal(3);

    const down = instrumented(reviewClientFromKubeConfig(operator), { tokenReviews: 1_000, error: () => new Error('connect ECONNREFUSED') });
    const broken = await start(new MetricsServer({ port: 0, host: '127.0.0.1', metrics: () => registry.metrics(), reviews: down.client, auth: { retryDelayMs: 10, attempts: 3 } }));
    const failed = await get(`${broken.url}/metrics`, { ca: broken.certificatePem!, token: scraperToken });
    expect([failed.status, failed.body]).to.deep.equal([500, 'Authentication failed\n']);
    expect(down.counts.tokenReviews).to.equal(3);
    expect((await get(`${broken.url}/metrics`, { ca: broken.certificatePem!, token: scraperToken })).status).to.equal(500, 'errors are not cached, the server lives');
  });

  it('answers 500, without retrying, when the operator lacks the tokenreviews rule', async () => {
    const unprivileged = await serviceAccountKubeConfig(plane.kubeConfig, { name: 'unprivileged-operator', namespace });
    const reviews = instrumented(reviewClientFromKubeConfig(unprivileged));
    const server = await start(new MetricsServer({ port: 0, host: '127.0.0.1', metrics: () => registry.metrics(), reviews: reviews.client }));
    const res = await get(`${server.url}/metrics`, { ca: server.certificatePem!, token: scraperToken });
    expect([res.status, res.body]).to.deep.equal([500, 'Authentication failed\n']);
    expect(reviews.counts.tokenReviews).to.equal(1, 'a 403 from the API server is not retried');
  });

  it('serves a mounted certificate and reloads it when the files change (keeping the last good one)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'maestro-serving-'));
    try {
      const first = await selfSignedCertificate();
      const second = await selfSignedCertificate();
      await writeFile(join(dir, 'tls.crt'), first.certPem);
      await writeFile(join(dir, 'tls.key'), first.keyPem);
      const server = await start(new MetricsServer({
        port: 0, host: '127.0.0.1', metrics: () => registry.metrics(), reviews: reviewClientFromKubeConfig(operator),
        tls: { certDir: dir }, certReloadIntervalMs: 200,
      }));
      const ca = [first.certPem, second.certPem];
      const scrape = () => get(`${server.url}/metrics`, { ca, token: scraperToken });
      expect((await scrape()).fingerprint).to.equal(fingerprintOf(first.certPem));
      await writeFile(join(dir, 'tls.key'), second.keyPem);
      await writeFile(join(dir, 'tls.crt'), second.certPem);
      const reloaded = await eventually(async () => {
        const res = await scrape();
        return res.fingerprint === fingerprintOf(second.certPem) ? res : undefined;
      }, { message: 'the new certificate is served' });
      expect(reloaded.status).to.equal(200);
      expect(server.certificatePem).to.equal(second.certPem);
      // A half-written update (a key that does not match) is not taken: the last good pair stays.
      await writeFile(join(dir, 'tls.key'), first.keyPem);
      await server.reloadCertificate();
      expect((await scrape()).fingerprint).to.equal(fingerprintOf(second.certPem));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
