// The dependency rules of Maestro's layers (run by scripts/check.mjs from the repository
// root over lib/ and decorators/). Only imports that exist at run time count: type-only
// imports are erased by the compiler.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Modules form a directed graph: a cycle makes load order and layering unclear.',
      from: { path: '^(lib|decorators)/' },
      to: { circular: true },
    },
    {
      name: 'decorators-only-declare',
      severity: 'error',
      comment: 'Decorators record into the Registry (lib/declare); they load no runtime, no dependency injection, no I/O.',
      from: { path: '^decorators/' },
      to: { path: '^lib/(runtime|client|cache|queue|leader|metrics|events|server|generate|cli|testing)/|node_modules/(tsyringe|undici|pino|prom-client)/', reachable: true },
    },
    {
      name: 'declaration-is-pure',
      severity: 'error',
      comment: 'Declaration (lib/declare) turns decorators into specs; it reaches no runtime and no dependency injection.',
      from: { path: '^lib/declare/' },
      to: { path: '^lib/(runtime|client/(transport|kube-client)|cache|queue|leader|metrics|events|server|testing)/|node_modules/(tsyringe|undici)/', reachable: true },
    },
    {
      name: 'generators-load-no-runtime',
      severity: 'error',
      comment: 'Generating CRDs and RBAC needs the specs only: no runtime, no dependency injection, no transport. (lib/server/rbac.ts is data: the RBAC serving needs.)',
      from: { path: '^lib/generate/' },
      to: { path: '^lib/(runtime|client/(transport|kube-client)|cache|queue|leader|events|server|testing)/|node_modules/(tsyringe|undici)/', pathNot: '^lib/server/rbac\\.ts$', reachable: true },
    },
    {
      name: 'conductor-is-pure',
      severity: 'error',
      comment: 'The conductor package of the original (api, context, state, binder, conductor, errors, log) does no I/O and knows no runtime.',
      from: { path: '^lib/(api|context|state|binder|conductor|errors|log)/' },
      to: { path: '^lib/(runtime|declare|client/(transport|kube-client)|cache|queue|leader|metrics|events|server|generate|testing)/|node_modules/(tsyringe|undici)/', reachable: true },
    },
    {
      name: 'client-node-internals-in-one-adapter',
      severity: 'error',
      comment: "client-node's dist/ internals are reached only through lib/client/wire.ts.",
      from: { path: '^(lib|decorators)/', pathNot: '^lib/client/wire\\.ts$' },
      to: { path: 'node_modules/@kubernetes/client-node/dist/(?!index\\.)' },
    },
    {
      name: 'tsyringe-in-one-adapter',
      severity: 'error',
      comment: 'Dependency injection lives in lib/runtime/injection.ts (and the runtime entry points that pass containers).',
      from: { path: '^(lib|decorators)/', pathNot: '^lib/(runtime/(injection|operator)|testing/reconcile-once)\\.ts$' },
      to: { path: 'node_modules/tsyringe/' },
    },
    {
      name: 'library-not-tests',
      severity: 'error',
      from: { path: '^(lib|decorators)/' },
      to: { path: '^(test|samples|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: false,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
