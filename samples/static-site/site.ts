// The StaticSite custom resource: a web site served by nginx from inline content.
// Its class-validator constraints are checked before any reconciler runs, and the CRD's
// OpenAPI schema is generated from them (`maestro-operator generate crd`).
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { IsDefined, IsInt, IsString, Matches, Max, MaxLength, Min, ValidateNested, registerDecorator } from 'class-validator';
import { Resource, type Condition } from 'maestro-operator';

/**
 * A policy OpenAPI cannot express well, so it is checked by the operator (not the CRD
 * schema): images must pin a tag other than `latest`, or a digest.
 */
function IsPinnedImage(): PropertyDecorator {
  return (target, propertyName) => registerDecorator({
    name: 'isPinnedImage',
    target: target.constructor,
    propertyName: String(propertyName),
    options: { message: '$property must pin a tag other than latest, or a digest' },
    validator: {
      validate: (value: unknown) => typeof value === 'string' && (/@sha256:[a-f0-9]{64}$/.test(value) || /:[\w][\w.-]*$/.test(value.split('/').pop() ?? '') && !value.endsWith(':latest')),
    },
  });
}

export class StaticSiteSpec {
  /** The nginx-compatible image that serves the content. */
  // eslint-disable-next-line no-useless-escape -- the escaped '/' is part of the generated CRD's pattern (deploy/crd.yaml)
  @IsString() @Matches(/^[a-z0-9]+([._\/:@-][a-z0-9]+)*$/) @IsPinnedImage() image!: string;
  /** How many pods serve the site. */
  @IsInt() @Min(1) @Max(10) replicas!: number;
  /** The page, served as index.html. */
  @IsString() @MaxLength(65536) content!: string;
}

@Resource({ group: 'sites.maestro.dev', version: 'v1', kind: 'StaticSite', shortNames: ['site'] })
export class StaticSite {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @IsDefined() @ValidateNested() spec!: StaticSiteSpec;
  status?: { conditions?: Condition[]; observedGeneration?: number };
}
