#!/bin/sh
# Entrypoint of the Compose demo profile's Alertmanager (docker-compose.yml), run by the image's
# busybox sh. Alertmanager expands no env vars in its config, so this writes one from them, then
# `exec`s Alertmanager on it (extra arguments are passed on):
#
#   MTF_ALERT_SLACK_WEBHOOK_URL        every alert, and its resolution, to this Slack webhook
#   MTF_ALERT_SLACK_CHANNEL            optional: the channel, instead of the webhook's own
#   MTF_ALERT_PAGERDUTY_ROUTING_KEY    severity=critical alerts page PagerDuty (Events API v2);
#                                      warning and info never page
#
# Neither: the alerts show in Alertmanager's UI only (a receiver that sends nothing). Warning and
# info alerts are grouped by alertname and the loop's labels fleet and group (every alert about a
# loop carries them, `none` where it has none): one notification per rule and group, listing its
# loops, as one cause (the exchange or app a group uses) often fails them together. Critical ones
# stay one per rule and loop, on every receiver: each unprotected position is told at once and is
# an incident of its own, never an update to another loop's already sent or acknowledged.
# Outside the container (test/server/alertmanager-entrypoint.test.ts): MTF_ALERTMANAGER_CONFIG (where the config goes),
# MTF_ALERTMANAGER_BIN, MTF_ALERTMANAGER_STORAGE; `--render-only` writes the config and exits.
set -eu

config=${MTF_ALERTMANAGER_CONFIG:-/tmp/alertmanager.yml}
slack_url=${MTF_ALERT_SLACK_WEBHOOK_URL:-}
slack_channel=${MTF_ALERT_SLACK_CHANNEL:-}
pagerduty_key=${MTF_ALERT_PAGERDUTY_ROUTING_KEY:-}

for value in "$slack_url" "$slack_channel" "$pagerduty_key"; do
  case $value in
    *'
'*)
      printf 'alertmanager entrypoint: an MTF_ALERT_* value holds a line break\n' >&2
      exit 2
      ;;
  esac
done

# $1 as a YAML single-quoted scalar: a quote in it doubled.
quoted() {
  printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"
}

render() {
  default=ui-only
  if [ -n "$slack_url" ]; then default=slack; fi
  printf '%s\n' \
    '# Written by deploy/alertmanager/entrypoint.sh from its env vars at start-up.' \
    'route:' \
    "  receiver: $default" \
    '  group_by: [alertname, fleet, group]' \
    '  group_wait: 30s' \
    '  group_interval: 5m' \
    '  repeat_interval: 4h'
  echo '  routes:'
  per_loop='      group_by: [alertname, fleet, group, workflow_id]'
  if [ -n "$pagerduty_key" ]; then
    # Critical alerts page, and go on to the default receiver as well.
    printf '%s\n' \
      '    - receiver: pagerduty' \
      "      matchers: ['severity=\"critical\"']" \
      "$per_loop" \
      '      continue: true'
  fi
  printf '%s\n' \
    "    - receiver: $default" \
    "      matchers: ['severity=\"critical\"']" \
    "$per_loop"
  echo 'receivers:'
  if [ -n "$pagerduty_key" ]; then
    printf '%s\n' \
      '  - name: pagerduty' \
      '    pagerduty_configs:' \
      "      - routing_key: $(quoted "$pagerduty_key")" \
      '        send_resolved: true'
  fi
  if [ -n "$slack_url" ]; then
    printf '%s\n' \
      '  - name: slack' \
      '    slack_configs:' \
      "      - api_url: $(quoted "$slack_url")" \
      '        send_resolved: true' \
      "        title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}{{ with .CommonLabels.group }}{{ if ne . \"none\" }} [{{ . }}]{{ end }}{{ end }} {{ .CommonLabels.workflow_id }}'" \
      "        text: '{{ range .Alerts }}{{ .Annotations.summary }}: {{ .Annotations.description }} {{ end }}'"
    if [ -n "$slack_channel" ]; then echo "        channel: $(quoted "$slack_channel")"; fi
  else
    echo '  - name: ui-only'
  fi
}

# The config holds the secrets: readable by this user only.
umask 077
render > "$config"
if [ "${1:-}" = --render-only ]; then exit 0; fi
exec "${MTF_ALERTMANAGER_BIN:-/bin/alertmanager}" --config.file="$config" --storage.path="${MTF_ALERTMANAGER_STORAGE:-/alertmanager}" "$@"
