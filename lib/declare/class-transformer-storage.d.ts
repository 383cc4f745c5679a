// class-transformer ships types for its entry points only; this is the CommonJS module
// lib/declare/type-hints.ts (its one adapter) imports. Only what the adapter reads.
declare module 'class-transformer/cjs/storage.js' {
  export const defaultMetadataStorage: unknown;
}
