import { dumpYaml, type KubernetesObject } from '@kubernetes/client-node';

/**
 * Multi-document YAML of Kubernetes objects, in their wire form: client-node's `dumpYaml`
 * serialises each by its kind (so model names such as `x_kubernetes_preserve_unknown_fields`
 * and `_enum` get their real names), with keys sorted for stable diffs and no YAML anchors.
 *
 * @example
 * ```ts
 * writeFileSync('crds.yaml', toYAML([generateCRD(StaticSite)]));
 * ```
 */
export function toYAML(objects: readonly KubernetesObject[]): string {
  return objects.map((o) => dumpYaml(o, { sortKeys: true, noRefs: true, lineWidth: -1 })).join('---\n');
}
