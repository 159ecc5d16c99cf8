/**
 * The long-running commands: `worker` (what a container runs), `simulator` (the MTF app on
 * loopback) and `dev` (the embedded stack of `npm start`). Each runs until SIGINT / SIGTERM.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { constants } from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ANSWER_GENERATIONS, DEMO_LINEAGE_DELAY, KNOWN_ORDER_STATUSES, SIMULATOR_FAULTS, startSimulator } from '../../simulator/server';
import { setUpWorkerProcess, startWorker } from '../../worker/main';
import { TransportError } from '@temporalio/worker';
import { messageOf } from '../../lib/errors';
import { ExitCode, action, durationArg, examples, say } from '../output';
import { addTemporalOptions, addressOf, ensureListening, refused, targetFrom, unreachable, type TemporalOptions } from '../temporal';

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

function numberArg(min: number, max: number, integer = false): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      throw new InvalidArgumentError(`must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
    }
    return value;
  };
}

/** `a,b,c`: one word or several, none empty. */
function listArg(what: string): (text: string) => string[] {
  return (text) => {
    const items = text.split(',').map((s) => s.trim());
    if (items.some((s) => s === '')) throw new InvalidArgumentError(`must be one ${what} or a comma-separated list of them, none empty`);
    return items;
  };
}

function registerWorker(program: Command): void {
  const command = program
    .command('worker')
    .description('run the worker (polls TASK_QUEUE_NAME) until SIGINT / SIGTERM, which let running MTF calls finish')
    .addHelpText(
      'after',
      examples(['mtf-ping-pong worker', 'TEMPORAL_ADDRESS=temporal:7233 TASK_QUEUE_NAME=mtf-ping-pong-queue mtf-ping-pong worker']),
    );
  addTemporalOptions(command).action(
    action(async (options: TemporalOptions) => {
      const target = targetFrom(options);
      // The same check and message as every other command, before the worker's own connection.
      await ensureListening(target);
      const { logger, settings } = setUpWorkerProcess();
      let running;
      try {
        running = await startWorker(target, settings, logger);
      } catch (err) {
        const refusal = refused(target, err);
        if (refusal) throw refusal;
        if (err instanceof TransportError) throw unreachable(target, messageOf(err));
        throw err;
      }
      say(`worker polling ${target.taskQueue} on ${addressOf(target)} (namespace ${target.namespace}); Ctrl-C stops it`);
      // The SDK's runtime shuts the worker down on SIGINT / SIGTERM; `done` resolves after that.
      await running.done;
      return ExitCode.Ok;
    }),
  );
}

interface SimulatorOptions {
  port: number;
  host: string;
  answer: (typeof ANSWER_GENERATIONS)[number];
  rejectLive?: boolean;
  orderStatus?: string[];
  readyShare?: number;
  throwShare?: number;
  throwSymbols?: string[];
  /** false with --no-lineage. */
  lineage: boolean;
  lineageDelay?: number;
  tradeFailedShare?: number;
  latency?: number;
  async?: boolean;
  killSwitchOff?: boolean;
  fault?: (typeof SIMULATOR_FAULTS)[number];
  faultCount?: number;
  errorRate?: number;
  seed?: number;
  quiet?: boolean;
}

