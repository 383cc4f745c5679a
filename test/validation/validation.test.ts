import 'reflect-metadata';
import { expect } from 'chai';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Max, Min, ValidateIf, ValidateNested } from 'class-validator';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { SpecValidation, validateResource } from '../../lib/validation/index.js';

class Port {
  @IsInt() @Min(1) @Max(65535) number!: number;
}

class SiteSpec {
  @IsString() content!: string;
  @ValidateNested() @Type(() => Port) ports!: Port[];
}

class Site {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @ValidateNested() spec!: SiteSpec;
  status?: { conditions?: unknown[] };
  /** A method of the class; one test gives the object a field of the same name. */
  describe(): string {
    return `site ${this.metadata?.name ?? ''}`;
  }
}

/** A tier that only production namespaces may use: a condition that reads metadata. */
class TieredSpec {
  @IsString() tier!: string;
}
class Tiered {
  metadata?: V1ObjectMeta;
  @ValidateIf((o: Tiered) => o.metadata?.labels?.['env'] === 'prod') @ValidateNested() spec!: TieredSpec;
  @ValidateIf((o: Tiered) => o.metadata?.labels?.['env'] === 'prod') @IsIn(['gold', 'silver']) level?: string;
}

/** A parent as the cache gives it: metadata, spec and status, as parsed from the wire. */
function site(spec: unknown, extra: Record<string, unknown> = {}): Site {
  return {
    apiVersion: 'example.com/v1', kind: 'Site',
    metadata: { name: 'a', namespace: 'web', uid: 'u-1', generation: 1, creationTimestamp: new Date('2026-12-04T08:00:00Z'), labels: { app: 'a' } },
    spec,
    status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date('2026-12-04T08:00:01Z') }] },
    ...extra,
  } as unknown as Site;
}

describe('validation of parents (class-validator constraints on the class)', () => {
  it('checks nested classes, typed by design type or @Type, and reports every violation with its path', async () => {
    expect(await validateResource(Site, site({ content: 'x', ports: [{ number: 80 }] }))).to.deep.equal([]);
    const violations = await validateResource(Site, site({ content: 7, ports: [{ number: 0 }, { number: 70000 }] }));
    expect(violations.map((v) => `${v.path} ${v.constraint}`)).to.have.members([
      'spec.content isString', 'spec.ports[0].number min', 'spec.ports[1].number max',
    ]);
  });

  it('gives conditions the whole object: a constraint that depends on metadata sees it', async () => {
    const prod = { metadata: { name: 'a', labels: { env: 'prod' } }, spec: { tier: 3 }, level: 'bronze' } as unknown as Tiered;
    const dev = { metadata: { name: 'a', labels: { env: 'dev' } }, spec: { tier: 3 }, level: 'bronze' } as unknown as Tiered;
    expect((await validateResource(Tiered, prod)).map((v) => v.path)).to.have.members(['spec.tier', 'level']);
    expect(await validateResource(Tiered, dev)).to.deep.equal([]);
  });

  it('leaves the object it was given unchanged, a field named like a method of the class included', async () => {
    const parent = site({ content: 'x', ports: [{ number: 80 }] }, { describe: 'a field, not the method' });
    const before = JSON.stringify(parent);
    expect(await validateResource(Site, parent)).to.deep.equal([]);
    expect(JSON.stringify(parent)).to.equal(before);
    expect((parent.metadata?.creationTimestamp as Date).toISOString()).to.equal('2026-12-04T08:00:00.000Z');
  });

  it('validates a subclass with its own constraints and its base class\'s, also after the base class was validated', async () => {
    expect(await validateResource(Site, site({ content: 'x', ports: [] }))).to.deep.equal([]);
    class LabelledSite extends Site {
      @IsString() owner!: string;
    }
    const labelled = Object.assign(new LabelledSite(), site({ content: 'x', ports: [{ number: 0 }] }), { owner: 42 });
    expect((await validateResource(LabelledSite, labelled)).map((v) => `${v.path} ${v.constraint}`)).to.have.members(['owner isString', 'spec.ports[0].number min']);
    // The base class's constraints are still its own.
    expect(await validateResource(Site, site({ content: 'x', ports: [] }, { owner: 42 }))).to.deep.equal([]);
  });

  it('turns an invalid parent into InvalidSpec listing every violation', async () => {
    const validation = new SpecValidation(Site);
    await validation.validate(site({ content: 'x', ports: [{ number: 80 }] }));
    const bad = site({ content: 'x', ports: [{ number: 0 }] });
    bad.metadata = { ...bad.metadata, uid: 'u-2' };
    const failure = await validation.validate(bad).then(() => undefined, (err: unknown) => err);
    expect(failure).to.include({ reason: 'InvalidSpec' });
    expect(String((failure as Error).message)).to.match(/spec\.ports\[0\]\.number \(min\)/);
  });
});
