/**
 * The one adapter to class-transformer's internals. `@Type(() => X)` records the class of
 * a property in a store that class-transformer's entry point does not export, and no
 * public function reveals it without running the user's type function on a made-up
 * object. Node loads `import 'class-transformer'` from the same CommonJS build as this
 * import, so it is the same store; `maestro-operator bundle`, which bundles the ES module
 * build, resolves this import to that build's store (lib/cli/bundle.ts). class-transformer
 * is pinned exactly; test/adapters/internals.test.ts fails loudly when an upgrade moves or
 * changes it, test/cli/bundle.integration.test.ts when the bundle's store is another.
 *
 * @module
 */
// A static import (not a runtime require) so that a bundler includes this very module.
import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';

interface TypeMetadata {
  typeFunction(options?: unknown): unknown;
}
interface TransformerStorage {
  findTypeMetadata(target: object, propertyName: string): TypeMetadata | undefined;
}

const storage = defaultMetadataStorage as TransformerStorage;

/**
 * The class `@Type(() => X)` gives a property of `owner` (its type function called with
 * no object), or `undefined` without `@Type`.
 *
 * @throws whatever the type function throws (one that needs an object to choose a class).
 */
export function typeHintOf(owner: object, property: string): unknown {
  const metadata = storage.findTypeMetadata(owner, property);
  return metadata ? metadata.typeFunction() : undefined;
}
