import 'reflect-metadata';
import { expect } from 'chai';
import { V1ConfigMap, V1ObjectMeta, V1ResourceRequirements, loadAllYaml } from '@kubernetes/client-node';
import { Type } from 'class-transformer';
import {
  Allow, ArrayMaxSize, ArrayMinSize, ArrayNotEmpty, ArrayUnique, Equals, IsArray, IsBoolean, IsDate, IsDateString, IsDivisibleBy,
  IsEnum, IsIn, IsInt, IsNegative, IsNotEmpty, IsNotEmptyObject, IsNumber, IsObject, IsOptional, IsPositive, IsRFC3339, IsString,
  IsUUID, Length, Matches, Max, MaxLength, Min, MinLength, ValidateIf, ValidateNested,
} from 'class-validator';
import { Resource, Schema } from '../../decorators/index.js';
import {
  CRDGenerationError, SchemaGenerationError, classSchema, crdWireForm, crdYAML, generateCRD, resourceSchema,
  type OpenAPISchema,
} from '../../lib/generate/index.js';
import type { ComponentClass } from '../../lib/index.js';
import { Gizmo } from '../support/generate-gizmo.js';
import { Widget } from '../support/widget-operator.js';
import { catchError } from '../support/errors.js';

enum Color { Red = 'red', Green = 'green' }
enum Level { Low = 1, High = 2 }

class Constrained {
  @IsString() text!: string;
  @IsInt() count!: number;
  @IsNumber() amount!: number;
  @IsBoolean() flag!: boolean;
  @IsDate() @Type(() => Date) when!: Date;
  @IsRFC3339() stamp!: string;
  @IsDateString() isoDate!: string;
  @IsInt() @Min(1) @Max(5) bounded!: number;
  @IsPositive() positive!: number;
  @IsInt() @IsPositive() positiveInt!: number;
  @IsNegative() negative!: number;
  @IsInt() @Min(3) @IsPositive() minWins!: number;
  @IsInt() @IsDivisibleBy(5) step!: number;
  @IsString() @MinLength(2) @MaxLength(8) sized!: string;
  @Length(3, 6) length!: string;
  @IsString() @IsNotEmpty() nonEmpty!: string;
  @Matches(/^[a-z]+$/) lower!: string;
  @Matches(/^abc$/i) insensitive!: string;
  @Matches(/^a/) @Matches(/z$/) twoPatterns!: string;
  @Matches(/^(?<word>\w+)$/) namedGroup!: string;
  @IsIn(['a', 'b']) oneOf!: string;
  @IsIn([1, 2, 3]) numberIn!: number;
  @IsEnum(Color) color!: Color;
  @IsEnum(Level) level!: Level;
  @Equals('fixed') fixed!: string;
  @IsUUID() id!: string;
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(3) @IsString({ each: true }) tags!: string[];
  @ArrayNotEmpty() @IsInt({ each: true }) @Max(9, { each: true }) digits!: number[];
  @ArrayUnique() @IsString({ each: true }) unique!: string[];
  @IsArray() @Type(() => Date) dates!: Date[];
  @IsObject() map!: Record<string, string>;
  @IsNotEmptyObject() nonEmptyMap!: Record<string, unknown>;
  @IsOptional() @IsString() optional?: string;
  @ValidateIf((o: Constrained) => o.flag) @IsString() conditional?: string;
}

const constrained = classSchema(Constrained);
const prop = (name: string): OpenAPISchema => constrained.properties![name]!;

