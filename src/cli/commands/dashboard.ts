/**
 * `dashboard`: the live web page of every loop on the namespace, until SIGINT / SIGTERM. Its
 * listen address is `--listen` because `--address` is Temporal's, as in every other command.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { dashboardAddress, parseDashboardAddress, startDashboard, type DashboardAddress } from '../../dashboard/server';
import { messageOf } from '../../lib/errors';
import { CliError, ExitCode, action, examples, say } from '../output';
import { addTemporalOptions, addressOf, connect, targetFrom, type TemporalOptions } from '../temporal';

interface DashboardOptions extends TemporalOptions {
  listen?: DashboardAddress;
}

function addressArg(text: string): DashboardAddress {
  try {
    return parseDashboardAddress(text);
  } catch {
    throw new InvalidArgumentError('must be host:port, like 127.0.0.1:8080');
  }
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export function registerDashboard(program: Command): void {
  const command = program
    .command('dashboard')
    .description('serve the live, read-only dashboard of every loop (state, cycle-time and outcome plots) until Ctrl-C')
    .option(
      '--listen <host:port>',
      'where to serve it (default: DASHBOARD_ADDRESS, else 127.0.0.1:8080; loopback unless you say otherwise)',
      addressArg,
    )
    .addHelpText('after', examples(['mtf-ping-pong dashboard', 'mtf-ping-pong dashboard --listen 127.0.0.1:9090 --address temporal:7233']));
  addTemporalOptions(command).action(
    action(async (options: DashboardOptions) => {
      const target = targetFrom(options);
      let listen: DashboardAddress;
      try {
        listen = options.listen ?? dashboardAddress();
      } catch (err) {
        throw new CliError(messageOf(err), ExitCode.Usage);
      }
      const client = await connect(target);
      let dashboard;
      try {
        dashboard = await startDashboard({ client, host: listen.host, port: listen.port });
      } catch (err) {
        throw new CliError(`cannot serve the dashboard on ${listen.host}:${listen.port}: ${messageOf(err)}`, ExitCode.Failure);
      }
      say(`dashboard on ${dashboard.url} (loops on ${addressOf(target)}, namespace ${target.namespace}); Ctrl-C stops it`);
      await untilSignal();
      await dashboard.close();
      return ExitCode.Ok;
    }),
  );
}
