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
#     3. without MTF_FLEET_FILE, `exec` the worker: it replaces this shell, so SIGTERM reaches node
#        and its graceful shutdown lets a running MTF call finish;
#     4. with MTF_FLEET_FILE, run the worker as this shell's child, wait until its /readyz (on
#        HEALTH_ADDRESS) answers 200, then `mtf-ping-pong apply -f "$MTF_FLEET_FILE"` (with
#        --prune when MTF_FLEET_PRUNE=true, --confirm-live when MTF_FLEET_CONFIRM_LIVE=true):
#        apply reads and updates running loops through a polling worker, so it cannot come before
#        one. Exit code 0: applied; 1 (a loop refused or failed, the others applied): logged, the
#        worker runs on, and the next start applies the file again; any other (2 an invalid file,
#        3 Temporal unreachable...): the worker is stopped gracefully and the container exits with
#        apply's code, as a failed start does. SIGTERM and SIGINT are passed on to the worker (and
#        to apply while it runs); the container exits with the worker's code.
#   anything else: that mtf-ping-pong command (`status`, `stop`, `simulator --host 0.0.0.0`...).
#
# Env: TEMPORAL_WAIT, START_LOOP, MTF_CONFIG_FILE, MTF_FLEET_FILE, MTF_FLEET_PRUNE,
# MTF_FLEET_CONFIRM_LIVE (booleans: true/false, 1/0, yes/no, on/off: src/lib/env.ts's words),
# HEALTH_ADDRESS, and every variable the worker and the CLI read (TEMPORAL_ADDRESS,
# TEMPORAL_NAMESPACE, TASK_QUEUE_NAME, MTF_*...).
set -eu

# ExitCode.AlreadyRunning in src/cli/output.ts.
EXIT_ALREADY_RUNNING=5
# `apply`'s exit code when a loop was refused or failed and the others were applied (ExitCode.Failure).
EXIT_APPLY_PARTIAL=1
# DEFAULT_HEALTH_ADDRESS in src/observability/runtime.ts: where the worker serves /readyz.
DEFAULT_HEALTH_ADDRESS=127.0.0.1:9465

log() {
  printf 'entrypoint: %s\n' "$*" >&2
}

# boolean NAME VALUE: prints true or false; any other word is a usage error (exit 2).
boolean() {
  case "$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]')" in
    true | 1 | yes | on) echo true ;;
    false | 0 | no | off | '') echo false ;;
    *)
      log "$1 must be true or false (or 1/0, yes/no, on/off), not \"$2\""
      exit 2
      ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# With a fleet file: the worker runs as a child of this shell, which passes signals on to it.

worker=''
# apply while it runs: a signal stops it too.
child=''
stopping=false

# The traps of run_fleet call it.
# shellcheck disable=SC2329
stop() {
  stopping=true
  log "$1: stopping the worker"
  if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null || true; fi
  # TERM for SIGINT too: a non-interactive shell starts its background jobs with SIGINT ignored.
  if [ -n "$worker" ]; then kill -TERM "$worker" 2>/dev/null || true; fi
}

# wait_for_exit PID: its exit code, waiting again when a signal cut the wait short.
wait_for_exit() {
  code=0
  wait "$1" || code=$?
  while kill -0 "$1" 2>/dev/null; do
    code=0
    wait "$1" || code=$?
  done
  return "$code"
}

alive() {
  [ "$stopping" = false ] && kill -0 "$worker" 2>/dev/null
}

ready() {
  node -e "fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" "$ready_url"
}

# run_fleet WORKER-OPTIONS...: the worker, apply once it is ready, then the worker until it ends; exits.
run_fleet() {
  trap 'stop SIGTERM' TERM
  trap 'stop SIGINT' INT
  mtf-ping-pong worker "$@" &
  worker=$!

  log "applying $fleet_file once the worker is ready ($ready_url)"
  while alive && ! ready; do
    sleep 1
  done

  outcome=0
  if alive; then
    prune=''
    if [ "$fleet_prune" = true ]; then prune=--prune; fi
    confirm_live=''
    if [ "$fleet_confirm_live" = true ]; then confirm_live=--confirm-live; fi
    mtf-ping-pong apply -f "$fleet_file" ${prune:+"$prune"} ${confirm_live:+"$confirm_live"} "$@" &
    child=$!
    wait_for_exit "$child" || outcome=$?
    child=''
    if [ "$stopping" = true ]; then
      outcome=0
    elif [ "$outcome" -eq 0 ]; then
      log "applied $fleet_file"
    elif [ "$outcome" -eq "$EXIT_APPLY_PARTIAL" ]; then
      log "$fleet_file is applied but for the loops apply named above (exit code $outcome): the worker runs on; the next start applies it again"
      outcome=0
    else
      log "could not apply $fleet_file (exit code $outcome): stopping the worker"
      kill -TERM "$worker" 2>/dev/null || true
    fi
  elif [ "$stopping" = false ]; then
    log "the worker exited before it was ready: $fleet_file not applied"
  fi

  status=0
  wait_for_exit "$worker" || status=$?
  if [ "$outcome" -ne 0 ]; then
    exit "$outcome"
  fi
  exit "$status"
}

if [ "$#" -gt 0 ] && [ "$1" != worker ]; then
  exec mtf-ping-pong "$@"
fi
if [ "$#" -gt 0 ]; then
  shift
fi

start_loop="$(boolean START_LOOP "${START_LOOP:-false}")" || exit "$?"
fleet_file="${MTF_FLEET_FILE:-}"
fleet_prune="$(boolean MTF_FLEET_PRUNE "${MTF_FLEET_PRUNE:-false}")" || exit "$?"
fleet_confirm_live="$(boolean MTF_FLEET_CONFIRM_LIVE "${MTF_FLEET_CONFIRM_LIVE:-false}")" || exit "$?"
if [ -n "$fleet_file" ]; then
  health_address="${HEALTH_ADDRESS:-$DEFAULT_HEALTH_ADDRESS}"
  case "$health_address" in
    off | none)
      log "MTF_FLEET_FILE is applied once the worker's /readyz answers: HEALTH_ADDRESS must not be $health_address"
      exit 2
      ;;
  esac
  # The worker listens on every interface (0.0.0.0, [::]) or on one address: ask it where it listens.
  health_host="${health_address%:*}"
  case "$health_host" in
    '' | 0.0.0.0 | '[::]') health_host=127.0.0.1 ;;
  esac
  ready_url="http://$health_host:${health_address##*:}/readyz"
fi

# The fleet file is judged before anything starts: an invalid one ends the container here, before
# its worker reports ready (a rolling update then keeps the old pods instead of replacing them).
if [ -n "$fleet_file" ]; then
  status=0
  mtf-ping-pong apply -f "$fleet_file" --check || status=$?
  if [ "$status" -ne 0 ]; then
    log "$fleet_file cannot be applied (exit code $status): not starting the worker"
    exit "$status"
  fi
fi

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

if [ -n "$fleet_file" ]; then
  run_fleet "$@"
fi
exec mtf-ping-pong worker "$@"
