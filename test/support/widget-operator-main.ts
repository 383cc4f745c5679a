// The Widget operator as a process of its own, for shutdown tests:
//   KUBECONFIG=<file> NAMESPACE=<ns> node dist/test/support/widget-operator-main.js
import 'reflect-metadata';
import { KubeConfig } from '@kubernetes/client-node';
import { createOperator } from '../../lib/index.js';
import { widgetReconcilers } from './widget-operator.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(process.env['KUBECONFIG']!);
const namespace = process.env['NAMESPACE']!;
const operator = createOperator({
  name: 'widget-operator',
  kubeConfig,
  reconcilers: widgetReconcilers,
  namespaces: [namespace],
  leaderElection: { namespace, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
  server: false,
});
await operator.start();
