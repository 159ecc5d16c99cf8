/**
 * The nemesis: from a seed, a sequence of faults, each with its target, its parameters and how long
 * it holds, then the pause before the next. The choices are a pure function of the seed and the
 * step (`planFault`), so a seed names the same faults at the same steps on every run; only when
 * each lands in a cycle depends on the machine. `applyFault` makes one on the world and heals it.
 */
import { mulberry32, type SimulatorBehaviour, type SimulatorFault } from '../../src/simulator/server';
import { SERVICES, type Service } from '../cluster/cluster';
import type { Toxic } from './toxiproxy';
import { SLOTS, type Slot, type World } from './world';

export type FaultKind = 'kill' | 'stall' | 'postgres' | 'link' | 'answer';

export interface PlannedFault {
  step: number;
  kind: FaultKind;
  /** A service, a worker slot (or `both`), `postgres`, a link (`app`, `frontend`), or the simulator. */
  target: string;
  /** What exactly: the signal, the stop mode, the toxic, the answer. */
  detail: string;
  /** How long the fault holds before it is healed. */
  holdMs: number;
  /** The pause after the heal, before the next fault. */
  gapMs: number;
  toxic?: Toxic;
  answer?: Partial<SimulatorBehaviour>;
}

/** The simulator's normal answer, which every answer fault returns to. */
export const NORMAL_ANSWER: Partial<SimulatorBehaviour> = {
  fault: 'none',
  fault_count: null,
  run_result: 'success',
  reject_live: false,
  latency_ms: 300,
  mode: 'sync',
};

/** Answer faults that apply to the next few run requests (the answer table's broken answers). */
const COUNTED_FAULTS: SimulatorFault[] = [
  'http500',
  'http422',
  'html502',
  'html504',
  'html504_after_run',
  'invalid_json',
  'wrong_shape',
  'unknown_status',
  'cut_off',
  'hang',
  'slow_drip',
];

const WEIGHTS: Array<[FaultKind, number]> = [
  ['kill', 26],
  ['stall', 14],
  ['postgres', 6],
  ['link', 26],
  ['answer', 28],
];

/** The fault of step `step` under `seed`: its own generator, so a step's choice does not depend on the others'. */
export function planFault(seed: number, step: number): PlannedFault {
  const rand = mulberry32((seed * 1_000_003 + step * 7_919) >>> 0);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const between = (min: number, max: number) => Math.round(min + rand() * (max - min));
  const total = WEIGHTS.reduce((n, [, w]) => n + w, 0);
  let draw = rand() * total;
  const kind = WEIGHTS.find(([, w]) => (draw -= w) < 0)?.[0] ?? 'answer';
  const gapMs = between(500, 3_000);
  switch (kind) {
    case 'kill': {
      const target = pick([...SERVICES, ...SLOTS, 'both', 'both']);
      return { step, kind, target, detail: 'SIGKILL, then a restart', holdMs: between(300, 6_000), gapMs };
    }
    case 'stall': {
      const target = pick([...SERVICES, ...SLOTS]);
      // Mostly short, sometimes long: a GC pause, now and then a frozen VM.
      const holdMs = Math.round(1_000 + rand() ** 2 * 39_000);
      return { step, kind, target, detail: 'SIGSTOP, then SIGCONT', holdMs, gapMs };
    }
    case 'postgres': {
      const mode = pick(['fast', 'immediate'] as const);
      return { step, kind, target: 'postgres', detail: `stop ${mode}, then start`, holdMs: between(500, 8_000), gapMs };
    }
    case 'link': {
      const target = pick(['app', 'app', 'frontend'] as const);
      const name = `step-${step}`;
      const toxic = pick<Toxic>([
        { name, type: 'latency', stream: 'downstream', attributes: { latency: between(300, 5_000), jitter: 200 } },
        { name, type: 'reset_peer', stream: 'downstream', attributes: { timeout: between(50, 3_000) } },
        { name, type: 'limit_data', stream: 'downstream', attributes: { bytes: between(20, 4_000) } },
        { name, type: 'slicer', stream: 'downstream', attributes: { average_size: 8, size_variation: 4, delay: between(20_000, 300_000) } },
        { name, type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } },
      ]);
      const detail = `${toxic.type} ${toxic.stream} ${JSON.stringify(toxic.attributes)}`;
      return { step, kind, target, detail, holdMs: between(1_000, 12_000), gapMs, toxic };
    }
    case 'answer': {
      const answer = pick<Partial<SimulatorBehaviour>>([
        { fault: pick(COUNTED_FAULTS), fault_count: between(1, 3) },
        { fault: pick(COUNTED_FAULTS), fault_count: between(1, 3) },
        { run_result: 'partial_success' },
        { run_result: 'all_errored' },
        { reject_live: true },
        { latency_ms: between(2_000, 9_000) },
        { mode: 'async', latency_ms: between(300, 3_000) },
      ]);
      return { step, kind, target: 'app', detail: JSON.stringify(answer), holdMs: between(1_000, 8_000), gapMs, answer };
    }
  }
}

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid !== undefined) process.kill(pid, sig);
}

/** Waits `ms` or until `abort` (the campaign's end): the nemesis' own clock. */
export function hold(ms: number, abort: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      abort.removeEventListener('abort', done);
      resolve();
    }
    abort.addEventListener('abort', done);
  });
}

/** Makes the fault, holds it, heals it. Resolves once the world is whole again. */
export async function applyFault(world: World, fault: PlannedFault, abort: AbortSignal): Promise<void> {
  const slots: Slot[] =
    fault.target === 'both' ? [...SLOTS] : (SLOTS as readonly string[]).includes(fault.target) ? [fault.target as Slot] : [];
  const service = (SERVICES as readonly string[]).includes(fault.target) ? (fault.target as Service) : null;
  switch (fault.kind) {
    case 'kill':
      if (service) {
        await world.cluster.kill(service);
        await hold(fault.holdMs, abort);
        await world.cluster.start(service);
      } else {
        await Promise.all(slots.map((slot) => world.killWorker(slot)));
        await hold(fault.holdMs, abort);
        await Promise.all(slots.map((slot) => world.startWorker(slot)));
      }
      return;
    case 'stall': {
      const worker = slots[0] ? world.current(slots[0]) : undefined;
      const pid = service ? world.cluster.pid(service) : worker?.pid;
      const stall = { from: Date.now(), to: null as number | null };
      worker?.stalls.push(stall);
      signal(pid, 'SIGSTOP');
      try {
        await hold(fault.holdMs, abort);
      } finally {
        signal(pid, 'SIGCONT');
        stall.to = Date.now();
      }
      return;
    }
    case 'postgres':
      await world.cluster.postgres.stop(fault.detail.includes('immediate') ? 'immediate' : 'fast');
      await hold(fault.holdMs, abort);
      await world.cluster.postgres.start();
      return;
    case 'link':
      if (!fault.toxic) return;
      await world.proxy.addToxic(fault.target, fault.toxic);
      try {
        await hold(fault.holdMs, abort);
      } finally {
        await world.proxy.removeToxic(fault.target, fault.toxic.name);
      }
      return;
    case 'answer':
      world.sim.setBehaviour({ ...NORMAL_ANSWER, ...fault.answer });
      await hold(fault.holdMs, abort);
      world.sim.setBehaviour(NORMAL_ANSWER);
      return;
  }
}
