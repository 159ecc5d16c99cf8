/**
 * `schema`: the fleet file's JSON Schema on stdout, generated from the config schema
 * (src/fleet/json-schema.ts), for editors and CI to check a fleet file before `apply` does. It
 * reaches no server: it works wherever the CLI is installed.
 */
import type { Command } from 'commander';
import { fleetFileJsonSchema } from '../../fleet/json-schema';
import { action, examples, printJson } from '../output';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description("print the fleet file's JSON Schema (draft-07), for editors and CI; apply checks more than it can say")
    .addHelpText(
      'after',
      examples(['mtf-ping-pong schema > fleet.schema.json', "mtf-ping-pong schema | jq '.properties.loops.items.properties.align_every'"]),
    )
    .action(action(() => Promise.resolve(printJson(fleetFileJsonSchema()))));
}
