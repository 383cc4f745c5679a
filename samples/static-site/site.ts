// The StaticSite custom resource: a web site served by nginx from inline pages, in two
// versions. v1 (the hub, stored) holds a map of pages; v1alpha1, the first release, held one
// page (`content`) and converts to and from v1. One set of decorators is enforced three times:
// by the CRD's OpenAPI schema (`maestro-operator generate crd`), by the operator's admission
// webhooks when an object is written (refusing what the schema cannot express, such as the
// image policies, and applying defaults), and before every reconcile.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  IsDefined, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf, ValidateNested, registerDecorator,
} from 'class-validator';
import { Resource, Schema, type Condition } from 'maestro-operator';
import { Converts, Default, Deprecated, ValidateWith } from 'maestro-operator/decorators';

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

/** Page names become ConfigMap keys and file names: what a ConfigMap key may be. */
export function safePageNames(pages: Record<string, unknown> | undefined): string | undefined {
  const bad = Object.keys(pages ?? {}).filter((name) => !/^[-._a-zA-Z0-9]{1,253}$/.test(name) || name === '.' || name === '..');
  return bad.length > 0 ? `page names must be file names (letters, digits, '-', '_', '.'): ${bad.map((b) => JSON.stringify(b)).join(', ')}` : undefined;
}

/** The pages go into one ConfigMap, which holds at most 1 MiB; keep well below. */
export const MAX_SITE_BYTES = 512 * 1024;

export function fitsInAConfigMap(pages: Record<string, unknown> | undefined): string | undefined {
  const bytes = Object.entries(pages ?? {}).reduce((sum, [name, page]) => sum + Buffer.byteLength(name) + Buffer.byteLength(String(page)), 0);
  return bytes > MAX_SITE_BYTES ? `pages must not exceed ${MAX_SITE_BYTES} bytes in total, got ${bytes}` : undefined;
}

/** What every version of a StaticSite has: the image and the number of pods. */
export class SiteWorkload {
  /** The nginx-compatible image that serves the content. */
  // eslint-disable-next-line no-useless-escape -- the escaped '/' is part of the generated CRD's pattern (deploy/crd.yaml)
  @IsString() @Matches(/^[a-z0-9]+([._\/:@-][a-z0-9]+)*$/) @IsPinnedImage() @IsAllowedImageSource(() => allowedImageSources) image!: string;
  /** How many pods serve the site (default 1: the API server and the webhook both apply it). */
  @IsInt() @Min(1) @Max(10) @Default(1) replicas!: number;
  /**
   * A ConfigMap in the site's namespace whose `theme.css` is merged into the page (several
   * sites can share one theme). The operator watches it: editing the theme re-renders every
   * site that names it, and only those.
   */
  @IsOptional() @IsString() @MaxLength(253) @Matches(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/) themeRef?: string;
}

/** The StaticSite spec of v1. */
export class StaticSiteSpec extends SiteWorkload {
  /** The pages by file name (`index.html` is the home page). Required unless the deprecated `content` is set. */
  @ValidateIf((spec: StaticSiteSpec) => spec.content === undefined || spec.pages !== undefined)
  @IsObject({ message: 'pages must be an object of page names and contents (or set the deprecated content)' }) @Schema({ additionalProperties: { type: 'string' } })
  @ValidateWith(safePageNames) @ValidateWith(fitsInAConfigMap)
  pages?: Record<string, string>;
  /** The home page alone: v1alpha1's field, kept so that v1 objects written with it still work. */
  @IsOptional() @IsString() @MaxLength(65536) @Deprecated("use spec.pages: { 'index.html': ... }")
  content?: string;
}

/** A StaticSite, v1: the hub and storage version. */
@Resource({ group: 'sites.maestro.dev', version: 'v1', kind: 'StaticSite', shortNames: ['site'] })
export class StaticSite {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @IsDefined() @ValidateNested() spec!: StaticSiteSpec;
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

/** The pages a site serves, whichever field the object uses. */
export function pagesOf(spec: StaticSiteSpec): Record<string, string> {
  return spec.pages ?? { 'index.html': spec.content ?? '' };
}

/** The StaticSite spec of v1alpha1: one page. */
export class StaticSiteV1alpha1Spec extends SiteWorkload {
  /** The page, served as index.html. */
  @IsString() @MaxLength(65536) content!: string;
}

/** `themeRef` where set (both versions have it; an absent one stays absent). */
const themeOf = (spec: SiteWorkload): Pick<SiteWorkload, 'themeRef'> => (spec.themeRef === undefined ? {} : { themeRef: spec.themeRef });

/**
 * A StaticSite, v1alpha1 (deprecated): still served, converted to and from v1 by the
 * operator's conversion webhook. Pages other than index.html have no place here; reading a
 * v1 object as v1alpha1 and writing it back keeps them (Maestro carries them in an annotation).
 */
@Resource({ group: 'sites.maestro.dev', version: 'v1alpha1', kind: 'StaticSite', shortNames: ['site'] })
@Converts(StaticSite, {
  toHub: (old: StaticSiteV1alpha1) => ({
    spec: { image: old.spec.image, replicas: old.spec.replicas, ...themeOf(old.spec), pages: { 'index.html': old.spec.content } },
  }),
  fromHub: (site: StaticSite) => ({
    spec: { image: site.spec.image, replicas: site.spec.replicas, ...themeOf(site.spec), content: pagesOf(site.spec)['index.html'] ?? '' },
  }),
}, { deprecated: true })
export class StaticSiteV1alpha1 {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @IsDefined() @ValidateNested() spec!: StaticSiteV1alpha1Spec;
  status?: { conditions?: Condition[]; observedGeneration?: number };
}
