/**
 * A small schema library: just what the loop's configuration needs (numbers, booleans, strings,
 * choices, lists, objects; nullable, optional, defaults, refinements), with typed output and input.
 *
 * Why not a library such as zod: the workflow checks its input and every `update_config` with
 * this schema, and the Temporal worker gives each cached workflow its own instance of every
 * module of the workflow bundle. zod's modules cost about 1.1 MiB per running loop, most of a
 * loop's memory (bench stage 4); this file costs a few kilobytes.
 *
 * `mtf-ping-pong schema` turns a schema into a JSON Schema (src/fleet/json-schema.ts, Node side):
 * for it, the classes are exported and their parts readable, and every check carries its rule in
 * words and what JSON Schema can say of it (schema-checks.ts). No converter code lives here.
 *
 * Imported by workflow code: no Node built-ins, nothing that reads the environment.
 */

import type { Check, JsonValue } from './schema-checks';

// The checks and JSON values are schema.ts's too, for every caller that writes `s.min(…)`.
export * from './schema-checks';

export type Path = readonly (string | number)[];

export interface Issue {
  path: Path;
  message: string;
  /** Set for keys an object does not know (the message is then built by the caller). */
  unknownKeys?: string[];
}

/** What a schema holds at its core, under nullable / optional / default / refine. */
export type Kind = 'number' | 'boolean' | 'string' | 'choice' | 'list' | 'object';

const INVALID: unique symbol = Symbol('invalid');
type Result<T> = T | typeof INVALID;

export abstract class Schema<Out, In = Out> {
  /** Type-level only: what parsing gives, and what it accepts. */
  declare readonly _output: Out;
  declare readonly _input: In;

  abstract readonly kind: Kind;
  /** The schema under the wrappers: a list's items, an object's shape, a choice's values live there. */
  get core(): Schema<unknown> {
    return this as Schema<unknown>;
  }
  get isNullable(): boolean {
    return false;
  }
  /** A list's item schema; undefined for anything else. */
  get item(): Schema<unknown> | undefined {
    return undefined;
  }

  /** Pushes one issue per problem; returns INVALID when there was one. */
  abstract run(value: unknown, path: Path, issues: Issue[]): Result<Out>;

  safeParse(value: unknown): { success: true; data: Out } | { success: false; issues: Issue[] } {
    const issues: Issue[] = [];
    const data = this.run(value, [], issues);
    return data === INVALID || issues.length > 0 ? { success: false, issues } : { success: true, data };
  }

  nullable(): Schema<Out | null, In | null> {
    return new Nullable(this);
  }

  optional(): Schema<Out | undefined, In | undefined> {
    return new Optional(this);
  }

  /** Missing (or undefined) becomes `value`; a list or object default is copied, never shared. */
  default(value: Out): Schema<Out, In | undefined> {
    return new Default(this, value);
  }

  refine(check: Check<Out>): Schema<Out, In> {
    return new Refined(this, check);
  }
}

export abstract class Wrapper<Out, In> extends Schema<Out, In> {
  constructor(readonly inner: Schema<unknown, unknown>) {
    super();
  }
  get kind(): Kind {
    return this.inner.kind;
  }
  override get core(): Schema<unknown> {
    return this.inner.core;
  }
  override get isNullable(): boolean {
    return this.inner.isNullable;
  }
}

export class Nullable<Out, In> extends Wrapper<Out | null, In | null> {
  override get isNullable(): boolean {
    return true;
  }
  run(value: unknown, path: Path, issues: Issue[]): Result<Out | null> {
    return value === null ? null : (this.inner.run(value, path, issues) as Result<Out>);
  }
}

export class Optional<Out, In> extends Wrapper<Out | undefined, In | undefined> {
  /** @param documentedDefault what the key defaults to further on (a partial object's key): shown, never filled in. */
  constructor(
    inner: Schema<unknown, unknown>,
    readonly documentedDefault?: unknown,
  ) {
    super(inner);
  }
  run(value: unknown, path: Path, issues: Issue[]): Result<Out | undefined> {
    return value === undefined ? undefined : (this.inner.run(value, path, issues) as Result<Out>);
  }
}

export class Default<Out, In> extends Wrapper<Out, In | undefined> {
  constructor(
    inner: Schema<Out, In>,
    readonly fallback: Out,
  ) {
    super(inner);
  }
  /** The same key without its default: optional, the default only documented (see ObjectSchema.partial). */
  withoutDefault(): Schema<Out | undefined, In | undefined> {
    return new Optional(this.inner, this.fallback);
  }
  run(value: unknown, path: Path, issues: Issue[]): Result<Out> {
    return value === undefined ? copy(this.fallback) : (this.inner.run(value, path, issues) as Result<Out>);
  }
}

