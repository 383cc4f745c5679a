// The one place maestro-operator/testing builds a standalone Client (no cache, no parent),
// so that when the runtime's transport moves, only this module changes.
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../client/kube-client.js';
import { ApiTransport } from '../client/transport.js';
import { Registry } from '../declare/index.js';

/**
 * A client that sends every request to the API server, writing objects in their wire form
 * whichever form they were given in (see the runtime `Client`).
 */
export function standaloneClient(kubeConfig: KubeConfig, fieldManager = 'maestro-testing'): KubeClient {
  return new KubeClient({ transport: ApiTransport.create(kubeConfig, { userAgent: fieldManager }), resources: Registry.default.resources, fieldManager });
}
