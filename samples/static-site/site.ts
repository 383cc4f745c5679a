// The StaticSite custom resource: a web site served by nginx from inline content.
// Its class-validator constraints are checked before any reconciler runs, and the CRD's
// OpenAPI schema is generated from them (`maestro-operator generate crd`).
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { IsDefined, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested, registerDecorator } from 'class-validator';
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

/**
 * Where StaticSite images may come from: registries (`ghcr.io`) or repository prefixes
 * (`docker.io/library`, Docker's official images), matched whole path segments at a time.
 *
 * Why: the operator creates a Deployment with the image a StaticSite names, under the
 * operator's own authority. Without a policy, anyone allowed to create a StaticSite decides
 * what runs in the cluster (a confused deputy). Set `STATIC_SITE_ALLOWED_IMAGES`
 * (comma-separated) before the operator starts, or change this list in code.
 */
export const allowedImageSources: string[] = (process.env.STATIC_SITE_ALLOWED_IMAGES ?? 'docker.io/library')
  .split(',').map((s) => s.trim()).filter(Boolean);

/**
 * The repository an image reference names, normalized as Docker does: `nginx:1.27` →
 * `docker.io/library/nginx`, `ghcr.io/org/app@sha256:…` → `ghcr.io/org/app`. The first
 * path component is a registry only if it has a dot or a port, or is `localhost`.
 */
export function imageRepository(image: string): string {
  const name = image.split('@')[0]!.replace(/:[\w][\w.-]*$/, '');
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  let registry = hasRegistry ? first.toLowerCase() : 'docker.io';
  let path = hasRegistry ? name.slice(slash + 1) : name;
  if (registry === 'index.docker.io') registry = 'docker.io';
  if (registry === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  return `${registry}/${path}`;
}

/** Whether `image` comes from one of `sources` (registries or repository prefixes). */
export function isAllowedImage(image: string, sources: readonly string[]): boolean {
  const repository = imageRepository(image);
  return sources.some((source) => {
    const prefix = source.toLowerCase().replace(/\/+$/, '').replace(/^index\.docker\.io(?=\/|$)/, 'docker.io');
    return repository === prefix || repository.startsWith(`${prefix}/`);
  });
}

/** Images must come from an allowed source (checked by the operator before it reconciles). */
function IsAllowedImageSource(sources: () => readonly string[]): PropertyDecorator {
  return (target, propertyName) => registerDecorator({
    name: 'isAllowedImageSource',
    target: target.constructor,
    propertyName: String(propertyName),
    options: { message: () => `image must come from an allowed registry or repository (${sources().join(', ')})` },
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isAllowedImage(value, sources()),
    },
  });
}

export class StaticSiteSpec {
  /** The nginx-compatible image that serves the content. */
  // eslint-disable-next-line no-useless-escape -- the escaped '/' is part of the generated CRD's pattern (deploy/crd.yaml)
  @IsString() @Matches(/^[a-z0-9]+([._\/:@-][a-z0-9]+)*$/) @IsPinnedImage() @IsAllowedImageSource(() => allowedImageSources) image!: string;
  /** How many pods serve the site. */
  @IsInt() @Min(1) @Max(10) replicas!: number;
  /** The page, served as index.html. */
  @IsString() @MaxLength(65536) content!: string;
  /**
   * A ConfigMap in the site's namespace whose `theme.css` is merged into the page (several
   * sites can share one theme). The operator watches it: editing the theme re-renders every
   * site that names it, and only those.
   */
  @IsOptional() @IsString() @MaxLength(253) @Matches(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/) themeRef?: string;
}

@Resource({ group: 'sites.maestro.dev', version: 'v1', kind: 'StaticSite', shortNames: ['site'] })
export class StaticSite {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @IsDefined() @ValidateNested() spec!: StaticSiteSpec;
  status?: { conditions?: Condition[]; observedGeneration?: number };
}