export class Refined<Out, In> extends Wrapper<Out, In> {
  constructor(
    inner: Schema<Out, In>,
    readonly check: Check<Out>,
  ) {
    super(inner);
  }
  run(value: unknown, path: Path, issues: Issue[]): Result<Out> {
    const parsed = this.inner.run(value, path, issues) as Result<Out>;
    if (parsed === INVALID || parsed === null) return parsed;
    const problem = this.check.problem(parsed);
    if (problem === null) return parsed;
    issues.push({ path, message: problem });
    return INVALID;
  }
}

function copy<T>(value: T): T {
  if (Array.isArray(value)) return [...value] as T;
  if (typeof value === 'object' && value !== null) return { ...value };
  return value;
}

/** A value of one JavaScript type, judged by `checks` in order; the first failing check is reported. */
export class Leaf<T> extends Schema<T> {
  constructor(
    readonly kind: Kind,
    private readonly accepts: (value: unknown) => value is T,
    readonly typeMessage: string,
    readonly checks: readonly Check<T>[],
  ) {
    super();
  }
  run(value: unknown, path: Path, issues: Issue[]): Result<T> {
    if (!this.accepts(value)) {
      issues.push({ path, message: this.typeMessage });
      return INVALID;
    }
    for (const check of this.checks) {
      const problem = check.problem(value);
      if (problem !== null) {
        issues.push({ path, message: problem });
        return INVALID;
      }
    }
    return value;
  }
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isBoolean = (value: unknown): value is boolean => typeof value === 'boolean';
const isString = (value: unknown): value is string => typeof value === 'string';

/** A finite number. */
export function number(typeMessage: string, ...checks: Check<number>[]): Schema<number> {
  return new Leaf('number', isNumber, typeMessage, checks);
}

export function boolean(typeMessage: string): Schema<boolean> {
  return new Leaf('boolean', isBoolean, typeMessage, []);
}

export function string(typeMessage: string, ...checks: Check<string>[]): Schema<string> {
  return new Leaf('string', isString, typeMessage, checks);
}

function isJson(value: unknown): value is JsonValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJson);
  return isJsonObject(value);
}

function isJsonObject(value: unknown): value is Record<string, JsonValue> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && Object.values(value).every(isJson);
}

/** A plain JSON object whose keys are free (unlike `object`, whose keys are a fixed shape). */
export function jsonObject(typeMessage: string, ...checks: Check<Record<string, JsonValue>>[]): Schema<Record<string, JsonValue>> {
  return new Leaf('object', isJsonObject, typeMessage, checks);
}

/** A plain object of whole counts at least 0, its keys free (`{ "SENT": 2, "none": 1 }`). */
export function countMap(typeMessage: string): Schema<Record<string, number>> {
  const isCountMap = (value: unknown): value is Record<string, number> =>
    isJsonObject(value) && Object.values(value).every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0);
  return new Leaf('object', isCountMap, typeMessage, []);
}

/** A choice keeps its values readable (for a JSON Schema's enum); a class of its own, so other leaves do not carry the field. */
export class Choice<T extends string> extends Leaf<T> {
  constructor(
    readonly values: readonly T[],
    typeMessage: string,
  ) {
    super('choice', (value): value is T => typeof value === 'string' && values.includes(value as T), typeMessage, []);
  }
}

/** One of a fixed list of strings. */
export function choice<const T extends readonly string[]>(values: T, typeMessage: string): Schema<T[number]> {
  return new Choice<T[number]>(values, typeMessage);
}

export class List<Out, In> extends Schema<Out[], In[]> {
  readonly kind = 'list';
  constructor(
    private readonly items: Schema<Out, In>,
    readonly typeMessage: string,
    readonly checks: readonly Check<Out[]>[],
  ) {
    super();
  }
  override get item(): Schema<unknown> {
    return this.items as Schema<unknown>;
  }
  run(value: unknown, path: Path, issues: Issue[]): Result<Out[]> {
    if (!Array.isArray(value)) {
      issues.push({ path, message: this.typeMessage });
      return INVALID;
    }
    const before = issues.length;
    const items = value.map((item: unknown, index) => this.items.run(item, [...path, index], issues));
    if (issues.length > before) return INVALID;
    for (const check of this.checks) {
      const problem = check.problem(items as Out[]);
      if (problem !== null) {
        issues.push({ path, message: problem });
        return INVALID;
      }
    }
    return items as Out[];
  }
}

export function list<Out, In>(item: Schema<Out, In>, typeMessage: string, ...checks: Check<Out[]>[]): Schema<Out[], In[]> {
  return new List(item, typeMessage, checks);
}

// ---------------------------------------------------------------------------------------------
// Objects.

