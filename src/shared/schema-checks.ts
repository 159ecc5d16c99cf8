/**
 * The checks a schema of schema.ts runs on a value once its type is right: each says what is wrong
 * in words, and what JSON Schema can say of its rule, for `mtf-ping-pong schema`
 * (src/fleet/json-schema.ts). Re-exported by schema.ts, where callers find them.
 *
 * Imported by workflow code: no Node built-ins, nothing that reads the environment.
 */

/** JSON as JSON.parse gives it: null, booleans, finite numbers, strings, lists and plain objects of them. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What JSON Schema can say of a check: keywords such as `minimum` or `pattern` (draft-07). */
export type JsonSchemaPart = Readonly<Record<string, JsonValue>>;

/**
 * A check on a parsed value: `problem` gives a message when it fails, else null. `rule` is the rule
 * in the words of its messages, `jsonSchema` what JSON Schema can say of it (what it cannot stays
 * in the words); both only describe the check, for `mtf-ping-pong schema`, and never change a parse.
 */
export interface Check<T> {
  problem(value: T): string | null;
  readonly rule: string;
  readonly jsonSchema?: JsonSchemaPart | undefined;
}

/** A check of one's own: `problem`, its rule in words and, where JSON Schema can say some of it, that part. */
export function check<T>(problem: (value: T) => string | null, rule: string, jsonSchema?: JsonSchemaPart): Check<T> {
  return jsonSchema === undefined ? { problem, rule } : { problem, rule, jsonSchema };
}

/**
 * The built-in checks are small objects whose test is on the prototype, not closures: every running
 * loop makes its own copy of each (about 70 of them), and a closure with its context costs more;
 * one class for all of them, since each class too is made anew per loop. `jsonSchema` is made only
 * when asked.
 */
class BuiltInCheck<T extends number | string> implements Check<T> {
  constructor(
    private readonly keyword: 'type' | 'minimum' | 'maximum' | 'exclusiveMinimum' | 'pattern',
    private readonly bound: number | RegExp,
    readonly rule: string,
  ) {}
  problem(value: T): string | null {
    const { keyword, bound } = this;
    let ok: boolean;
    if (typeof bound !== 'number') ok = bound.test(value as string);
    else if (keyword === 'type') ok = Number.isInteger(value);
    else if (keyword === 'minimum') ok = (value as number) >= bound;
    else if (keyword === 'maximum') ok = (value as number) <= bound;
    else ok = (value as number) > bound;
    return ok ? null : this.rule;
  }
  get jsonSchema(): JsonSchemaPart | undefined {
    const { keyword, bound } = this;
    if (typeof bound === 'number') return keyword === 'type' ? { type: 'integer' } : { [keyword]: bound };
    // A flag (i, m, …) has no JSON Schema form: such a pattern stays in words only.
    return bound.flags === '' ? { pattern: bound.source } : undefined;
  }
}

export const int = (message: string): Check<number> => new BuiltInCheck('type', 0, message);
export const min = (bound: number, message: string): Check<number> => new BuiltInCheck('minimum', bound, message);
export const max = (bound: number, message: string): Check<number> => new BuiltInCheck('maximum', bound, message);
export const positive = (message: string): Check<number> => new BuiltInCheck('exclusiveMinimum', 0, message);
export const matches = (pattern: RegExp, message: string): Check<string> => new BuiltInCheck('pattern', pattern, message);
