/**
 * docker-compose.yml against the code's own defaults and against the cluster tests' server pin and
 * setup scripts: the worker service, the demo profile, and `docker compose config` where a Docker
 * engine is there (skipped with the reason where not).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_ADDRESS } from '../../src/client/connection';
import { parseFleetFile } from '../../src/fleet/fleet-file';
import { parseLoopConfig } from '../../src/shared/config';
import { DEFAULT_TASK_QUEUE } from '../../src/shared/messages';
import { searchAttributeSpecs } from '../../src/shared/search-attributes';
import { DEFAULT_IDENTITY } from '../../src/worker/main';
import { DEFAULT_SHUTDOWN_GRACE_MS } from '../../src/worker/worker';
import { SETUP_SCRIPTS, serverPin } from '../cluster/setup-scripts';
import { describeRun } from '../helpers/processes';
import {
  root,
  read,
  packageJson,
  run,
  seconds,
  hostPort,
  HEALTH_PORT,
  METRICS_PORT,
  type Obj,
  obj,
  arr,
  str,
  yamlFile,
  composeDefault,
  envNamesTheCodeReads,
} from '../helpers/deploy-files';

describe('docker-compose.yml', () => {
  const serviceOf = (services: Obj, name: string) => obj(services[name], `service ${name}`);
  const envMap = (service: Obj, what: string): Record<string, string> =>
    Object.fromEntries(
      Object.entries(obj(service.environment, `${what} environment`)).map(([k, v]) => [k, composeDefault(str(v, `${what} ${k}`))]),
    );
  const healthUrl = (service: Obj, what: string): URL => {
    const testCommand = arr(obj(service.healthcheck, `${what} healthcheck`).test, `${what} healthcheck test`)
      .map((v) => str(v, 'test'))
      .join(' ');
    const url = /https?:\/\/[^'"\s]+/.exec(testCommand)?.[0];
    assert.ok(url, `${what}: the healthcheck fetches a URL`);
    return new URL(url);
  };

  test("the worker service: the seed's env vars with the code's defaults, metrics and health on 0.0.0.0, a health check on the health port", () => {
    const compose = yamlFile('docker-compose.yml');
    const services = obj(compose.services, 'services');
    const worker = serviceOf(services, 'mtf-ping-pong');
    assert.equal(worker.profiles, undefined, 'the worker runs without a profile');
    assert.deepEqual(
      Object.keys(services).filter((name) => serviceOf(services, name).profiles === undefined),
      ['mtf-ping-pong'],
      'without a profile, only the worker',
    );
    const env = envMap(worker, 'mtf-ping-pong');
    for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TASK_QUEUE_NAME', 'WORKER_IDENTITY', 'MTF_URL'])
      assert.ok(name in env, `${name} is set`);
    assert.equal(env.TEMPORAL_ADDRESS, `temporal:${hostPort(DEFAULT_ADDRESS).port}`, "the seed's temporal:7233");
    assert.equal(env.TEMPORAL_NAMESPACE, 'default');
    assert.equal(env.TASK_QUEUE_NAME, DEFAULT_TASK_QUEUE);
    assert.equal(env.WORKER_IDENTITY, DEFAULT_IDENTITY);
    assert.equal(env.MTF_URL, '', "unset unless given: the loop config's mtf_url (its file, else the default) applies");
    assert.deepEqual(hostPort(env.METRICS_ADDRESS ?? ''), { host: '0.0.0.0', port: METRICS_PORT });
    assert.deepEqual(hostPort(env.HEALTH_ADDRESS ?? ''), { host: '0.0.0.0', port: HEALTH_PORT });
    const known = envNamesTheCodeReads();
    for (const name of Object.keys(env)) assert.ok(known.has(name), `${name} is read by nothing`);
    const url = healthUrl(worker, 'mtf-ping-pong');
    assert.equal(Number(url.port), HEALTH_PORT);
    assert.match(url.pathname, /^\/(healthz|readyz)$/);
    assert.ok(
      seconds(str(worker.stop_grace_period, 'stop_grace_period')) * 1000 > DEFAULT_SHUTDOWN_GRACE_MS,
      "stop_grace_period is longer than the worker's shutdown grace time",
    );
    assert.ok(
      seconds(str(obj(worker.healthcheck, 'healthcheck').start_period, 'start_period')) >= seconds(env.TEMPORAL_WAIT ?? ''),
      'the start period covers the wait for Temporal',
    );
    assert.equal(worker.image, `mtf-ping-pong:${packageJson.version}`);
    assert.equal(worker.build, '.');

    // The fleet file the entrypoint applies: the example, mounted read-only where MTF_FLEET_FILE
    // points; its loops dry, and neither --prune nor --confirm-live unless asked.
    const fleetMount = arr(worker.volumes, 'mtf-ping-pong volumes')
      .map((v) => str(v, 'volume').split(':'))
      .find(([, target]) => target === env.MTF_FLEET_FILE);
    assert.deepEqual(fleetMount, ['./examples/fleet.yaml', env.MTF_FLEET_FILE, 'ro'], `MTF_FLEET_FILE (${env.MTF_FLEET_FILE}) is mounted`);
    const { loops } = parseFleetFile(read('examples/fleet.yaml'), 'examples/fleet.yaml');
    assert.ok(loops.length > 0);
    for (const { id, config } of loops) assert.equal(config.dry_run, true, `${id}: a dry run`);
    assert.equal(env.MTF_FLEET_PRUNE, 'false');
    assert.equal(env.MTF_FLEET_CONFIRM_LIVE, 'false');
  });

  test('the demo profile: Temporal on PostgreSQL with its schema and namespace set up, its UI, the simulator as the trading app, the dashboard, Prometheus, Alertmanager and Grafana', () => {
    const compose = yamlFile('docker-compose.yml');
    const services = obj(compose.services, 'services');
    const demo = Object.keys(services).filter((name) => arr(serviceOf(services, name).profiles ?? [], 'profiles').includes('demo'));
    assert.deepEqual(
      demo.sort(),
      [
        'alertmanager',
        'dashboard',
        'grafana',
        'mtf-simulator',
        'postgresql',
        'prometheus',
        'temporal',
        'temporal-schema',
        'temporal-setup',
        'temporal-ui',
      ].sort(),
    );
    for (const name of Object.keys(services)) {
      const image = str(serviceOf(services, name).image, `${name} image`);
      assert.match(image, /^[\w./-]+:[\w.-]+$/, `${name}: a pinned tag`);
      assert.doesNotMatch(image, /:latest$/, `${name}: not latest`);
      for (const port of arr(serviceOf(services, name).ports ?? [], `${name} ports`))
        assert.match(str(port, 'port'), /^127\.0\.0\.1:/, `${name}: published on loopback only`);
    }
    // The production server image, no auto-setup: the schema and the namespace are set up by
    // their own one-shot services (compared with the cluster tests below).
    const temporal = serviceOf(services, 'temporal');
    assert.match(str(temporal.image, 'image'), /^temporalio\/server:/);
    assert.equal(temporal.restart, 'unless-stopped');
    assert.deepEqual(temporal.ports, [`127.0.0.1:${hostPort(DEFAULT_ADDRESS).port}:${hostPort(DEFAULT_ADDRESS).port}`]);
    const temporalEnv = envMap(temporal, 'temporal');
    assert.equal(temporalEnv.DB, 'postgres12');
    assert.equal(temporalEnv.POSTGRES_SEEDS, 'postgresql');
    assert.equal(temporalEnv.ENABLE_ES, undefined, 'SQL visibility: no Elasticsearch');
    for (const name of ['temporal-schema', 'temporal-setup']) {
      assert.match(str(serviceOf(services, name).image, `${name} image`), /^temporalio\/admin-tools:/);
      assert.equal(serviceOf(services, name).restart, 'on-failure', `${name}: runs once, again only after a failure`);
    }
    const dependency = (name: string, on: string) =>
      obj(obj(serviceOf(services, name).depends_on, `${name} depends_on`)[on], `${name} depends_on ${on}`).condition;
    assert.equal(dependency('temporal-schema', 'postgresql'), 'service_healthy');
    assert.equal(dependency('temporal', 'temporal-schema'), 'service_completed_successfully');
    assert.equal(dependency('temporal-setup', 'temporal'), 'service_healthy');
    assert.equal(dependency('dashboard', 'temporal-setup'), 'service_completed_successfully', "the dashboard's namespace exists");
    // Healthy once the frontend answers, whatever the namespaces: temporal-setup creates the
    // loop's only after that.
    const healthTest = arr(obj(temporal.healthcheck, 'temporal healthcheck').test, 'temporal healthcheck test').map((a) => str(a, 'arg'));
    assert.deepEqual(healthTest.slice(0, 5), ['CMD', 'temporal', 'operator', 'cluster', 'health']);
    assert.ok(!healthTest.includes('--namespace'), 'the health check needs no namespace');

    // The simulator answers under the host and port of the loop's default mtf_url, from this image.
    const simulator = serviceOf(services, 'mtf-simulator');
    const mtfUrl = new URL(parseLoopConfig({}).mtf_url);
    const aliases = arr(obj(obj(simulator.networks, 'networks').default, 'default network').aliases, 'aliases').map((a) => str(a, 'alias'));
    assert.ok(aliases.includes(mtfUrl.hostname), `the simulator is reachable as ${mtfUrl.hostname}`);
    const simCommand = arr(simulator.command, 'command').map((a) => str(a, 'arg'));
    assert.equal(simCommand[0], 'simulator');
    assert.equal(simCommand[simCommand.indexOf('--port') + 1], mtfUrl.port || '80');
    assert.equal(simCommand[simCommand.indexOf('--host') + 1], '0.0.0.0');
    assert.equal(simulator.image, serviceOf(services, 'mtf-ping-pong').image);

    const dependsOn = obj(
      obj(serviceOf(services, 'mtf-ping-pong').depends_on, 'depends_on')['temporal-setup'],
      'depends_on temporal-setup',
    );
    assert.equal(dependsOn.required, false, 'the worker alone does not need the demo profile');

    // Prometheus scrapes the worker's metrics port; Grafana gets it as data source and the dashboard.
    const prometheus = yamlFile('deploy/prometheus/prometheus.yml');
    const targets = arr(prometheus.scrape_configs, 'scrape_configs').flatMap((c) =>
      arr(obj(c, 'scrape config').static_configs, 'static_configs').flatMap((s) =>
        arr(obj(s, 'static config').targets, 'targets').map((t) => str(t, 'target')),
      ),
    );
    assert.deepEqual(targets, [`mtf-ping-pong:${METRICS_PORT}`]);
    const mounts = (name: string) =>
      arr(serviceOf(services, name).volumes ?? [], `${name} volumes`).map((v) => {
        const [host, target] = str(v, 'volume').split(':');
        return { host: host ?? '', target: target ?? '' };
      });
    for (const name of Object.keys(services)) {
      for (const { host } of mounts(name).filter((m) => m.host.startsWith('./')))
        assert.ok(existsSync(join(root, host)), `${name} mounts ${host}, which exists`);
    }
    assert.ok(
      mounts('prometheus').some((m) => m.host === './deploy/prometheus/prometheus.yml' && m.target === '/etc/prometheus/prometheus.yml'),
    );
    // The rule files prometheus.yml names, mounted next to it.
    for (const rules of arr(prometheus.rule_files, 'rule_files').map((r) => str(r, 'rule file'))) {
      assert.ok(
        mounts('prometheus').some((m) => m.host === `./deploy/prometheus/${rules}` && m.target === posix.join('/etc/prometheus', rules)),
        `${rules} is mounted next to prometheus.yml`,
      );
    }

    // Prometheus fires into the stack's Alertmanager, whose config the mounted entrypoint writes
    // from env vars that default to empty: no secret in this file.
    const alertTargets = arr(obj(prometheus.alerting, 'alerting').alertmanagers, 'alertmanagers').flatMap((a) =>
      arr(obj(a, 'alertmanager').static_configs, 'static_configs').flatMap((s) =>
        arr(obj(s, 'static config').targets, 'targets').map((t) => str(t, 'target')),
      ),
    );
    assert.deepEqual(alertTargets, ['alertmanager:9093']);
    const alertmanager = serviceOf(services, 'alertmanager');
    assert.match(str(alertmanager.image, 'image'), /^prom\/alertmanager:v0\.\d+\.\d+$/);
    assert.equal(alertmanager.restart, 'unless-stopped');
    assert.deepEqual(alertmanager.ports, ['127.0.0.1:9093:9093']);
    const entrypoint = arr(alertmanager.entrypoint, 'entrypoint').map((a) => str(a, 'entrypoint'));
    assert.equal(entrypoint[0], '/bin/sh', "run with the image's busybox sh: a read-only mount needs no executable bit");
    assert.ok(
      mounts('alertmanager').some((m) => m.host === './deploy/alertmanager/entrypoint.sh' && m.target === entrypoint[1]),
      'the mounted script is the entrypoint',
    );
    assert.ok(
      str(
        arr(alertmanager.volumes, 'volumes').find((v) => str(v, 'volume').startsWith('./deploy/alertmanager/')),
        'volume',
      ).endsWith(':ro'),
      'mounted read-only',
    );
    const amEnv = obj(alertmanager.environment, 'alertmanager environment');
    const scriptReads = [...read('deploy/alertmanager/entrypoint.sh').matchAll(/\$\{(MTF_ALERT_[A-Z_]+)/g)].map((m) => m[1] ?? '');
    assert.deepEqual(Object.keys(amEnv).sort(), [...new Set(scriptReads)].sort(), 'the env vars the script reads, each passed through');
    for (const [name, value] of Object.entries(amEnv))
      assert.equal(value, `\${${name}:-}`, `${name}: from the environment or .env, empty by default`);
    const grafana = mounts('grafana');
    const dashboard = grafana.find((m) => m.host === './deploy/grafana/mtf-ping-pong.json');
    assert.ok(dashboard, 'the repository dashboard is mounted');
    assert.ok(grafana.some((m) => m.host === './deploy/grafana/provisioning' && m.target === '/etc/grafana/provisioning'));
    const providers = arr(yamlFile('deploy/grafana/provisioning/dashboards/mtf-ping-pong.yml').providers, 'providers');
    assert.equal(
      str(obj(obj(providers[0], 'provider').options, 'options').path, 'path'),
      posix.dirname(dashboard.target),
      'the provider reads the folder the dashboard is mounted in',
    );
    const datasource = obj(
      arr(yamlFile('deploy/grafana/provisioning/datasources/prometheus.yml').datasources, 'datasources')[0],
      'datasource',
    );
    assert.equal(datasource.type, 'prometheus');
    assert.equal(datasource.url, 'http://prometheus:9090');
    const dashboardJson = JSON.parse(read('deploy/grafana/mtf-ping-pong.json')) as {
      templating: { list: { type: string; query: string }[] };
    };
    assert.ok(
      dashboardJson.templating.list.some((v) => v.type === 'datasource' && v.query === 'prometheus'),
      'the dashboard picks a Prometheus data source',
    );
  });

  test("the demo's Temporal is the cluster tests': the pinned server release, its admin-tools, the same setup scripts", (t) => {
    const compose = yamlFile('docker-compose.yml');
    const services = obj(compose.services, 'services');
    const pin = serverPin();
    const temporal = serviceOf(services, 'temporal');
    assert.equal(
      temporal.image,
      `temporalio/server:${pin.version}`,
      'scripts/temporal-server.json pins the release the cluster tests build',
    );
    assert.ok(pin.adminTools.startsWith(`${pin.version}-`), `admin-tools ${pin.adminTools} is of server release ${pin.version}`);

    /** The service runs the mounted script with the image's sh; the script's env names, and the service's env. */
    const runsScript = (name: string, script: string) => {
      const service = serviceOf(services, name);
      assert.equal(service.image, `temporalio/admin-tools:${pin.adminTools}`, `${name}: the release's admin-tools`);
      const entrypoint = arr(service.entrypoint, `${name} entrypoint`).map((a) => str(a, 'arg'));
      assert.equal(entrypoint.length, 2, `${name}: sh and the script, nothing else`);
      assert.equal(entrypoint[0], '/bin/sh', "run with the image's sh: a read-only mount needs no executable bit");
      const volumes = arr(service.volumes, `${name} volumes`).map((v) => str(v, 'volume'));
      assert.ok(
        volumes.includes(`./${script}:${entrypoint[1]}:ro`),
        `${name}: ${script} is mounted read-only where the entrypoint runs it`,
      );
      assert.equal(service.command, undefined, `${name}: no arguments; the script reads env vars only`);
      const text = read(script);
      const reads = [...text.matchAll(/^: "\$\{([A-Z_]+):([?=])/gm)].map((m) => ({ name: m[1] ?? '', required: m[2] === '?' }));
      assert.ok(reads.length > 0, `${script}: reads its settings with : "\${NAME:...}"`);
      const env = envMap(service, name);
      for (const { name: n } of reads.filter((r) => r.required)) assert.ok(n in env, `${name} sets ${n}, which ${script} requires`);
      for (const n of Object.keys(env))
        assert.ok(
          reads.some((r) => r.name === n),
          `${name} sets ${n}, which ${script} does not read`,
        );
      return { text, reads, env };
    };

    // temporal-schema: every setting of schema.sh but SCHEMA_DIR, whose default is admin-tools'
    // schema folder; the databases it sets up are the ones the server's config names.
    const schema = runsScript('temporal-schema', SETUP_SCRIPTS.schema);
    assert.deepEqual(
      schema.reads.map((r) => r.name).filter((n) => !(n in schema.env)),
      ['SCHEMA_DIR'],
      'temporal-schema sets all of schema.sh but SCHEMA_DIR',
    );
    assert.match(
      schema.text,
      /^: "\$\{SCHEMA_DIR:=\/etc\/temporal\/schema\/postgresql\/v12\}"$/m,
      "SCHEMA_DIR's default: the schema folder of the admin-tools image",
    );
    const pairs = /^for pair in (.+); do$/m.exec(schema.text)?.[1]?.split(/\s+/) ?? [];
    assert.deepEqual(
      pairs.map((p) => p.split(':')),
      [
        ['temporal', 'temporal'],
        ['temporal_visibility', 'visibility'],
      ],
      'schema.sh sets up the persistence and the visibility schemas',
    );
    const temporalEnv = envMap(temporal, 'temporal');
    assert.deepEqual(
      [temporalEnv.DBNAME, temporalEnv.VISIBILITY_DBNAME],
      pairs.map((p) => p.split(':')[0]),
      'the server uses the databases temporal-schema sets up',
    );
    assert.equal(temporalEnv.POSTGRES_SEEDS, schema.env.POSTGRES_SEEDS);
    assert.equal(temporalEnv.DB_PORT, schema.env.DB_PORT);
    assert.equal(temporalEnv.POSTGRES_USER, schema.env.POSTGRES_USER);
    assert.equal(temporalEnv.POSTGRES_PWD, schema.env.SQL_PASSWORD);
    const postgresEnv = envMap(serviceOf(services, 'postgresql'), 'postgresql');
    assert.equal(schema.env.POSTGRES_USER, postgresEnv.POSTGRES_USER);
    assert.equal(schema.env.SQL_PASSWORD, postgresEnv.POSTGRES_PASSWORD);

    // temporal-setup: the worker's namespace on the worker's Temporal, with the loop's search
    // attributes as the code defines them.
    const setup = runsScript('temporal-setup', SETUP_SCRIPTS.namespace);
    const workerEnv = obj(serviceOf(services, 'mtf-ping-pong').environment, 'mtf-ping-pong environment');
    assert.equal(
      obj(serviceOf(services, 'temporal-setup').environment, 'temporal-setup environment').NAMESPACE,
      workerEnv.TEMPORAL_NAMESPACE,
      "the worker's namespace, from the same variable",
    );
    assert.equal(setup.env.TEMPORAL_ADDRESS, composeDefault(str(workerEnv.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS')));
    const specs = /^for spec in (.+); do$/m.exec(setup.text)?.[1]?.split(/\s+/) ?? [];
    assert.deepEqual(
      specs.map((s) => s.replace(':', '=')),
      searchAttributeSpecs(),
      'namespace.sh registers the search attributes of src/shared/search-attributes.ts',
    );

    // The server's env names are the ones the release's config template reads (in Go's module
    // cache once scripts/temporal-server.mjs has built the server; skipped without it).
    const modCache = spawnSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8', timeout: 20_000 }).stdout?.trim();
    const template = modCache ? join(modCache, `${pin.module}@v${pin.version}`, 'docker', 'config_template.yaml') : '';
    if (!template || !existsSync(template)) {
      t.diagnostic(
        `the server's config_template.yaml is not in Go's module cache (${template || 'no go'}): the server's env names are not checked against it`,
      );
      return;
    }
    const templateText = readFileSync(template, 'utf8');
    // TEMPORAL_ADDRESS is for the image's entrypoint and the `temporal` CLI, not the template.
    for (const name of Object.keys(temporalEnv).filter((n) => n !== 'TEMPORAL_ADDRESS')) {
      assert.ok(templateText.includes(`.Env.${name} `), `temporal sets ${name}, which the ${pin.version} config template reads`);
    }
    assert.match(
      templateText,
      new RegExp(`databaseName: "\\{\\{ default \\.Env\\.VISIBILITY_DBNAME "temporal_visibility" \\}\\}"`),
      'VISIBILITY_DBNAME names the visibility database',
    );
  });

  test('`docker compose config` accepts the file, with and without the demo profile', async (t) => {
    const version = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 20_000 });
    if (version.status !== 0) {
      const why = (version.error?.message ?? version.stderr ?? '').trim().split('\n')[0] || `exit ${version.status}`;
      t.skip(`docker compose is not available here (${why}): the YAML and its values are checked above, Compose's own validation is not`);
      return;
    }
    for (const args of [
      ['config', '--quiet'],
      ['--profile', 'demo', 'config', '--quiet'],
    ]) {
      const ran = await run('docker', ['compose', '-f', 'docker-compose.yml', ...args], { timeoutMs: 30_000 });
      assert.equal(ran.code, 0, describeRun(ran));
    }
  });
});
