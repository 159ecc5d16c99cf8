/**
 * What a test (or the `simulator` command) can ask of the simulator, and the defaults: the
 * simulator answers like a healthy app until told otherwise.
 */

export type SimulatorFault =
  | 'none'
  | 'kill_switch_off'
  | 'http500'
  | 'html502'
  | 'html503'
  | 'html504'
  | 'html504_after_run'
  | 'invalid_json'
  | 'wrong_shape'
  | 'oversized'
  | 'hang'
  | 'slow_drip';

export const SIMULATOR_FAULTS: readonly SimulatorFault[] = [
  'none',
  'kill_switch_off',
  'http500',
  'html502',
  'html503',
  'html504',
  'html504_after_run',
  'invalid_json',
  'wrong_shape',
  'oversized',
  'hang',
  'slow_drip',
];

/** The faults `error_rate` picks from, in this order. */
export const RANDOM_FAULTS: readonly SimulatorFault[] = ['http500', 'html502', 'html503', 'html504', 'kill_switch_off'];

export type SimulatorRunResult = 'success' | 'partial_success' | 'error';

export const RUN_RESULTS: readonly SimulatorRunResult[] = ['success', 'partial_success', 'error'];

export interface SimulatorBehaviour {
  /** sync: POST answers 200 when the run has finished; async: POST answers 202 with a run id. */
  mode: 'sync' | 'async';
  /** sync: time before the answer; async: time from acceptance until the run ends. */
  latency_ms: number;
  /** Applied to /api/mtf/run requests. */
  fault: SimulatorFault;
  /** The fault applies to this many run requests, then the server behaves normally; null = always. */
  fault_count: number | null;
  /** 0..1: this fraction of run requests without an explicit fault get a random fault (seeded). */
  error_rate: number;
  /** Seed of the error_rate PRNG; setting it restarts the sequence. */
  seed: number;
  /** How a run ends. */
  run_result: SimulatorRunResult;
  /** async: whether the 202 body carries data.status_url. */
  include_status_url: boolean;
  /** The global kill switch (true = trading allowed). */
  kill_switch_on: boolean;
}

export const DEFAULT_BEHAVIOUR: SimulatorBehaviour = {
  mode: 'sync',
  latency_ms: 0,
  fault: 'none',
  fault_count: null,
  error_rate: 0,
  seed: 1,
  run_result: 'success',
  include_status_url: true,
  kill_switch_on: true,
};

/** Throws on a behaviour the simulator cannot serve, naming the field. */
export function validateBehaviour(b: SimulatorBehaviour): void {
  if (b.mode !== 'sync' && b.mode !== 'async') throw new Error(`invalid mode: ${String(b.mode)}`);
  if (!Number.isFinite(b.latency_ms) || b.latency_ms < 0) throw new Error(`invalid latency_ms: ${b.latency_ms}`);
  if (!SIMULATOR_FAULTS.includes(b.fault)) throw new Error(`invalid fault: ${String(b.fault)}`);
  if (b.fault_count !== null && (!Number.isInteger(b.fault_count) || b.fault_count < 0)) {
    throw new Error(`invalid fault_count: ${b.fault_count}`);
  }
  if (!(b.error_rate >= 0 && b.error_rate <= 1)) throw new Error(`invalid error_rate: ${b.error_rate}`);
  if (!Number.isFinite(b.seed)) throw new Error(`invalid seed: ${b.seed}`);
  if (!RUN_RESULTS.includes(b.run_result)) throw new Error(`invalid run_result: ${String(b.run_result)}`);
}