describe('generate: schemas from class-validator constraints', () => {
  const table: Array<[string, string, OpenAPISchema]> = [
    ['@IsString', 'text', { type: 'string' }],
    ['@IsInt', 'count', { type: 'integer' }],
    ['@IsNumber', 'amount', { type: 'number' }],
    ['@IsBoolean', 'flag', { type: 'boolean' }],
    ['Date with @IsDate', 'when', { type: 'string', format: 'date-time' }],
    ['@IsRFC3339', 'stamp', { type: 'string', format: 'date-time' }],
    ['@IsDateString (broader than date-time)', 'isoDate', { type: 'string' }],
    ['@Min/@Max', 'bounded', { type: 'integer', minimum: 1, maximum: 5 }],
    ['@IsPositive on a number', 'positive', { type: 'number', minimum: 0, exclusiveMinimum: true }],
    ['@IsPositive on an integer', 'positiveInt', { type: 'integer', minimum: 1 }],
    ['@IsNegative on a number', 'negative', { type: 'number', maximum: 0, exclusiveMaximum: true }],
    ['the stricter of @Min and @IsPositive', 'minWins', { type: 'integer', minimum: 3 }],
    ['@IsDivisibleBy', 'step', { type: 'integer', multipleOf: 5 }],
    ['@MinLength/@MaxLength', 'sized', { type: 'string', minLength: 2, maxLength: 8 }],
    ['@Length', 'length', { type: 'string', minLength: 3, maxLength: 6 }],
    ['@IsNotEmpty on a string', 'nonEmpty', { type: 'string', minLength: 1 }],
    ['@Matches', 'lower', { type: 'string', pattern: '^[a-z]+$' }],
    ['@Matches with the i flag', 'insensitive', { type: 'string', pattern: '(?i)^abc$' }],
    ['two @Matches', 'twoPatterns', { type: 'string', pattern: 'z$', allOf: [{ pattern: '^a' }] }],
    ['@Matches with a named group', 'namedGroup', { type: 'string', pattern: '^(?P<word>\\w+)$' }],
    ['@IsIn', 'oneOf', { type: 'string', enum: ['a', 'b'] }],
    ['@IsIn on numbers', 'numberIn', { type: 'number', enum: [1, 2, 3] }],
    ['@IsEnum of a string enum', 'color', { type: 'string', enum: ['red', 'green'] }],
    ['@IsEnum of a numeric enum', 'level', { type: 'number', enum: [1, 2] }],
    ['@Equals', 'fixed', { type: 'string', enum: ['fixed'] }],
    ['@IsUUID', 'id', { type: 'string', format: 'uuid' }],
    ['@IsArray/@ArrayMinSize/@ArrayMaxSize with @IsString({ each })', 'tags', { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 3 }],
    ['@ArrayNotEmpty with { each } constraints on the items', 'digits', { type: 'array', items: { type: 'integer', maximum: 9 }, minItems: 1 }],
    ['@ArrayUnique of scalars', 'unique', { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' }],
    ['an array with @Type(() => Date)', 'dates', { type: 'array', items: { type: 'string', format: 'date-time' } }],
    ['@IsObject (a map)', 'map', { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }],
    ['@IsNotEmptyObject', 'nonEmptyMap', { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, minProperties: 1 }],
  ];
  for (const [what, property, expected] of table) {
    it(`maps ${what} on '${property}'`, () => {
      expect(prop(property)).to.deep.equal(expected);
    });
  }

  it('makes every property required except those with @IsOptional or @ValidateIf', () => {
    expect(constrained.required).to.include.members(['text', 'count', 'tags', 'map']);
    expect(constrained.required).to.not.include.members(['optional', 'conditional']);
    expect(constrained.required).to.have.length(Object.keys(constrained.properties!).length - 2);
  });

  it('describes nested classes recursively, from design:type or @Type, in arrays too', () => {
    class Port {
      @IsInt() @Min(1) port!: number;
      @IsOptional() @IsIn(['TCP', 'UDP']) protocol?: string;
    }
    class Limits {
      @IsOptional() @IsInt() cpu?: number;
    }
    class Spec {
      @ValidateNested() limits!: Limits;
      @IsOptional() @ValidateNested({ each: true }) @Type(() => Port) ports?: Port[];
      @IsOptional() @ValidateNested() @Type(() => Port) primary?: Port | null;
    }
    const port: OpenAPISchema = {
      type: 'object',
      properties: { port: { type: 'integer', minimum: 1 }, protocol: { type: 'string', enum: ['TCP', 'UDP'] } },
      required: ['port'],
    };
    expect(classSchema(Spec)).to.deep.equal({
      type: 'object',
      properties: {
        limits: { type: 'object', properties: { cpu: { type: 'integer' } } },
        ports: { type: 'array', items: port },
        primary: port,
      },
      required: ['limits'],
    });
  });

  it('keeps unknown fields of a class it knows nothing about (a class without decorators, a client-node model)', () => {
    class Opaque { value = 1; }
    class Spec {
      @ValidateNested() opaque!: Opaque;
      @IsOptional() @ValidateNested() resources?: V1ResourceRequirements;
    }
    expect(classSchema(Spec).properties).to.deep.equal({
      opaque: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      resources: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    });
  });

  it('includes properties of base classes', () => {
    class Base { @IsString() name!: string; }
    class Derived extends Base { @IsInt() size!: number; }
    expect(classSchema(Derived)).to.deep.equal({
      type: 'object', properties: { name: { type: 'string' }, size: { type: 'integer' } }, required: ['name', 'size'],
    });
  });

  it('takes the type from validators when TypeScript records Object (unions, Record<…>)', () => {
    class Spec {
      @IsString() @MaxLength(3) mode!: 'a' | 'b' | 'cde';
      @IsInt() port!: number | undefined;
      @IsIn(['x', 'y']) choice!: string | null;
    }
    expect(classSchema(Spec).properties).to.deep.equal({
      mode: { type: 'string', maxLength: 3 },
      port: { type: 'integer' },
      choice: { type: 'string', enum: ['x', 'y'] },
    });
  });

  it('lets @Schema describe what decorators cannot: descriptions, defaults, int-or-string, map values, CEL rules', () => {
    @Schema({ 'x-kubernetes-validations': [{ rule: 'self.min <= self.max', message: 'min must not exceed max' }] })
    class Range {
      @IsInt() @Schema({ description: 'Lower bound', default: 0 }) min!: number;
      @IsInt() max!: number;
      @Schema({ 'x-kubernetes-int-or-string': true }) target!: number | string;
      @IsOptional() @IsObject() @Schema({ additionalProperties: { type: 'string' } }) labels?: Record<string, string>;
    }
    expect(classSchema(Range)).to.deep.equal({
      type: 'object',
      properties: {
        min: { type: 'integer', description: 'Lower bound', default: 0 },
        max: { type: 'integer' },
        target: { 'x-kubernetes-int-or-string': true },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
      required: ['min', 'max', 'target'],
      'x-kubernetes-validations': [{ rule: 'self.min <= self.max', message: 'min must not exceed max' }],
    });
  });

  describe('refuses what it cannot map, naming the class and property', () => {
    const refusals: Array<[string, () => ComponentClass, RegExp]> = [
      ['a type invisible at runtime', () => { class Spec { @IsOptional() value?: string | number; } return Spec; }, /Spec\.value: its type is not visible at runtime.*@IsObject\(\)/],
      ['an array without an element type', () => { class Spec { @IsArray() items!: string[]; } return Spec; }, /Spec\.items: the type of its elements is not visible.*@Type/],
      ['contradicting decorators', () => { class Spec { @IsInt() name!: string; } return Spec; }, /Spec\.name: its decorators disagree about its type: string \(type String\) vs integer \(@IsInt\)/],
      ['a Map', () => { class Spec { @Allow() index!: Map<string, string>; } return Spec; }, /Spec\.index: its type Map has no JSON form/],
      ['a lookahead', () => { class Spec { @Matches(/^(?!x)/) name!: string; } return Spec; }, /Spec\.name: pattern .* lookaround/],
      ['a backreference', () => { class Spec { @Matches(/(a)\1/) name!: string; } return Spec; }, /Spec\.name: pattern .* backreference/],
      ['@ValidateNested without a class', () => { class Spec { @ValidateNested() thing!: object; } return Spec; }, /Spec\.thing: @ValidateNested\(\) needs the class/],
      ['a @Type that picks a class per object', () => {
        class A { @IsString() a!: string; }
        class Spec { @ValidateNested() @Type((options) => ((options!.object as { kind?: string }).kind === 'a' ? A : Object)) thing!: A; }
        return Spec;
      }, /Spec\.thing: its @Type function needs an object to choose a class.*@Schema/],
      ['enum values of mixed types', () => { class Spec { @IsIn(['a', 1]) mixed!: string | number; } return Spec; }, /Spec\.mixed: its decorators disagree about its type/],
    ];
    for (const [what, make, message] of refusals) {
      it(`refuses ${what}`, () => {
        const err = catchError(() => classSchema(make()));
        expect(err).to.be.instanceOf(SchemaGenerationError);
        expect((err as SchemaGenerationError).code).to.equal('SchemaGeneration');
        expect((err as Error).message).to.match(message);
      });
    }

    it('refuses a recursive type, naming the cycle', () => {
      class Node {
        @IsString() name!: string;
        @IsOptional() @ValidateNested({ each: true }) @Type(() => Node) children?: Node[];
      }
      const err = catchError(() => classSchema(Node)) as SchemaGenerationError;
      expect(err).to.be.instanceOf(SchemaGenerationError);
      expect(err.className).to.equal('Node');
      expect(err.message).to.contain('Node → Node');
    });
  });
});

@Resource({ group: 'unit.generate.maestro.dev', version: 'v1', kind: 'Report', namespaced: false, shortNames: ['rep', 'rp'] })
class Report {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
}

class ShelfStatus {
  @IsOptional() @IsInt() @Min(0) books?: number;
  @IsOptional() @IsString() phase?: string;
}
class ShelfSpec {
  @IsInt() @Max(100) capacity!: number;
}
@Resource({ group: 'unit.generate.maestro.dev', version: 'v1beta1', kind: 'Shelf' })
@Schema({ 'x-kubernetes-validations': [{ rule: "!has(self.note) || self.note != 'forbidden'" }] })
class Shelf {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  @ValidateNested() spec!: ShelfSpec;
  @IsOptional() @ValidateNested() status?: ShelfStatus;
  @IsOptional() @IsString() @MaxLength(10) note?: string;
}

describe('generate: CRDs from @Resource classes', () => {
  it('names the CRD after the resource: plural.group, kind, listKind, singular, short names, scope', () => {
    const crd = generateCRD(Widget);
    expect(crd.metadata?.name).to.equal('widgets.it.maestro.dev');
    expect(crd.spec.group).to.equal('it.maestro.dev');
    expect(crd.spec.scope).to.equal('Namespaced');
    expect(crd.spec.names).to.deep.equal({ kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget', shortNames: ['wd'] });
    const report = generateCRD(Report, { categories: ['all'], singular: 'rpt' });
    expect(report.spec.scope).to.equal('Cluster');
    expect(report.spec.names).to.deep.equal({ kind: 'Report', listKind: 'ReportList', plural: 'reports', singular: 'rpt', shortNames: ['rep', 'rp'], categories: ['all'] });
  });

  it('serves and stores one version with the status subresource', () => {
    const [version, ...others] = generateCRD(Shelf).spec.versions;
    expect(others).to.be.empty;
    expect(version).to.include({ name: 'v1beta1', served: true, storage: true });
    expect(version!.subresources?.status).to.deep.equal({});
  });

  it('shows Ready, Reason and Age columns, with extra columns before Age', () => {
    const columns = generateCRD(Widget, { printerColumns: [{ name: 'Message', type: 'string', jsonPath: '.spec.message', priority: 1 }] })
      .spec.versions[0]!.additionalPrinterColumns!;
    expect(columns.map((c) => [c.name, c.type, c.jsonPath])).to.deep.equal([
      ['Ready', 'string', '.status.conditions[?(@.type=="Ready")].status'],
      ['Reason', 'string', '.status.conditions[?(@.type=="Ready")].reason'],
      ['Message', 'string', '.spec.message'],
      ['Age', 'date', '.metadata.creationTimestamp'],
    ]);
    expect(columns[2]!.priority).to.equal(1);
  });

  it('describes apiVersion, kind and metadata as Kubernetes expects, and requires spec unless it is optional', () => {
    const schema = resourceSchema(Widget);
    expect(schema.type).to.equal('object');
    expect(schema.properties!.apiVersion!.type).to.equal('string');
    expect(schema.properties!.kind!.type).to.equal('string');
    expect(schema.properties!.metadata).to.deep.equal({ type: 'object' });
    expect(schema.properties!.spec).to.deep.equal({
      type: 'object',
      properties: { message: { type: 'string', maxLength: 100 }, delayMs: { type: 'integer', minimum: 0, maximum: 60_000 } },
      required: ['message'],
    });
    expect(schema.required).to.deep.equal(['spec']);
  });

  it('gives a class that does not describe its spec a free-form spec', () => {
    expect(resourceSchema(Report).properties!.spec).to.deep.equal({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    expect(resourceSchema(Report).required).to.equal(undefined);
  });

  it('describes other top-level properties of the class too, and merges a class-level @Schema into the root', () => {
    const schema = resourceSchema(Shelf);
    expect(schema.properties!.note).to.deep.equal({ type: 'string', maxLength: 10 });
    expect(schema.required).to.deep.equal(['spec']);
    expect(schema['x-kubernetes-validations']).to.deep.equal([{ rule: "!has(self.note) || self.note != 'forbidden'" }]);
  });

  it('gives an undeclared status the runtime\'s conditions (a list map by type) and observedGeneration, keeping other fields', () => {
    const status = resourceSchema(Widget).properties!.status!;
    expect(status.type).to.equal('object');
    expect(status['x-kubernetes-preserve-unknown-fields']).to.equal(true);
    expect(status.properties!.observedGeneration).to.include({ type: 'integer' });
    const conditions = status.properties!.conditions!;
    expect(conditions).to.include({ type: 'array', 'x-kubernetes-list-type': 'map' });
    expect(conditions['x-kubernetes-list-map-keys']).to.deep.equal(['type']);
    expect(conditions.items!.required).to.have.members(['type', 'status', 'lastTransitionTime', 'reason', 'message']);
    expect(conditions.items!.properties!.status!.enum).to.deep.equal(['True', 'False', 'Unknown']);
    expect(conditions.items!.properties!.lastTransitionTime).to.include({ type: 'string', format: 'date-time' });
    expect(conditions.items!.properties!.reason).to.include({ minLength: 1, maxLength: 1024 });
  });

  it('uses a declared status class, adding the runtime\'s fields so its writes are not pruned, and never requires status', () => {
    const schema = resourceSchema(Shelf);
    const status = schema.properties!.status!;
    expect(status['x-kubernetes-preserve-unknown-fields']).to.equal(undefined);
    expect(Object.keys(status.properties!)).to.have.members(['books', 'phase', 'conditions', 'observedGeneration']);
    expect(status.properties!.books).to.deep.equal({ type: 'integer', minimum: 0 });
    expect(status.properties!.conditions!['x-kubernetes-list-type']).to.equal('map');
    expect(schema.required).to.not.include('status');
  });

  it('returns client-node\'s model, which serialises to the wire names', () => {
    const crd = generateCRD(Widget);
    const status = crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.status!;
    // Typed levels of the model use client-node's property names...
    expect(status.x_kubernetes_preserve_unknown_fields).to.equal(true);
    expect(status.properties!.conditions!.x_kubernetes_list_type).to.equal('map');
    // ...and the wire form has the real names, as the API server receives it.
    const wire = crdWireForm(crd) as { spec: { versions: Array<{ schema: { openAPIV3Schema: OpenAPISchema } }> } };
    expect(wire.spec.versions[0]!.schema.openAPIV3Schema).to.deep.equal(resourceSchema(Widget));
  });

  it('writes multi-document YAML with the wire names that loads back to the same CRDs', () => {
    const yaml = crdYAML([Widget, generateCRD(Gizmo, { categories: ['all'] })]);
    expect(yaml.split(/^---$/m)).to.have.length(2);
    for (const wireName of ['x-kubernetes-preserve-unknown-fields: true', 'x-kubernetes-list-type: map', 'x-kubernetes-list-map-keys:', 'enum:']) {
      expect(yaml).to.contain(wireName);
    }
    expect(yaml).to.not.match(/x_kubernetes|_enum|_default/);
    const loaded = loadAllYaml(yaml) as Parameters<typeof crdWireForm>[0][];
    expect(loaded.map(crdWireForm)).to.deep.equal([crdWireForm(generateCRD(Widget)), crdWireForm(generateCRD(Gizmo, { categories: ['all'] }))]);
  });

  it('refuses built-in kinds, classes without @Resource, and the same CRD twice with differences', () => {
    class Plain { metadata?: V1ObjectMeta; }
    const builtIn = catchError(() => generateCRD(V1ConfigMap));
    expect(builtIn).to.be.instanceOf(CRDGenerationError);
    expect((builtIn as Error).message).to.contain('built-in kind');
    const plain = catchError(() => generateCRD(Plain));
    expect(plain).to.be.instanceOf(CRDGenerationError);
    expect((plain as CRDGenerationError).code).to.equal('CRDGeneration');
    expect((plain as Error).message).to.contain('@Resource');
    expect(catchError(() => crdYAML([Widget, generateCRD(Widget, { categories: ['all'] })]))).to.be.instanceOf(CRDGenerationError);
    // The same CRD twice (e.g. from two versions of one kind) is written once.
    expect(crdYAML([Widget, Widget])).to.equal(crdYAML([Widget]));
  });
});
