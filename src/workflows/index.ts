// The workflow bundle's entry point: every workflow the worker runs.
export { MtfPingPongWorkflow } from './mtf-ping-pong';
export { MtfHealthCheckWorkflow } from './health-check';
