/**
 * A schema of src/shared/schema.ts as a JSON Schema (draft-07), for `mtf-ping-pong schema`: what an
 * editor needs to check a fleet file as it is typed. Generated from the one schema, never written
 * by hand, so a new key, default or rule shows up here by itself.
 *
 * Each key's `description` is its rules in the words the CLI prints (the type message, each check's
 * `rule`, the rules across keys that blame it). JSON Schema says what it can of each check (the
 * check's own `jsonSchema` part, attached where the check is defined); the rest, rules across keys
 * above all, is only in the words, and `apply` checks everything with the schema itself.
 *
 * Node side only: the workflow bundle carries the schema, never this converter.
 */
import * as s from '../shared/schema';
import { fleetFileSchema } from './fleet-schema';

export type JsonSchema = { [keyword: string]: s.JsonValue };

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

/**
 * A schema with its wrappers undone: whether it takes null, whether it may be left out, the default
 * it has or documents, and the checks of its refinements (inner ones first, as they run).
 */
interface Unwrapped {
  core: s.Schema<unknown, unknown>;
  nullable: boolean;
  optional: boolean;
  fallback?: { value: unknown };
  checks: Described[];
}

/** What the JSON Schema uses of a check. */
type Described = Pick<s.Check<never>, 'rule' | 'jsonSchema'>;

function unwrap(schema: s.Schema<unknown, unknown>): Unwrapped {
  const found: Omit<Unwrapped, 'core'> = { nullable: false, optional: false, checks: [] };
  let at = schema;
  while (at instanceof s.Wrapper) {
    // The outermost default is the one a parse fills in.
    if (at instanceof s.Default) {
      found.optional = true;
      found.fallback ??= { value: at.fallback };
    } else if (at instanceof s.Optional) {
      found.optional = true;
      if (at.documentedDefault !== undefined) found.fallback ??= { value: at.documentedDefault };
    } else if (at instanceof s.Nullable) found.nullable = true;
    else if (at instanceof s.Refined) found.checks.unshift((at as s.Refined<unknown, unknown>).check);
    at = at.inner;
  }
  return { core: at, ...found };
}

/** The JSON Schema of `schema`, its rules in `description`. */
export function jsonSchemaOf(schema: s.Schema<unknown, unknown>): JsonSchema {
  const { core, nullable, fallback, checks } = unwrap(schema);
  const { base, words, ownChecks } = coreOf(core);
  for (const check of [...ownChecks, ...checks]) {
    words.push(check.rule);
    const part = check.jsonSchema;
    if (part) merge(base, part);
  }
  // A type message that a later rule repeats and goes on ("must be a whole number of seconds" before
  // "must be a whole number of seconds that divides a day") is said once, by the longer.
  const description = [...new Set(words)]
    .filter((word, _, all) => !all.some((other) => other !== word && other.startsWith(word)))
    .join('; ');
  const out: JsonSchema = { ...(description !== '' && { description }), ...(nullable ? orNull(base) : base) };
  if (fallback) out.default = fallback.value as s.JsonValue;
  return out;
}

function coreOf(core: s.Schema<unknown, unknown>): { base: JsonSchema; words: string[]; ownChecks: readonly Described[] } {
  if (core instanceof s.ObjectSchema) {
    const object = core as s.ObjectSchema<s.Shape>;
    const words = object.options.typeMessage === undefined ? [] : [object.options.typeMessage];
    return { base: objectOf(object), words, ownChecks: [] };
  }
  if (core instanceof s.List) {
    const list = core as s.List<unknown, unknown>;
    return { base: { type: 'array', items: jsonSchemaOf(list.item) }, words: [list.typeMessage], ownChecks: list.checks };
  }
  if (core instanceof s.Choice) {
    const choice = core as s.Choice<string>;
    return { base: { type: 'string', enum: [...choice.values] }, words: [choice.typeMessage], ownChecks: [] };
  }
  if (core instanceof s.Leaf) {
    const leaf = core as s.Leaf<unknown>;
    // number, boolean and string are JSON Schema's own type names; a leaf of kind object is a free JSON object.
    return { base: { type: leaf.kind }, words: [leaf.typeMessage], ownChecks: leaf.checks };
  }
  throw new Error(`no JSON Schema for a schema of kind ${core.kind}`);
}

function objectOf(schema: s.ObjectSchema<s.Shape>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [key, value] of Object.entries(schema.shape)) {
    properties[key] = jsonSchemaOf(value);
    if (!unwrap(value).optional) required.push(key);
  }
  // Rules across keys: JSON Schema can say none of them; they go into the words of the key they blame.
  const { across, laterRules, unknownKeys } = schema.options;
  for (const { blame, rule } of [...(across ?? []), ...(laterRules ?? [])]) {
    const property = properties[blame];
    if (property) property.description = [property.description, rule].filter((part) => typeof part === 'string').join('; ');
  }
  return {
    type: 'object',
    properties,
    ...(required.length > 0 && { required }),
    // `strip` drops unknown keys and `keep` keeps them: both accept them.
    ...(unknownKeys === 'strict' && { additionalProperties: false }),
  };
}

/**
 * Adds a check's part. `type` narrows (an integer is a number); any other keyword already there
 * with another value (a second pattern) goes into `allOf`, so both hold.
 */
function merge(target: JsonSchema, part: s.JsonSchemaPart): void {
  const { type, ...rest } = part;
  if (type !== undefined) target.type = type;
  const clash = Object.entries(rest).some(([key, value]) => key in target && JSON.stringify(target[key]) !== JSON.stringify(value));
  if (!clash) Object.assign(target, rest);
  else if (Object.keys(rest).length > 0) target.allOf = [...((target.allOf as s.JsonValue[] | undefined) ?? []), rest];
}

/** Null besides: in `type`, and in `enum` where there is one (an enum alone would refuse null). */
function orNull(schema: JsonSchema): JsonSchema {
  const type = schema.type;
  return {
    ...schema,
    ...(typeof type === 'string' && { type: [type, 'null'] }),
    ...(Array.isArray(schema.enum) && { enum: [...schema.enum, null] }),
  };
}

/**
 * The fleet file's JSON Schema as `mtf-ping-pong schema` prints it. No `$id`: the schema is not
 * served anywhere, and it changes with the release that prints it, so a fixed URL would claim one
 * document where there are many; editors find it by the path a fleet file names.
 */
export function fleetFileJsonSchema(): JsonSchema {
  // The object's own words are an error message ("expected a fleet file: …"); the document says what it is.
  const schema = jsonSchemaOf(fleetFileSchema);
  delete schema.description;
  return {
    $schema: DRAFT_07,
    title: 'MTF Ping-Pong fleet file',
    description:
      'The loops of one fleet, for `mtf-ping-pong apply -f FILE`: fleet, defaults (optional) and loops. Printed by ' +
      "`mtf-ping-pong schema` from the config schema; each key's description gives its rules in the words the CLI prints. " +
      'What JSON Schema cannot say (rules across keys, such as dry_run: false needing confirm_live: true; align_every dividing a day) ' +
      'is in those words only: apply checks everything.',
    ...schema,
  };
}
