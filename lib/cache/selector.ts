// The selector parsers live with the declarations (lib/watch, pure); the cache and the
// clients import them from here as before.
export { InvalidSelectorError, canonicalLabelSelector, parseFieldSelector, parseLabelSelector } from '../watch/selectors.js';
export type { FieldSelector, LabelSelector } from '../watch/selectors.js';
