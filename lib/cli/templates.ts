// The files `maestro-operator init` writes besides the copied sample sources.
import { OPERATOR_NODE_FLAGS } from './node-flags.js';

export interface ProjectTemplate {
  /** npm package name of the new project. */
  packageName: string;
  /** The operator's name (field manager, Lease, Events). */
  operatorName: string;
  /** npm version spec of maestro-operator, e.g. `^0.1.0` or `file:/path/to/maestro`. */
  maestroSpec: string;
  /** Exact versions of the libraries the project uses directly, kept in step with Maestro's own. */
  versions: Record<string, string>;
}

/**
 * Stops `npm test` and `npm start` with one clear line on a Node.js older than Maestro needs
 * (otherwise the first failure is deep inside a dependency's import).
 */
const NODE_CHECK = "node -e \"const [a, b] = process.versions.node.split('.').map(Number); "
  + "if (a < 22 || (a === 22 && b < 19)) { console.error('This project needs Node.js 22.19 or newer; this is ' + process.version + '. Install a newer Node.js (for example nvm install 24).'); process.exit(1); }\"";

export function packageJson(t: ProjectTemplate): string {
  const v = (name: string) => t.versions[name] ?? 'latest';
  return `${JSON.stringify({
    name: t.packageName,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=22.19.0' },
    scripts: {
      build: 'tsc -p .',
      pretest: NODE_CHECK,
      test: 'tsc -p . && mocha',
      prestart: NODE_CHECK,
      start: `node ${OPERATOR_NODE_FLAGS.join(' ')} dist/src/main.js`,
      // For the image: one ES module and its side files, no node_modules needed (run it with the same flags).
      bundle: 'tsc -p . && maestro-operator bundle dist/src/main.js --outdir dist/bundle',
      // The conversion webhook calls the Service that generate:webhooks writes and src/main.ts serves.
      'generate:crd': `tsc -p . && maestro-operator generate crd dist/src/site.js --webhook-service ${t.operatorName}/${t.operatorName}-webhook --out deploy/crd.yaml`,
      'generate:rbac': `tsc -p . && maestro-operator generate rbac dist/src/reconcilers.js --name ${t.operatorName} --service-account ${t.operatorName}/${t.operatorName} --leader-election ${t.operatorName} --out deploy/rbac.yaml`,
      'generate:webhooks': `tsc -p . && maestro-operator generate webhooks dist/src/site.js --name ${t.operatorName} --service-account ${t.operatorName}/${t.operatorName} --out deploy/webhooks.yaml`,
    },
    dependencies: {
      '@kubernetes/client-node': v('@kubernetes/client-node'),
      'class-validator': v('class-validator'),
      'maestro-operator': t.maestroSpec,
      'reflect-metadata': v('reflect-metadata'),
    },
    devDependencies: {
      '@types/chai': v('@types/chai'),
      '@types/mocha': v('@types/mocha'),
      '@types/node': v('@types/node'),
      chai: v('chai'),
      mocha: v('mocha'),
      typescript: v('typescript'),
    },
    // esbuild (for npm run bundle) checks its platform binary after install; npm 12 runs
    // only the install scripts a project allows (npm 11 warns about the others).
    allowScripts: { esbuild: true },
  }, null, 2)}\n`;
}

export const tsconfig = `${JSON.stringify({
  compilerOptions: {
    target: 'es2023',
    lib: ['es2023'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: ['node', 'mocha'],
    rootDir: '.',
    outDir: 'dist',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    useDefineForClassFields: false,
    skipLibCheck: true,
    sourceMap: true,
  },
  include: ['src', 'test'],
}, null, 2)}\n`;

export const mocharc = `${JSON.stringify({ spec: ['dist/test/**/*.test.js'], require: ['dist/test/setup.js'], timeout: 120000 }, null, 2)}\n`;

/** Mocha's global setup: the control plane binaries, found or built before any test timeout runs. */
export const testSetup = `// Before any test, outside every test timeout: find the local control plane's binaries,
// or build them once per machine from Go modules (minutes; progress on stderr).
// The same as \`npx maestro-operator envtest\`; KUBEBUILDER_ASSETS is honoured.
import { controlPlaneAssets } from 'maestro-operator/testing';

export async function mochaGlobalSetup(): Promise<void> {
  await controlPlaneAssets();
}
`;

