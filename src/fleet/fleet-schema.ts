/**
 * A fleet file's shape, made from the one config schema (src/shared/config.ts): `defaults` and each
 * loop hold the same keys with the same rules and messages, every key optional, and the whole
 * config of a loop (defaults, then the loop's own keys, then the file's fleet) is parsed by the
 * loop schema itself, rules across keys included (fleet-file.ts). `mtf-ping-pong schema` prints
 * this shape as a JSON Schema (json-schema.ts).
 */
import { label, loopConfigSchema } from '../shared/config';
import * as s from '../shared/schema';

/** A workflow ID a fleet file may name: it reaches visibility queries and the CLI's lines as it is. */
export const LOOP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const LOOP_ID_RULE = 'must be 1-200 letters, digits, dots, dashes or underscores, starting with a letter or digit, like bitmart-scalper';

/** The keys a fleet file sets for every loop unless the loop sets them: all config keys but `fleet`, which the file names once. */
export const fleetDefaultsSchema = loopConfigSchema.partial(['fleet']);

/** One loop: its workflow ID and its config keys (`group` among them). */
export const fleetLoopSchema = fleetDefaultsSchema.extend({ id: s.string(LOOP_ID_RULE, s.matches(LOOP_ID_PATTERN, LOOP_ID_RULE)) });

export const fleetFileSchema = s.object(
  {
    /** The name `apply` stamps on every loop it manages (the loop's `fleet` key and MtfFleet). */
    fleet: label(),
    defaults: fleetDefaultsSchema.optional(),
    loops: s.list(
      fleetLoopSchema,
      'must be a list of loops, each with an id',
      // JSON Schema cannot say "no two items with the same id": words only.
      s.check((loops) => {
        const seen = new Set<string>();
        const twice = loops.map((loop) => loop.id).filter((id) => seen.size === seen.add(id).size);
        return twice.length === 0 ? null : `must not list a loop twice (${[...new Set(twice)].join(', ')})`;
      }, 'must not list a loop twice (two loops with one id)'),
    ),
  },
  { unknownKeys: 'strict', typeMessage: 'expected a fleet file: an object with fleet, defaults (optional) and loops' },
);

export type FleetFileInput = s.Output<typeof fleetFileSchema>;