export type Shape = Record<string, Schema<unknown, unknown>>;
export type Output<S extends Schema<unknown, unknown>> = S['_output'];
export type Input<S extends Schema<unknown, unknown>> = S['_input'];

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends S[K]['_input'] ? K : never }[keyof S];
export type ShapeOutput<S extends Shape> = Simplify<{ -readonly [K in keyof S]: S[K]['_output'] }>;
export type ShapeInput<S extends Shape> = Simplify<
  { -readonly [K in Exclude<keyof S, OptionalKeys<S>>]: S[K]['_input'] } & { -readonly [K in OptionalKeys<S>]?: S[K]['_input'] }
>;

type PartialShape<S extends Shape> = { [K in keyof S]: ReturnType<S[K]['optional']> };

/**
 * A rule across keys: `check` sees the keys in `uses`, and runs only when each of them is valid on
 * its own, so one bad value is not blamed twice; its problem is reported on the key `blame`.
 */
export interface CrossRule<T> extends RuleInWords {
  uses: readonly (keyof T & string)[];
  blame: keyof T & string;
  check: (value: T) => string | null;
}

/** A rule across keys as words: `rule` says it (its messages may name values), on the key `blame`. */
export interface RuleInWords {
  blame: string;
  rule: string;
}

export interface ObjectOptions<T> {
  /** `strict` refuses keys the shape does not know; `strip` drops them; `keep` keeps them as they are. */
  unknownKeys: 'strict' | 'strip' | 'keep';
  typeMessage?: string;
  across?: readonly CrossRule<T>[];
  /** The rules across keys a partial object's keys meet once merged into a whole (see partial): words, never run here. */
  laterRules?: readonly RuleInWords[];
}

export class ObjectSchema<S extends Shape> extends Schema<ShapeOutput<S>, ShapeInput<S>> {
  readonly kind = 'object';
  constructor(
    readonly shape: S,
    readonly options: ObjectOptions<ShapeOutput<S>>,
  ) {
    super();
  }

  run(value: unknown, path: Path, issues: Issue[]): Result<ShapeOutput<S>> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push({ path, message: this.options.typeMessage ?? 'must be an object' });
      return INVALID;
    }
    const input = value as Record<string, unknown>;
    const before = issues.length;
    const output: Record<string, unknown> = {};
    const invalid = new Set<string>();
    for (const [key, schema] of Object.entries(this.shape)) {
      const parsed = schema.run(input[key], [...path, key], issues);
      if (parsed === INVALID) invalid.add(key);
      else if (parsed !== undefined) output[key] = parsed;
    }
    if (this.options.unknownKeys !== 'strip') {
      const unknown = this.unknownKeysOf(input);
      if (this.options.unknownKeys === 'keep') for (const key of unknown) output[key] = input[key];
      else if (unknown.length > 0) issues.push({ path, message: 'unknown keys', unknownKeys: unknown });
    }
    const result = output as ShapeOutput<S>;
    for (const rule of this.options.across ?? []) {
      if (rule.uses.some((key) => invalid.has(key))) continue;
      const problem = rule.check(result);
      if (problem !== null) issues.push({ path: [...path, rule.blame], message: problem });
    }
    return issues.length > before ? INVALID : result;
  }

  /** The keys of `value` this shape does not know. */
  unknownKeysOf(value: Record<string, unknown>): string[] {
    return Object.keys(value).filter((key) => !Object.prototype.hasOwnProperty.call(this.shape, key));
  }

  /**
   * Every key optional and no default filled in (a key left out stays out), no rule across keys
   * run (they are kept as words, `laterRules`): for a part of a config that is merged with others
   * before the whole is parsed (a fleet file's `defaults` and loops). `without` drops keys.
   */
  partial<K extends Extract<keyof S, string> = never>(without: readonly K[] = []): ObjectSchema<PartialShape<Omit<S, K>>> {
    const shape: Shape = {};
    for (const [key, schema] of Object.entries(this.shape)) {
      if ((without as readonly string[]).includes(key)) continue;
      shape[key] = schema instanceof Default ? (schema as Default<unknown, unknown>).withoutDefault() : schema.optional();
    }
    const { unknownKeys, typeMessage, across, laterRules } = this.options;
    return new ObjectSchema(shape as PartialShape<Omit<S, K>>, {
      unknownKeys,
      ...(typeMessage !== undefined && { typeMessage }),
      laterRules: [...(across ?? []), ...(laterRules ?? [])],
    });
  }

  /** The same shape plus `more`, with the same options. */
  extend<M extends Shape>(more: M): ObjectSchema<S & M> {
    return new ObjectSchema({ ...this.shape, ...more }, this.options as unknown as ObjectOptions<ShapeOutput<S & M>>);
  }
}

export function object<S extends Shape>(shape: S, options: ObjectOptions<ShapeOutput<S>>): ObjectSchema<S> {
  return new ObjectSchema(shape, options);
}
