#!/bin/sh
# The namespace the loop runs on, and the loop's five search attributes on it
# (src/shared/search-attributes.ts), with the stock `temporal` CLI once the server answers. The
# server creates only temporal-system; the retention is the temporalio/auto-setup image's. Run by
# the Compose demo's `temporal-setup` service (admin-tools image) and by the cluster tests' harness
# (test/cluster/cluster.ts), so the demo's setup is tested. Safe to run again.
set -eu

: "${TEMPORAL_ADDRESS:?the Temporal frontend, host:port}"
: "${NAMESPACE:=default}"
: "${RETENTION:=24h}"
# Bounds the wait for a server that is starting: 120 tries, one a second.
: "${WAIT_TRIES:=120}"
export TEMPORAL_ADDRESS

# Runs "$@" (its output dropped) until it succeeds, once a second, WAIT_TRIES times at most.
retry() {
  what=$1
  shift
  tries=0
  until "$@" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge "$WAIT_TRIES" ]; then
      echo "namespace.sh: $what after $WAIT_TRIES tries" >&2
      exit 1
    fi
    sleep 1
  done
}

serving() {
  temporal operator cluster health | grep -qw SERVING
}

retry "Temporal at $TEMPORAL_ADDRESS did not answer" serving

if ! temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" --description "MTF ping-pong loops"
fi

# A new namespace reaches every frontend's cache within seconds: until then it is "not found".
retry "namespace $NAMESPACE did not become usable" temporal operator search-attribute list --namespace "$NAMESPACE"

registered=$(temporal operator search-attribute list --namespace "$NAMESPACE")
for spec in MtfLoopState:Keyword MtfLastOutcome:Keyword MtfDryRun:Bool MtfFleet:Keyword MtfGroup:Keyword; do
  name=${spec%%:*}
  type=${spec#*:}
  if ! printf '%s\n' "$registered" | grep -q "^ *$name "; then
    temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type"
  fi
done
echo "namespace.sh: namespace $NAMESPACE has the loop's search attributes"
