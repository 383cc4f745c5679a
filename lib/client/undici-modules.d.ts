// undici ships types for its package root only; these are the modules lib/client/undici.ts
// (their one adapter) imports, typed as the root exports them.
declare module 'undici/lib/dispatcher/agent.js' {
  const Agent: typeof import('undici').Agent;
  export default Agent;
}
declare module 'undici/lib/dispatcher/proxy-agent.js' {
  const ProxyAgent: typeof import('undici').ProxyAgent;
  export default ProxyAgent;
}
declare module 'undici/lib/dispatcher/socks5-proxy-agent.js' {
  const Socks5ProxyAgent: typeof import('undici').Socks5ProxyAgent;
  export default Socks5ProxyAgent;
}
declare module 'undici/lib/dispatcher/dispatcher.js' {
  const Dispatcher: typeof import('undici').Dispatcher;
  export default Dispatcher;
}
declare module 'undici/lib/api/index.js' {
  /** `request`, `stream`, `pipeline`, `upgrade`, `connect`: the root mixes them into `Dispatcher.prototype`. */
  const api: Record<string, unknown>;
  export default api;
}
