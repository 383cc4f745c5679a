/**
 * The undici dispatchers the transport needs, without undici's package root: the root
 * loads fetch, WebSocket, EventSource, cache stores and mocks too, which an operator never
 * uses (about 40 ms of start-up CPU). undici has no `exports` map, so its modules can be
 * imported; this is the one module that does, and test/client/undici.test.ts fails when
 * an upgrade moves them or changes what the root does with them.
 *
 * `maestro-operator bundle` also gives client-node this module for its imports of
 * `undici` (its kubeconfig dispatchers, and `fetch` for its generated API classes, which
 * the runtime does not use): `fetch` loads the package root on its first call.
 *
 * @module
 * @internal
 */
import Agent from 'undici/lib/dispatcher/agent.js';
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import ProxyAgent from 'undici/lib/dispatcher/proxy-agent.js';
import Socks5ProxyAgent from 'undici/lib/dispatcher/socks5-proxy-agent.js';
import api from 'undici/lib/api/index.js';
import type * as Undici from 'undici';

// What the root does on load: every dispatcher gets `request` & co. (the same functions, so
// doing it again when the root is also loaded changes nothing).
Object.assign(Dispatcher.prototype, api);

/** undici's `fetch`, from the package root loaded on the first call. */
export const fetch: typeof Undici.fetch = async (input, init) => (await import('undici')).fetch(input, init);

export { Agent, ProxyAgent, Socks5ProxyAgent };
