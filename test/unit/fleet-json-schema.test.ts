/**
 * `mtf-ping-pong schema` (issue 34): the fleet file's JSON Schema, generated from the config
 * schema, is judged by a real validator (ajv, draft-07, strict) the way an editor would judge a
 * file, and held to the schema itself: a file one refuses, the other refuses at the same key, and
 * what JSON Schema cannot say is in the key's words and refused by the schema (as `apply` does).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { ALIGN_EVERY_RULE } from '../../src/shared/cadence';
import { CONFIG_KEYS, loopConfigSchema, parseLoopConfig } from '../../src/shared/config';
import type { Issue } from '../../src/shared/schema';
import { fleetFileSchema } from '../../src/fleet/fleet-schema';
import { fleetFileJsonSchema, type JsonSchema } from '../../src/fleet/json-schema';

const CLI = join(__dirname, '..', '..', 'src', 'cli', 'main.js');

const EXAMPLE = `
fleet: bitmart-prod
defaults:
  mtf_url: http://trading-app-nginx:80/api/mtf/run
  cadence: aligned
loops:
  - id: bitmart-scalper
    group: bitmart
    request_extra: { mtf_profile: scalper, exchange: bitmart }
    align_every: 60
  - id: bitmart-regular
    group: bitmart
    request_extra: { mtf_profile: regular, exchange: bitmart }
    align_every: 300
`;

type Fields = Record<string, unknown>;
/** The example file as a YAML reader gives it, typed loosely enough to be broken on purpose. */
interface FleetFile extends Fields {
  defaults: Fields;
  loops: (Fields & { request_extra: Fields })[];
}

/** A fresh copy of the example fleet file, changed by `edit`. */
function example(edit: (file: FleetFile) => void = () => undefined): FleetFile {
  const file = parseYaml(EXAMPLE) as FleetFile;
  edit(file);
  return file;
}

/** Loop `index` of a file (the example has two). */
function loop(file: FleetFile, index: number): FleetFile['loops'][number] {
  const found = file.loops[index];
  assert.ok(found, `no loop ${index}`);
  return found;
}

const descriptionOf = (schema: JsonSchema | undefined): string => (typeof schema?.description === 'string' ? schema.description : '');

const jsonSchema = fleetFileJsonSchema();
// strict: an unknown keyword or a keyword on the wrong type is an error, as it would be a silent no-op in an editor.
const ajv = new Ajv({ strict: true, allErrors: true });
const validate = ajv.compile(jsonSchema);

const pointer = (path: readonly (string | number)[]) => path.map((part) => `/${part}`).join('');

/** Where ajv refuses a file: the key at fault (a missing or unknown key named in full). */
function jsonSchemaRefusals(file: unknown): string[] {
  if (validate(file)) return [];
  return (validate.errors ?? []).map((error: ErrorObject) => {
    const params = error.params as { missingProperty?: string; additionalProperty?: string };
    const key = params.missingProperty ?? params.additionalProperty;
    return typeof key === 'string' ? `${error.instancePath}/${key}` : error.instancePath;
  });
}

/** Where the schema itself refuses it, the same way. */
function schemaRefusals(file: unknown): string[] {
  const result = fleetFileSchema.safeParse(file);
  if (result.success) return [];
  return result.issues.flatMap((issue: Issue) => issue.unknownKeys?.map((key) => pointer([...issue.path, key])) ?? [pointer(issue.path)]);
}

const loopProperties = () => (jsonSchema.properties as Record<string, JsonSchema>).loops?.items as JsonSchema;
const propertiesOf = (schema: JsonSchema | undefined) => (schema?.properties ?? {}) as Record<string, JsonSchema>;
const defaultsSchema = () => (jsonSchema.properties as Record<string, JsonSchema>).defaults;

