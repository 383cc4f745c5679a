/**
 * The one adapter to class-transformer's internals. `@Type(() => X)` records the class of
 * a property in a store that class-transformer's entry point does not export, and no
 * public function reveals it without running the user's type function on a made-up
 * object. Node loads `import 'class-transformer'` from the same CommonJS build as this
 * require, so it is the same store. class-transformer is pinned exactly;
 * test/adapters/internals.test.ts fails loudly when an upgrade moves or changes it.
 *
 * @module
 */
import { createRequire } from 'node:module';

interface TypeMetadata {
  typeFunction(options?: unknown): unknown;
}
interface TransformerStorage {
  findTypeMetadata(target: object, propertyName: string): TypeMetadata | undefined;
}

const requireCjs = createRequire(import.meta.url);
const storage = (requireCjs('class-transformer/cjs/storage.js') as { defaultMetadataStorage: TransformerStorage }).defaultMetadataStorage;

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
