// The bench worker's workflow bundle: our loop, unchanged, beside the two reference loops.
export { MtfPingPongWorkflow } from '../../src/workflows/mtf-ping-pong';
export { BenchControlWorkflow } from './control';
export { BenchSeedShapedWorkflow } from './seed-shaped';
export { BenchScheduledRunWorkflow } from './scheduled-run';
