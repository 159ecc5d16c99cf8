/**
 * `codec-server`: Temporal's remote codec protocol over the loops' encryption key, so the Web UI
 * and the stock CLI show encrypted loops in clear. It needs the key (MTF_ENCRYPTION_KEY…) and no
 * Temporal connection: the UI and the CLI fetch the history, and only hand it the payloads.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { EncryptionCodec, EncryptionConfigError, encryptionKeysFromEnv, type EncryptionKeys } from '../../codec/encryption';
import { DEFAULT_CODEC_HOST, DEFAULT_CODEC_PORT, DEFAULT_CORS_ORIGINS, parseOrigin, startCodecServer } from '../../codec/server';
import { parseDashboardAddress, type DashboardAddress } from '../../dashboard/server';
import { messageOf } from '../../lib/errors';
import { CliError, ExitCode, action, examples, say, warn } from '../output';

interface CodecServerOptions {
  listen?: DashboardAddress;
  corsOrigin?: string[];
}

function addressArg(text: string): DashboardAddress {
  try {
    return parseDashboardAddress(text);
  } catch {
    throw new InvalidArgumentError(`must be host:port, like ${DEFAULT_CODEC_HOST}:${DEFAULT_CODEC_PORT}`);
  }
}

/** Repeatable: each `--cors-origin` adds one. */
function originArg(text: string, previous: string[] | undefined): string[] {
  try {
    return [...(previous ?? []), parseOrigin(text)];
  } catch (err) {
    throw new InvalidArgumentError(messageOf(err));
  }
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

function keysFromEnv(): EncryptionKeys {
  let keys: EncryptionKeys | undefined;
  try {
    keys = encryptionKeysFromEnv();
  } catch (err) {
    if (err instanceof EncryptionConfigError) throw new CliError(err.message, ExitCode.Usage);
    throw err;
  }
  if (!keys) throw new CliError("codec-server needs the loops' key: set MTF_ENCRYPTION_KEY (or MTF_ENCRYPTION_KEY_FILE)", ExitCode.Usage);
  return keys;
}

export function registerCodecServer(program: Command): void {
  program
    .command('codec-server')
    .description(
      "serve Temporal's codec-server protocol (POST /encode, /decode) with the loops' encryption key, for the Web UI and the temporal CLI, until Ctrl-C",
    )
    .option(
      '--listen <host:port>',
      `where to serve it (default ${DEFAULT_CODEC_HOST}:${DEFAULT_CODEC_PORT}; loopback unless you say otherwise)`,
      addressArg,
    )
    .option(
      '--cors-origin <origin>',
      `a browser origin allowed to call it, repeatable (default: ${DEFAULT_CORS_ORIGINS.join(' and ')}, the dev server's Web UI)`,
      originArg,
    )
    .addHelpText(
      'after',
      `${examples([
        'MTF_ENCRYPTION_KEY=… mtf-ping-pong codec-server',
        'temporal workflow show --workflow-id mtf-ping-pong --codec-endpoint http://127.0.0.1:8888',
        'mtf-ping-pong codec-server --listen 127.0.0.1:9999 --cors-origin https://temporal.example',
      ])}
In the Web UI, set the codec endpoint (the data encoder settings) to the URL it prints.
Whoever reaches it can decrypt the loops' payloads: keep it on loopback or behind your own login.
`,
    )
    .action(
      action(async (options: CodecServerOptions) => {
        const keys = keysFromEnv();
        const codec = new EncryptionCodec(keys);
        const keyIds = [keys.activeKeyId, ...[...keys.keys.keys()].filter((id) => id !== keys.activeKeyId)];
        const listen = options.listen ?? { host: DEFAULT_CODEC_HOST, port: DEFAULT_CODEC_PORT };
        const corsOrigins = options.corsOrigin ?? DEFAULT_CORS_ORIGINS;
        let server;
        try {
          server = await startCodecServer({ codec, host: listen.host, port: listen.port, corsOrigins, log: warn });
        } catch (err) {
          throw new CliError(`cannot serve the codec server on ${listen.host}:${listen.port}: ${messageOf(err)}`, ExitCode.Failure);
        }
        say(`codec server on ${server.url} (keys ${keyIds.join(', ')}; browsers from ${corsOrigins.join(', ')}); Ctrl-C stops it`);
        say(`  Web UI: codec endpoint ${server.url}    temporal CLI: --codec-endpoint ${server.url}`);
        await untilSignal();
        await server.close();
        return ExitCode.Ok;
      }),
    );
}
