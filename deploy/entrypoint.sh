#!/bin/sh
# Entrypoint of the mtf-ping-pong image (tini runs it; see the Dockerfile).
#
#   (no argument), or `worker [--address A] [--namespace N]`:
#     1. wait until Temporal answers on the namespace, for up to TEMPORAL_WAIT (default 120s):
#        `mtf-ping-pong health --temporal-only`, so a trading app that is down does not keep the
#        worker from starting; Temporal still silent by then: exit 1 (the orchestrator restarts us);
#     2. when START_LOOP=true, start the loop (`mtf-ping-pong start`, with `--config
#        "$MTF_CONFIG_FILE"` when that is set); a loop that is already running is left as it is
#        (exit code 5, e.g. a restart or a second replica), any other failure ends the container;
#        `start` does not wait for a worker: the loop's first task waits in the queue for step 3;
#     3. `exec` the worker: it replaces this shell, so SIGTERM reaches node and its graceful
#        shutdown lets a running MTF call finish.
#   anything else: that mtf-ping-pong command (`status`, `stop`, `simulator --host 0.0.0.0`...).
#
# Env: TEMPORAL_WAIT, START_LOOP (true/false, 1/0, yes/no, on/off: src/lib/env.ts's words), MTF_CONFIG_FILE, and every variable
# the worker and the CLI read (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TASK_QUEUE_NAME, MTF_*...).
set -eu

# ExitCode.AlreadyRunning in src/cli/output.ts.
EXIT_ALREADY_RUNNING=5

log() {
  printf 'entrypoint: %s\n' "$*" >&2
}

if [ "$#" -gt 0 ] && [ "$1" != worker ]; then
  exec mtf-ping-pong "$@"
fi
if [ "$#" -gt 0 ]; then
  shift
fi

start_loop="${START_LOOP:-false}"
case "$(printf '%s' "$start_loop" | tr '[:upper:]' '[:lower:]')" in
  true | 1 | yes | on) start_loop=true ;;
  false | 0 | no | off | '') start_loop=false ;;
  *)
    log "START_LOOP must be true or false (or 1/0, yes/no, on/off), not \"$start_loop\""
    exit 2
    ;;
esac

wait_for="${TEMPORAL_WAIT:-120s}"
log "waiting up to $wait_for for Temporal at ${TEMPORAL_ADDRESS:-localhost:7233} (namespace ${TEMPORAL_NAMESPACE:-default})"
status=0
mtf-ping-pong health --temporal-only --wait "$wait_for" "$@" || status=$?
if [ "$status" -ne 0 ]; then
  log "Temporal did not answer within $wait_for (exit code $status): not starting the worker"
  exit "$status"
fi

if [ "$start_loop" = true ]; then
  status=0
  if [ -n "${MTF_CONFIG_FILE:-}" ]; then
    mtf-ping-pong start --config "$MTF_CONFIG_FILE" "$@" || status=$?
  else
    mtf-ping-pong start "$@" || status=$?
  fi
  if [ "$status" -eq "$EXIT_ALREADY_RUNNING" ]; then
    log "the loop is already running: leaving it as it is"
  elif [ "$status" -ne 0 ]; then
    log "could not start the loop (exit code $status): not starting the worker"
    exit "$status"
  fi
fi

exec mtf-ping-pong worker "$@"