export const gitignore = 'node_modules/\ndist/\n';

export function readme(t: ProjectTemplate): string {
  return `# ${t.packageName}

A Kubernetes operator written with [Maestro](https://www.npmjs.com/package/maestro-operator),
scaffolded from its static-site sample: a \`StaticSite\` custom resource served by nginx.

\`\`\`sh
npm install
npm test            # starts a local kube-apiserver + etcd, runs the operator against it
npm run generate:crd   # deploy/crd.yaml from the StaticSite classes (v1 and v1alpha1, converted by the operator's webhook)
npm run generate:rbac  # deploy/rbac.yaml, least privilege: the verbs the runtime calls on what the decorators declare
npm run generate:webhooks  # deploy/webhooks.yaml: the validating and mutating webhook configurations, their Service, RBAC for the CA
npm start           # runs the operator against the cluster of KUBECONFIG
npm run bundle      # dist/bundle/: the operator in one file (what Maestro loads only on first use in files beside it) and its compile cache, for its image (run main.mjs)
\`\`\`

For a container image, bundle the operator and copy only \`dist/bundle\` into the image
(no \`node_modules\`); run it as \`npm start\` does:
\`node ${OPERATOR_NODE_FLAGS.join(' ')} dist/bundle/main.mjs\`. If the image runs as another
user than the one bundling, say which (\`npm run bundle -- --cache-uid 1000\` for
\`USER 1000\`): Node keeps the compile cache per user. The bundle leaves out the
parts of \`@kubernetes/client-node\` an operator never calls: measured with Maestro's
benchmark operator it starts with about a quarter of the CPU and holds about 50 MiB less at
rest than the same code run from \`node_modules\` (Maestro's
\`samples/static-site/Dockerfile\` does this).

- \`src/site.ts\`: the resource class; its class-validator constraints are checked before
  any reconciler runs, and become the CRD's schema.
- \`src/reconcilers.ts\`: the reconcilers, in \`@Reconciles\` order, and the finalizer.
- \`src/main.ts\`: \`createOperator()\`. It serves \`/metrics\` over HTTPS on port 8443 to
  authenticated, authorized scrapers only (bind them to the generated
  \`${t.operatorName}-metrics-reader\` ClusterRole), and \`/healthz\`, \`/readyz\` on port 8081.
  It serves the admission and conversion webhooks over HTTPS on port 9443 (\`webhooks: {}\`),
  with its own CA kept in the Secret \`${t.operatorName}-webhook-cert\` and injected into the
  webhook configurations and the CRD: its pod must expose 9443 (the Service
  \`${t.operatorName}-webhook\` in \`deploy/webhooks.yaml\` targets it) and set \`POD_NAMESPACE\`
  (Maestro's \`samples/static-site/deploy/operator.yaml\` shows a Deployment).
  For local development, \`createOperator({ server: { secure: false } })\` serves plain HTTP
  on port 8080 without authentication: never in a cluster.
- \`test/site.test.ts\`: a unit test of the reconcilers on a fake client (\`reconcileOnce\`), and an
  integration test on a local control plane (both from \`maestro-operator/testing\`).
  \`test/setup.ts\` finds or builds the control plane's binaries before any test runs.

Node.js 22.19 or newer is required. The first \`npm test\` on a machine builds the control
plane binaries (kube-apiserver, etcd) from Go modules into \`~/.cache/maestro-operator\`
(a cold build compiles about 2,700 Go packages: about 6 minutes on an idle 2-core machine,
several times that when other work shares the cores, seconds when Go's build cache is warm;
it needs Go 1.26 and the Go module proxy), or uses
\`KUBEBUILDER_ASSETS\` when set; \`npx maestro-operator envtest\` builds them all ahead of time.
`;
}

