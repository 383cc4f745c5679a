/**
 * The operator's HTTP serving: probes and metrics (later: authenticated metrics, webhooks).
 *
 * @module
 */
export { OperatorServer } from './server.js';
export type { Check } from './server.js';
