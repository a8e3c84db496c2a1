#!/usr/bin/env bash
# Requests per second of the public status page served by the real sentinel
# binary, against /healthz on the same server as the baseline, measured with
# wrk in the same run and alternating between the two so that whatever else
# the machine is doing hits both alike.
#
#   scripts/bench-status.sh        # 3 rounds of 10 s per path
#
# Environment: ROUNDS (3), SECONDS_PER_RUN (10), THREADS (2), CONNECTIONS (32),
# SENTINEL_PORT (19091). Needs go, curl and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${ROUNDS:-3}
secs=${SECONDS_PER_RUN:-10}
threads=${THREADS:-2}
conns=${CONNECTIONS:-32}
port=${SENTINEL_PORT:-19091}

command -v wrk >/dev/null || { echo "bench-status: wrk is not installed" >&2; exit 2; }
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/sentinel" ./cmd/sentinel

# Three components following two probes (of Sentinel's own /healthz and
# /readyz, so nothing else needs to run) and an SLO. The load comes from
# one address, so the per-address limit is raised out of the way; every
# request still passes through it.
base="http://127.0.0.1:$port"
cat >"$tmp/sentinel.yaml" <<YAML
server: {listen: 127.0.0.1:$port, external_url: $base}
storage: {path: $tmp/sentinel.db}
probes:
  - {name: storefront, interval: 2s, timeout: 1s, labels: {service: storefront},
     steps: [{name: home, request: {method: GET, url: "$base/healthz"}, expect: {status: 200}}]}
  - {name: checkout, interval: 2s, timeout: 1s, labels: {service: checkout},
     steps: [{name: pay, request: {method: GET, url: "$base/readyz"}, expect: {status: 200}}]}
slos:
  - {name: orders, service: checkout, objective: 99, window: 30d, sli: {events: {}}}
status_page:
  enabled: true
  title: Example Shop status
  components:
    - {name: Storefront, description: Browsing and search, probe: storefront}
    - {name: Checkout, description: Cart and payment, service: checkout}
    - {name: Orders API, slo: orders}
  rate_limit: {per_ip: 1000000000, per_ip_burst: 1000000000}
YAML

"$tmp/sentinel" serve -c "$tmp/sentinel.yaml" >"$tmp/sentinel.log" 2>&1 &
pid=$!
for _ in $(seq 200); do
  curl -fs -o /dev/null "$base/readyz" && break
  sleep 0.05
done
# Wait until both probes have run, so the page shows their statuses.
for _ in $(seq 100); do
  grep -q '"status":"operational".*"status":"operational"' <(curl -fs "$base/status/api/v2/components.json") && break
  sleep 0.1
done
page_bytes=$(curl -fs "$base/status" | wc -c)
gzip_bytes=$(curl -fs -H 'Accept-Encoding: gzip' "$base/status" | wc -c)
echo "bench-status: /status is $page_bytes bytes ($gzip_bytes gzipped); sentinel $("$tmp/sentinel" version | head -1)"

# run URL prints "req/s p50_ms p99_ms non2xx".
run() {
  out=$(wrk -t"$threads" -c"$conns" -d"$secs"s --latency "$1")
  echo "$out" >>"$tmp/wrk.log"
  echo "$out" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad + 0 }'
}

echo "| round | /healthz req/s | p50 ms | p99 ms | /status req/s | p50 ms | p99 ms | /status/api/v2/summary.json req/s | non-2xx |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for r in $(seq "$rounds"); do
  read -r h_rps h_p50 h_p99 h_bad < <(run "$base/healthz")
  read -r s_rps s_p50 s_p99 s_bad < <(run "$base/status")
  read -r j_rps _ _ j_bad < <(run "$base/status/api/v2/summary.json")
  echo "| $r | $h_rps | $h_p50 | $h_p99 | $s_rps | $s_p50 | $s_p99 | $j_rps | $((h_bad + s_bad + j_bad)) |"
done