export const siteTest = `import 'reflect-metadata';
import { expect } from 'chai';
import { CoreV1Api, KubernetesObjectApi, V1ConfigMap } from '@kubernetes/client-node';
import { createOperator, type Operator } from 'maestro-operator';
import { generateCRD } from 'maestro-operator/generate';
import { FakeClient, eventually, reconcileOnce, startControlPlane, type ControlPlane } from 'maestro-operator/testing';
import { StaticSite } from '../src/site.js';
import { SITE_DIRECTORY, staticSiteComponents } from '../src/reconcilers.js';

describe('the StaticSite reconcilers, without a cluster', () => {
  it('apply the content and report Ready in one reconcile (reconcileOnce on a fake client)', async () => {
    const client = new FakeClient();
    const site: StaticSite = {
      apiVersion: 'sites.maestro.dev/v1', kind: 'StaticSite', metadata: { name: 'unit', namespace: 'sites' },
      spec: { image: 'nginx:1.27', replicas: 1, content: '<h1>Unit</h1>' },
    };
    const { conditions, error } = await reconcileOnce(StaticSite, site, { client, components: staticSiteComponents });
    expect(error).to.equal(undefined);
    expect(conditions.find((c) => c.type === 'Ready')?.status).to.equal('True');
    const content = await client.get(V1ConfigMap, { namespace: 'sites', name: 'unit-content' });
    expect(content.data?.['index.html']).to.equal('<h1>Unit</h1>');
    const directory = await client.get(V1ConfigMap, { namespace: 'sites', name: SITE_DIRECTORY });
    expect(directory.data).to.deep.equal({ unit: 'http://unit.sites.svc' });
  });
});

describe('the StaticSite operator', function () {
  let plane: ControlPlane;
  let operator: Operator;
  let api: KubernetesObjectApi;
  let namespace: string;

  before(async () => {
    // A real kube-apiserver and etcd on loopback ports, with the CRD generated from the class.
    plane = await startControlPlane();
    await plane.installCRDs([generateCRD(StaticSite)]);
    namespace = await plane.createNamespace('sites');
    api = KubernetesObjectApi.makeApiClient(plane.kubeConfig);
    operator = createOperator({
      kubeConfig: plane.kubeConfig, reconcilers: staticSiteComponents, namespaces: [namespace], server: false, logLevel: 'error',
    });
    await operator.start({ handleSignals: false });
  });
  after(async () => {
    await operator?.stop();
    await plane?.stop();
  });

  const site = (name: string, spec: StaticSite['spec']): StaticSite =>
    ({ apiVersion: 'sites.maestro.dev/v1', kind: 'StaticSite', metadata: { name, namespace }, spec });
  const condition = async (name: string, type: string) => {
    const current = await api.read<StaticSite>({ apiVersion: 'sites.maestro.dev/v1', kind: 'StaticSite', metadata: { name, namespace } });
    return current.status?.conditions?.find((c) => c.type === type);
  };

  it('applies a ConfigMap, a Deployment and a Service, and reports Ready', async () => {
    await api.create(site('hello', { image: 'nginx:1.27', replicas: 1, content: '<h1>Hello</h1>' }));
    const ready = await eventually(async () => {
      const c = await condition('hello', 'Ready');
      return c?.status === 'True' ? c : undefined;
    }, { message: 'hello is Ready' });
    expect(ready.reason).to.equal('Reconciled');
    const core = plane.kubeConfig.makeApiClient(CoreV1Api);
    const content = await core.readNamespacedConfigMap({ name: 'hello-content', namespace });
    expect(content.data?.['index.html']).to.equal('<h1>Hello</h1>');
    await core.readNamespacedService({ name: 'hello', namespace });
  });

  it("reports a spec that breaks the operator's own policy as InvalidSpec", async () => {
    await api.create(site('unpinned', { image: 'nginx', replicas: 1, content: '' }));
    const ready = await eventually(async () => {
      const c = await condition('unpinned', 'Ready');
      return c?.reason === 'InvalidSpec' ? c : undefined;
    }, { message: 'unpinned is InvalidSpec' });
    expect(ready.message).to.contain('spec.image');
  });

  it('is protected by the CRD schema generated from the class constraints', async () => {
    const rejected = await api.create(site('too-big', { image: 'nginx:1.27', replicas: 50, content: '' })).then(() => undefined, (err: unknown) => err);
    expect((rejected as { code?: number }).code).to.equal(422);
  });
});
`;