function registerSimulator(program: Command): void {
  program
    .command('simulator')
    .description("run the MTF simulator (the trading app's MTF API) until Ctrl-C")
    .option('--port <n>', 'port; 0 picks a free one', numberArg(0, 65_535, true), 8088)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addOption(
      new Option(
        '--answer <generation>',
        "which generation of the app's answer to serve: today's (data.run, data.symbols) or the seed-era one (data.summary, data.results)",
      )
        .choices(ANSWER_GENERATIONS)
        .default('today'),
    )
    .option('--latency <duration>', 'time a run takes: 200ms, 2s...', durationArg)
    .option('--async', 'answer 202 Accepted and complete the run later (polled on its status route)')
    .option('--kill-switch-off', 'the global kill switch is OFF: runs get 403 unless force_run')
    .addOption(new Option('--fault <name>', 'answer run requests with this fault').choices(SIMULATOR_FAULTS))
    .option('--fault-count <n>', 'only the first n run requests get the fault', numberArg(0, Number.MAX_SAFE_INTEGER, true))
    .option('--error-rate <0..1>', 'this fraction of run requests get a random 5xx or kill-switch fault', numberArg(0, 1))
    .option(
      '--seed <n>',
      'seed of the --error-rate draws and of the per-symbol verdicts (same seed, same sequence)',
      numberArg(-(2 ** 31), 2 ** 32, true),
    )
    .option(
      '--reject-live',
      "refuse live (dry_run false) runs with status rejected, as today's app does without a reliable open-state source",
    )
    .option(
      '--order-status <status,...>',
      `list an order per READY contract in the answer with this status, or these in turn ` +
        `(${KNOWN_ORDER_STATUSES.join(', ')}...); default: none listed, as today's app`,
      listArg('status'),
    )
    .option('--ready-share <0..1>', 'the share of contracts that come out READY (default 0.4; the app sees about 0.02)', numberArg(0, 1))
    .option(
      '--throw-share <0..1>',
      'the share of contracts that throw while analysed, drawn per symbol, seed and run (default 0)',
      numberArg(0, 1),
    )
    .option('--throw-symbols <A,B,...>', 'these contracts throw on every run, as a delisted one does', listArg('symbol'))
    .option(
      '--lineage-delay <seconds>',
      `seconds from a run's answer until the lineage API lists its trades (default ${DEMO_LINEAGE_DELAY})`,
      numberArg(0, 86_400),
    )
    .option('--no-lineage', 'serve no lineage API (GET /api/lineage/v1/search answers an HTML 404), as an older release of the app')
    .option(
      '--trade-failed-share <0..1>',
      'the share of trades skipped at entry (order intent FAILED, or unmatched), drawn per symbol, seed and run (default 0.2)',
      numberArg(0, 1),
    )
    .option('--quiet', 'do not print a line per request')
    .addHelpText(
      'after',
      examples([
        'mtf-ping-pong simulator',
        'mtf-ping-pong simulator --port 9000 --async --latency 3s',
        'mtf-ping-pong simulator --error-rate 0.2 --seed 7',
        'mtf-ping-pong simulator --answer seed',
        'mtf-ping-pong simulator --order-status critical_unprotected_position',
        'mtf-ping-pong simulator --ready-share 0.02 --order-status submitted,entry_submitted,critical_unprotected_position',
        'mtf-ping-pong simulator --throw-share 0.05 --throw-symbols XRPUSDT',
        'mtf-ping-pong simulator --lineage-delay 5 --trade-failed-share 0.5',
        'mtf-ping-pong simulator --no-lineage',
      ]),
    )
    .action(
      action(async (options: SimulatorOptions) => {
        const simulator = await startSimulator({
          host: options.host,
          port: options.port,
          behaviour: {
            answer: options.answer,
            ...(options.rejectLive && { reject_live: true }),
            ...(options.orderStatus !== undefined && {
              order_status: options.orderStatus.length === 1 ? (options.orderStatus[0] ?? null) : options.orderStatus,
            }),
            ...(options.readyShare !== undefined && { ready_share: options.readyShare }),
            ...(options.throwShare !== undefined && { throw_share: options.throwShare }),
            ...(options.throwSymbols !== undefined && { throw_symbols: options.throwSymbols }),
            ...(!options.lineage && { lineage: 'absent' as const }),
            lineage_delay: options.lineageDelay ?? DEMO_LINEAGE_DELAY,
            ...(options.tradeFailedShare !== undefined && { trade_failed_share: options.tradeFailedShare }),
            ...(options.latency !== undefined && { latency_ms: options.latency * 1000 }),
            ...(options.async && { mode: 'async' as const }),
            ...(options.killSwitchOff && { kill_switch_on: false }),
            ...(options.fault !== undefined && { fault: options.fault }),
            ...(options.faultCount !== undefined && { fault_count: options.faultCount }),
            ...(options.errorRate !== undefined && { error_rate: options.errorRate }),
            ...(options.seed !== undefined && { seed: options.seed }),
          },
          ...(!options.quiet && { log: (line: string) => say(line) }),
        });
        say(`MTF simulator on ${simulator.baseUrl}; run URL ${simulator.runUrl}; Ctrl-C stops it`);
        await untilSignal();
        await simulator.close();
        return ExitCode.Ok;
      }),
    );
}

interface DevOptions extends TemporalOptions {
  mtfUrl?: string;
}

/**
 * dev.js runs its stack only as a main module, so it runs as a child. The child gets its own
 * process group: a terminal's Ctrl-C then reaches it once, through us. Reaching it twice (from the
 * terminal and from us) would count as "Ctrl-C again" and force it down without stopping in order.
 */
function registerDev(program: Command): void {
  const command = program
    .command('dev')
    .description('the embedded stack of npm start: dev server (state in .data/), simulator, worker and the loop, one line per cycle')
    .option('--mtf-url <url>', 'call this app instead of starting the simulator (default: MTF_URL)')
    .addHelpText('after', examples(['mtf-ping-pong dev', 'mtf-ping-pong dev --mtf-url http://localhost:8080/api/mtf/run']));
  addTemporalOptions(command).action(
    action(async (options: DevOptions) => {
      const env = {
        ...process.env,
        ...(options.address && { TEMPORAL_ADDRESS: options.address }),
        ...(options.namespace && { TEMPORAL_NAMESPACE: options.namespace }),
        ...(options.mtfUrl && { MTF_URL: options.mtfUrl }),
      };
      const child = spawn(process.execPath, [join(__dirname, '..', 'dev.js')], { env, stdio: 'inherit', detached: true });
      const forward = (signal: NodeJS.Signals): void => {
        child.kill(signal);
      };
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
      // If we end first (a crash), the stack in its own group must not outlive us.
      process.once('exit', () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      });
      const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      if (signal) return 128 + (constants.signals[signal] ?? 0);
      return code ?? ExitCode.Failure;
    }),
  );
}

export function registerProcesses(program: Command): void {
  registerWorker(program);
  registerSimulator(program);
  registerDev(program);
}
