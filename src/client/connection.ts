/**
 * Where Temporal is: `@temporalio/envconfig` reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS and
 * API-key settings (and a profile file) for the worker and every client alike; with them, the
 * payload encryption MTF_ENCRYPTION_KEY asks for, so both sides always agree. Nothing runs at import.
 */
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { dataConverterFromEnv } from '../codec/encryption';
import { envBoolean } from '../lib/env';
import { DEFAULT_TASK_QUEUE } from '../shared/messages';

export interface TemporalTarget {
  connectionOptions: NativeConnectionOptions;
  /** Always passed explicitly, never left to a default. */
  namespace: string;
  taskQueue: string;
  /** Payload encryption (src/codec/encryption.ts), for the worker and every client; none without a key. */
  dataConverter?: DataConverter;
}

export const DEFAULT_ADDRESS = 'localhost:7233';

/**
 * The settings from the environment (or `env`), with `--address` / `--namespace` overrides on top.
 * Throws EncryptionConfigError on a bad MTF_ENCRYPTION_* setting, and an Error on a TEMPORAL_TLS that is no boolean.
 */
export function temporalTarget(
  overrides: { address?: string; namespace?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
): TemporalTarget {
  const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars: withTlsWord(definedOnly(env)) });
  const dataConverter = dataConverterFromEnv(env);
  return {
    connectionOptions: { ...connectionOptions, address: overrides.address ?? connectionOptions.address ?? DEFAULT_ADDRESS },
    namespace: overrides.namespace ?? namespace ?? 'default',
    taskQueue: env.TASK_QUEUE_NAME || DEFAULT_TASK_QUEUE,
    ...(dataConverter && { dataConverter }),
  };
}

/** `connectTimeoutMs` bounds the first connection (the SDK's default is 10 s). */
export async function connectClient(target: TemporalTarget, connectTimeoutMs?: number): Promise<Client> {
  const { address, tls, apiKey, metadata } = target.connectionOptions;
  if (tls || apiKey !== undefined) silenceIpServerNameWarning();
  const connection = await Connection.connect({ address, tls, apiKey, metadata, connectTimeout: connectTimeoutMs });
  return new Client({ connection, namespace: target.namespace, ...(target.dataConverter && { dataConverter: target.dataConverter }) });
}

let ipServerNameWarningSilenced = false;
/**
 * grpc-js hands Node's TLS the address's host as the SNI name even when it is an IP address
 * (TEMPORAL_ADDRESS=10.0.0.5:7233), and Node then prints DEP0123 on stderr for every connection:
 * two lines of noise a command's one-line answer does not need. Only that warning is dropped;
 * the certificate is still checked against the IP address.
 */
function silenceIpServerNameWarning(): void {
  if (ipServerNameWarningSilenced) return;
  ipServerNameWarningSilenced = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const [, typeOrOptions, code] = args;
    const warningCode = typeof typeOrOptions === 'object' && typeOrOptions !== null ? (typeOrOptions as { code?: unknown }).code : code;
    if (warningCode !== 'DEP0123') emit(...args);
  }) as typeof process.emitWarning;
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/**
 * TEMPORAL_TLS with the one meaning of a boolean variable (lib/env): envconfig alone takes only `1`
 * and `true` for on, and reads `on`, `yes`, `TRUE` or a typo as off. A blank one is left to envconfig.
 */
function withTlsWord(vars: Record<string, string>): Record<string, string> {
  if (vars.TEMPORAL_TLS === undefined || vars.TEMPORAL_TLS.trim() === '') return vars;
  return { ...vars, TEMPORAL_TLS: String(envBoolean(vars, 'TEMPORAL_TLS', false)) };
}
