/**
 * Booleans from the environment, with one meaning whoever reads them (the worker's own variables,
 * the CLI's and `npm start`'s MTF_<KEY> config): true/1/yes/on and false/0/no/off, in any case,
 * blanks trimmed; any other text is one line that names the variable and these words.
 */

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** The words a boolean accepts, as error lines name them. */
export const BOOLEAN_WORDS = 'true or false (or 1/0, yes/no, on/off)';

/** The value of a boolean word; null when `text` is none of them. */
export function booleanOf(text: string): boolean | null {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return null;
}

/** A variable's text in an error line: quoted, and cut short when it is long. */
export function quoted(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

/** What follows the variable's name when its text is no boolean: `must be true or false (…), not "maybe"`. */
export function notBoolean(text: string): string {
  return `must be ${BOOLEAN_WORDS}, not ${quoted(text)}`;
}

/** The boolean variable `name`: `fallback` when it is unset or blank; throws one line on any other text. */
export function envBoolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = booleanOf(text);
  if (value === null) throw new Error(`${name} ${notBoolean(text)}`);
  return value;
}
