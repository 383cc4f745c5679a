// Runs the StaticSite operator against the cluster of KUBECONFIG (or in-cluster).
//   node dist/samples/static-site/main.js
import 'reflect-metadata';
import { createOperator } from 'maestro-operator';
import { staticSiteComponents } from './reconcilers.js';

const operator = createOperator({
  name: 'static-site-operator',
  reconcilers: staticSiteComponents,
  leaderElection: process.env.LEADER_ELECTION === 'true',
  maxConcurrentReconciles: Number(process.env.MAX_CONCURRENT_RECONCILES ?? 2),
  // The CRD's conversion webhook and deploy/webhooks.yaml call the Service <name>-webhook in
  // the pod's namespace: serve them on port 9443 with the operator's own CA, kept in the
  // Secret <name>-webhook-cert and injected into the webhook configurations and the CRD.
  webhooks: {},
});
await operator.start(); // SIGTERM / SIGINT stop it gracefully
