#!/usr/bin/env bash
# Validates the docker-compose deployment files without a Docker engine.
set -uo pipefail

usage() {
  cat <<'EOF'
Usage: ops/compose/check.sh [--help]

Validates the docker-compose deployment without a Docker engine:
  docker-compose.yml              docker-compose -f docker-compose.yml config -q
  haproxy.cfg                     haproxy -c -f haproxy.cfg
  ops/monitoring/prometheus.yml   promtool check config (also checks the rule files it loads)
  ops/monitoring/alerts.yml       promtool check rules, and promtool test rules alerts.test.yml
Checked too when the tool is installed (skipped otherwise):
  ops/monitoring/alertmanager.yml amtool check-config   (apt-get install -y prometheus-alertmanager)
  ops/compose/nats-*.conf         nats-server -t        (apt-get install -y nats-server)
  grafana dashboards (*.json)     parsed with node

Runs every check, prints each result, and exits 1 if any failed or a
required tool is missing (2 on a usage error). Run from anywhere.
EOF
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") ;;
  *) echo "check.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root" || exit 1

failed=0

# need <tool> <debian package>: true if installed, else names the fix.
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "MISSING  $1 is not installed: apt-get install -y $2"
  failed=1
  return 1
}

# check <label> <command...>: runs it, shows its output only on failure.
check() {
  local label="$1" out
  shift
  if out="$("$@" 2>&1)"; then
    echo "ok       $label"
  else
    echo "FAILED   $label"
    printf '%s\n' "$out" | sed 's/^/         /'
    failed=1
  fi
}

skip() { echo "skipped  $1 ($2 not installed)"; }

if need docker-compose docker-compose; then
  check "docker-compose.yml (docker-compose config -q)" docker-compose -f docker-compose.yml config -q
fi

if need haproxy haproxy; then
  # Exits 0 with warnings: the edges resolve only inside the compose network,
  # and "could not resolve" is expected here (init-addr none).
  check "haproxy.cfg (haproxy -c)" haproxy -c -f haproxy.cfg
fi

if need promtool prometheus; then
  check "ops/monitoring/prometheus.yml (promtool check config)" promtool check config ops/monitoring/prometheus.yml
  check "ops/monitoring/alerts.yml (promtool check rules)" promtool check rules ops/monitoring/alerts.yml
  check "ops/monitoring/alerts.test.yml (promtool test rules)" promtool test rules ops/monitoring/alerts.test.yml
fi

if command -v amtool >/dev/null 2>&1; then
  check "ops/monitoring/alertmanager.yml (amtool check-config)" amtool check-config ops/monitoring/alertmanager.yml
else
  skip "ops/monitoring/alertmanager.yml" amtool
fi

if command -v nats-server >/dev/null 2>&1; then
  for conf in ops/compose/nats-[0-9].conf; do
    check "$conf (nats-server -t)" nats-server -t -c "$conf"
  done
else
  skip "ops/compose/nats-*.conf" nats-server
fi

if command -v node >/dev/null 2>&1; then
  for dashboard in ops/monitoring/grafana/dashboards/*.json; do
    check "$dashboard (JSON)" node -e 'JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"))' "$dashboard"
  done
else
  skip "grafana dashboards" node
fi

if [ "$failed" -ne 0 ]; then
  echo "check.sh: some checks failed"
  exit 1
fi
echo "check.sh: all checks passed"
