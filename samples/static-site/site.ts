// The StaticSite custom resource: a web site served by nginx from inline content.
// Its class-validator constraints are checked before any reconciler runs, and the CRD's
// OpenAPI schema is generated from them (`maestro-operator generate crd`).
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { IsInt, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Resource, type Condition } from 'maestro-operator';

export class StaticSiteSpec {
  /** The nginx-compatible image that serves the content. */
  @IsString() @Matches(/^[a-z0-9]+([._\/:-][a-z0-9]+)*$/) image!: string;
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
  @ValidateNested() spec!: StaticSiteSpec;
  status?: { conditions?: Condition[]; observedGeneration?: number };
}
