// A CRD whose schema uses every keyword a structural schema may hold (apiextensions.k8s.io/v1),
// written as users write CRD YAML. Used to prove that every field reaches the API server.
// (Values the server drops as empty, such as `exclusiveMaximum: false` or `priority: 0`, are
// left out so that what is read back can be compared with what was sent.)
import { load } from 'js-yaml';
import type { KubernetesObject } from '@kubernetes/client-node';

export const keywordsGroup = 'keywords.maestro.test';

/** The YAML of the CRD named `<plural>.keywords.maestro.test` (one name per test, so installs never collide). */
export function keywordsCRDYaml(plural: string): string {
  const kind = plural.charAt(0).toUpperCase() + plural.slice(1, -1);
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${plural}.${keywordsGroup}
  labels: { app.kubernetes.io/part-of: maestro-tests }
  annotations: { maestro.test/purpose: every schema keyword }
spec:
  group: ${keywordsGroup}
  scope: Namespaced
  names: { plural: ${plural}, singular: ${plural.slice(0, -1)}, kind: ${kind}, listKind: ${kind}List, shortNames: [${plural.slice(0, 3)}k], categories: [maestro-tests] }
  versions:
    - name: v1
      served: true
      storage: true
      subresources:
        status: {}
        scale: { specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.selector }
      selectableFields:
        - jsonPath: .spec.color
      additionalPrinterColumns:
        - { name: Color, type: string, jsonPath: .spec.color, description: the color }
        - { name: Replicas, type: integer, format: int32, jsonPath: .spec.replicas, priority: 1 }
      schema:
        openAPIV3Schema:
          type: object
          title: A keyword zoo
          description: Every keyword of a structural schema.
          externalDocs: { description: the reference, url: https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/ }
          x-kubernetes-validations:
            - rule: "!has(self.spec) || self.spec.color != 'black' || self.metadata.name.startsWith('dark')"
              message: only dark objects may be black
          properties:
            spec:
              type: object
              required: [color]
              minProperties: 1
              maxProperties: 20
              x-kubernetes-validations:
                - rule: self.replicas <= self.maxReplicas
                  messageExpression: "'replicas exceed maxReplicas for ' + self.color + ' objects'"
                  reason: FieldValueForbidden
                  fieldPath: .replicas
                - rule: self.color == oldSelf.color
                  message: color is immutable
                  optionalOldSelf: false
              properties:
                color:
                  type: string
                  enum: [red, green, blue, black]
                  maxLength: 5
                  example: red
                  x-kubernetes-validations:
                    - rule: self.size() > 0
                      message: color must not be empty
                replicas: { type: integer, format: int32, minimum: 0, maximum: 10, default: 1 }
                maxReplicas: { type: integer, format: int32, minimum: 1, default: 5, multipleOf: 1 }
                ratio: { type: number, format: double, minimum: 0, maximum: 1, exclusiveMinimum: true, exclusiveMaximum: true, multipleOf: 0.25 }
                name: { type: string, minLength: 1, maxLength: 63, pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$' }
                created: { type: string, format: date-time }
                note: { type: string, nullable: true }
                port:
                  x-kubernetes-int-or-string: true
                  anyOf: [{ type: integer }, { type: string }]
                  default: http
                freeform:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
                template:
                  type: object
                  x-kubernetes-embedded-resource: true
                  x-kubernetes-preserve-unknown-fields: true
                labels:
                  type: object
                  additionalProperties: { type: string, maxLength: 63 }
                  x-kubernetes-map-type: granular
                selector:
                  type: object
                  x-kubernetes-map-type: atomic
                  properties:
                    matchLabels: { type: object, additionalProperties: { type: string } }
                tags:
                  type: array
                  minItems: 0
                  maxItems: 8
                  items: { type: string }
                  x-kubernetes-list-type: set
                ports:
                  type: array
                  x-kubernetes-list-type: map
                  x-kubernetes-list-map-keys: [name, protocol]
                  items:
                    type: object
                    required: [name]
                    properties:
                      name: { type: string }
                      protocol: { type: string, default: TCP }
                      number: { x-kubernetes-int-or-string: true }
                steps:
                  type: array
                  x-kubernetes-list-type: atomic
                  items:
                    type: object
                    allOf: [{ required: [name] }]
                    oneOf: [{ required: [image] }, { required: [script] }]
                    not: { required: [deprecated] }
                    properties:
                      name: { type: string }
                      image: { type: string }
                      script: { type: string }
                      deprecated: { type: boolean }
                      options: { type: object, x-kubernetes-preserve-unknown-fields: true, default: { x_kubernetes_like: kept verbatim, $literal: true } }
            status:
              type: object
              x-kubernetes-preserve-unknown-fields: true
              properties:
                replicas: { type: integer }
                selector: { type: string }
`;
}

/** The CRD as a YAML parser gives it: plain wire-form data. */
export function keywordsCRD(plural: string): KubernetesObject {
  return load(keywordsCRDYaml(plural)) as KubernetesObject;
}