test('the JSON Schema is a valid draft-07 schema that compiles in strict mode', () => {
  assert.equal(jsonSchema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.equal(ajv.validateSchema(jsonSchema), true, JSON.stringify(ajv.errors));
  assert.equal(typeof validate, 'function');
});

test('the example fleet file, and the one the repository ships, are valid to both', () => {
  const shipped: unknown = parseYaml(readFileSync(join(__dirname, '..', '..', '..', 'examples', 'fleet.yaml'), 'utf8'));
  for (const file of [example(), shipped]) {
    assert.deepEqual(jsonSchemaRefusals(file), []);
    assert.deepEqual(schemaRefusals(file), []);
  }
});

describe('a file the schema refuses, the JSON Schema refuses at the same key', () => {
  const cases: { name: string; at: string; edit: (file: FleetFile) => void }[] = [
    { name: 'a wrong type', at: '/loops/0/align_every', edit: (f) => (loop(f, 0).align_every = '60') },
    { name: 'a boolean as text', at: '/defaults/dry_run', edit: (f) => (f.defaults.dry_run = 'false') },
    { name: 'a number above its maximum', at: '/defaults/workers', edit: (f) => (f.defaults.workers = 65) },
    { name: 'a fraction where a whole number goes', at: '/loops/1/workers', edit: (f) => (loop(f, 1).workers = 1.5) },
    { name: 'zero seconds where more is needed', at: '/loops/1/ping_interval', edit: (f) => (loop(f, 1).ping_interval = 0) },
    { name: 'a number below its minimum', at: '/defaults/lineage_wait', edit: (f) => (f.defaults.lineage_wait = -1) },
    { name: 'an unknown top-level key', at: '/fleets', edit: (f) => (f.fleets = 'x') },
    { name: 'an unknown key in defaults', at: '/defaults/ping_intervall', edit: (f) => (f.defaults.ping_intervall = 30) },
    { name: 'an unknown key in a loop', at: '/loops/0/timeout', edit: (f) => (loop(f, 0).timeout = 30) },
    { name: 'fleet in a loop (the file names it once)', at: '/loops/1/fleet', edit: (f) => (loop(f, 1).fleet = 'other') },
    { name: 'a choice that is none of its values', at: '/defaults/cadence', edit: (f) => (f.defaults.cadence = 'hourly') },
    { name: 'a timeframe that is none of its values', at: '/loops/0/current_tf', edit: (f) => (loop(f, 0).current_tf = '2h') },
    { name: 'a fleet name with a space', at: '/fleet', edit: (f) => (f.fleet = 'bitmart prod') },
    { name: 'a group name starting with a dash', at: '/loops/0/group', edit: (f) => (loop(f, 0).group = '-bitmart') },
    { name: 'a loop without id', at: '/loops/1/id', edit: (f) => delete loop(f, 1).id },
    { name: 'a loop id with a quote', at: '/loops/0/id', edit: (f) => (loop(f, 0).id = "bitmart'scalper") },
    { name: 'a symbol listed twice', at: '/loops/0/symbols', edit: (f) => (loop(f, 0).symbols = ['BTCUSDT', 'ETHUSDT', 'BTCUSDT']) },
    { name: 'a lower-case symbol', at: '/loops/0/symbols/0', edit: (f) => (loop(f, 0).symbols = ['btcusdt']) },
    { name: 'an http URL without host', at: '/defaults/mtf_url', edit: (f) => (f.defaults.mtf_url = 'http:///api/mtf/run') },
    { name: 'an http URL with a port but no host', at: '/defaults/mtf_url', edit: (f) => (f.defaults.mtf_url = 'http://:80/api/mtf/run') },
    { name: 'a URL with credentials', at: '/loops/0/mtf_url', edit: (f) => (loop(f, 0).mtf_url = 'http://user:pw@app/api/mtf/run') },
    { name: 'a URL that is not http', at: '/loops/0/health_url', edit: (f) => (loop(f, 0).health_url = 'ftp://app/health') },
    {
      name: 'a status URL without {run_id}',
      at: '/defaults/status_url',
      edit: (f) => (f.defaults.status_url = 'http://app/api/mtf/runs/'),
    },
    { name: 'a lineage field in request_extra', at: '/loops/0/request_extra', edit: (f) => (loop(f, 0).request_extra.run_id = 'r1') },
    { name: 'a config key in request_extra', at: '/loops/1/request_extra', edit: (f) => (loop(f, 1).request_extra.dry_run = false) },
    { name: 'loops that is not a list', at: '/loops', edit: (f) => ((f as Fields).loops = { id: 'bitmart-scalper' }) },
    { name: 'no fleet', at: '/fleet', edit: (f) => delete f.fleet },
    // docs/cli.md says so: a JSON fleet file maps its schema in the editor's settings instead.
    { name: 'a $schema key', at: '/$schema', edit: (f) => (f.$schema = './fleet.schema.json') },
  ];
  for (const { name, at, edit } of cases) {
    test(name, () => {
      const file = example(edit);
      assert.ok(schemaRefusals(file).includes(at), `the schema refuses at ${at}: ${JSON.stringify(schemaRefusals(file))}`);
      assert.ok(jsonSchemaRefusals(file).includes(at), `the JSON Schema refuses at ${at}: ${JSON.stringify(jsonSchemaRefusals(file))}`);
    });
  }
});

test('edge values both accept: null where a key is nullable, all symbols, bounds, any http(s) host', () => {
  const file = example((f) => {
    f.defaults.current_tf = null;
    f.defaults.continue_timeout = null;
    // Two patterns (a URL, then {run_id}) on a nullable key: null must still pass both.
    f.defaults.status_url = null;
    f.defaults.symbols = [];
    f.defaults.workers = 64;
    loop(f, 0).group = null;
    loop(f, 0).align_every = 86_400;
    loop(f, 0).status_url = 'HTTPS://app.example:8443/api/mtf/runs/{run_id}?x=1';
    loop(f, 1).mtf_url = 'http://[::1]:8080/api/mtf/run#here';
    loop(f, 1).request_extra = { mtf_profile: 'regular', market_type: 'futures', validation_mode: 'strict' };
  });
  assert.deepEqual(jsonSchemaRefusals(file), []);
  assert.deepEqual(schemaRefusals(file), []);
});

test("the URL pattern gives checkHttpUrl's answer for every URL", () => {
  const urlSchema = propertiesOf(defaultsSchema()).mtf_url as JsonSchema;
  const byJsonSchema = ajv.compile(urlSchema);
  const urls = [
    'http://app/api/mtf/run',
    'https://app:443',
    'HtTpS://app?x',
    'http://app#',
    'http://app.example/é',
    'http://[::1]:80/x',
    'http://',
    'http://:80/x',
    'http:///x',
    'http://user@app/x',
    'http://app/x@y',
    'http://app /x',
    'http://app/\tx',
    'http://app/x\n',
    'http://app/x\u0000',
    'http://app/\u00a0',
    'http://app/\u2028',
    ' http://app/x',
    'httpx://app',
    'http:/app',
    'http:app',
    'ftp://app',
  ];
  for (const url of urls) {
    const bySchema = loopConfigSchema.shape.mtf_url.safeParse(url).success;
    assert.equal(byJsonSchema(url), bySchema, `${JSON.stringify(url)}: the schema says ${bySchema ? 'valid' : 'invalid'}`);
  }
  assert.equal(byJsonSchema(null), false, 'mtf_url is not nullable');
});

test('what JSON Schema cannot say is in the key’s words, and the schema refuses it', () => {
  // align_every must divide a day: JSON Schema only bounds it.
  const alignEvery = propertiesOf(loopProperties()).align_every as JsonSchema;
  assert.ok(descriptionOf(alignEvery).includes(ALIGN_EVERY_RULE), descriptionOf(alignEvery));
  const seven = example((f) => (loop(f, 0).align_every = 7));
  assert.deepEqual(jsonSchemaRefusals(seven), []);
  assert.deepEqual(schemaRefusals(seven), ['/loops/0/align_every']);

  // A rule across keys, checked once defaults and a loop are merged (apply parses the whole loop config).
  const dryRun = propertiesOf(defaultsSchema()).dry_run as JsonSchema;
  assert.match(descriptionOf(dryRun), /needs confirm_live: true in the same config/);
  assert.deepEqual(jsonSchemaRefusals(example((f) => (f.defaults.dry_run = false))), []);
  const live = loopConfigSchema.safeParse({ dry_run: false });
  assert.equal(live.success, false);
  assert.ok(!live.success && descriptionOf(dryRun).includes(live.issues[0]?.message ?? '?'));

  // request_extra's size, in bytes of JSON.
  const big = example((f) => (loop(f, 0).request_extra.note = 'x'.repeat(5000)));
  assert.deepEqual(jsonSchemaRefusals(big), []);
  assert.deepEqual(schemaRefusals(big), ['/loops/0/request_extra']);
  assert.match(descriptionOf(propertiesOf(loopProperties()).request_extra), /at most 4096 bytes of JSON/);
});

test('an editor shows the words the CLI prints: each refusal message is in the key’s description', () => {
  const cases: [string, (f: FleetFile) => void, string][] = [
    ['workers', (f) => (loop(f, 0).workers = 65), '/loops/0/workers'],
    ['cadence', (f) => (loop(f, 0).cadence = 'hourly'), '/loops/0/cadence'],
    ['group', (f) => (loop(f, 0).group = 'a b'), '/loops/0/group'],
    ['symbols', (f) => (loop(f, 0).symbols = ['BTCUSDT', 'BTCUSDT']), '/loops/0/symbols'],
    ['status_url', (f) => (loop(f, 0).status_url = 'http://app/x'), '/loops/0/status_url'],
    ['retry_backoff', (f) => (loop(f, 0).retry_backoff = 0.5), '/loops/0/retry_backoff'],
  ];
  for (const [key, edit, at] of cases) {
    const result = fleetFileSchema.safeParse(example(edit));
    const issue = result.success ? undefined : result.issues.find((one) => pointer(one.path) === at);
    assert.ok(issue, `the schema refuses ${key}`);
    const description = descriptionOf(propertiesOf(loopProperties())[key]);
    assert.ok(description.includes(issue.message), `${key}: "${issue.message}" is not in "${description}"`);
  }
});

test('every config key but fleet is under defaults and in a loop, with its default; a loop needs only its id', () => {
  const defaults = parseLoopConfig({});
  const inDefaults = propertiesOf(defaultsSchema());
  const inLoop = propertiesOf(loopProperties());
  for (const key of CONFIG_KEYS.filter((one) => one !== 'fleet')) {
    for (const [where, properties] of [
      ['defaults', inDefaults],
      ['a loop', inLoop],
    ] as const) {
      assert.ok(properties[key], `${key} is missing in ${where}`);
      assert.deepEqual(properties[key]?.default, defaults[key], `${key}'s default in ${where}`);
      assert.notEqual(properties[key]?.description ?? '', '', `${key} has no description in ${where}`);
    }
  }
  assert.equal(inDefaults.fleet, undefined);
  assert.equal(inLoop.fleet, undefined);
  assert.deepEqual(Object.keys(inLoop).sort(), [...CONFIG_KEYS.filter((one) => one !== 'fleet'), 'id'].sort());
  assert.deepEqual(loopProperties().required, ['id']);
  assert.equal(defaultsSchema()?.required, undefined);
  assert.deepEqual(jsonSchema.required, ['fleet', 'loops']);
});

test('`mtf-ping-pong schema` prints this JSON Schema and exits 0', () => {
  const run = spawnSync(process.execPath, [CLI, 'schema'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '');
  assert.deepEqual(JSON.parse(run.stdout), jsonSchema);
  assert.ok(run.stdout.startsWith('{\n  "$schema"'), 'pretty JSON, $schema first');
});
