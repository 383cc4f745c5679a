// Runs the deployment-pods operator against the cluster of KUBECONFIG (or in-cluster).
//   node dist/samples/deployment-pods/main.js
import 'reflect-metadata';
import { createOperator } from 'maestro-operator';
import { deploymentPodsComponents } from './reconcilers.js';

const operator = createOperator({ name: 'deployment-pods', reconcilers: deploymentPodsComponents });
await operator.start();
