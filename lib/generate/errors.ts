import { MaestroError } from '../errors/index.js';

/**
 * A class cannot be turned into a structural OpenAPI schema: a property's type is not
 * visible at runtime or cannot be expressed, two decorators contradict each other, or a
 * pattern uses a regular-expression feature Kubernetes (Go's RE2) does not support. The
 * message names the class and the property, and says what to add.
 *
 * @example
 * ```ts
 * try { generateCRD(StaticSite); } catch (err) {
 *   if (err instanceof SchemaGenerationError) console.error(err.className, err.property, err.message);
 * }
 * ```
 */
export class SchemaGenerationError extends MaestroError {
  readonly code = 'SchemaGeneration';
  constructor(
    /** The class whose property could not be mapped (or the resource class). */
    readonly className: string,
    /** The property, or `undefined` when the class itself is the problem. */
    readonly property: string | undefined,
    problem: string,
  ) {
    super(`${property === undefined ? className : `${className}.${property}`}: ${problem}`);
  }
}

/**
 * A CRD cannot be generated for a class: it is not a custom resource (a built-in kind,
 * or a class without `@Resource`), or two classes map to the same CRD.
 *
 * @example
 * ```ts
 * generateCRD(V1Deployment); // throws CRDGenerationError: Deployment is a built-in kind
 * ```
 */
export class CRDGenerationError extends MaestroError {
  readonly code = 'CRDGeneration';
}

/**
 * RBAC cannot be generated: a class is not a Maestro component, a kind is unknown, or the
 * options are malformed (names that are not valid Kubernetes names, an empty namespace list).
 *
 * @example
 * ```ts
 * generateRBAC([WidgetReconciler], { name: 'Widget Operator', serviceAccount }); // throws: not a valid name
 * ```
 */
export class RBACGenerationError extends MaestroError {
  readonly code = 'RBACGeneration';
}
