// The modes of the cache scenario, shared by the harness (bench/cache.ts) and the measuring
// process (bench/cache-memory.ts, a script: importing it would run it).
export const CACHE_MODES = ['maestro', 'metadata', 'selected', 'raw'] as const;
export type CacheMode = (typeof CACHE_MODES)[number];
/** The label the `selected` mode selects on (one ConfigMap in ten has it; see bench/cache.ts). */
export const SELECTED_LABEL = 'bench.maestro.dev/sample';
export const SELECTED_VALUE = 'tenth';
