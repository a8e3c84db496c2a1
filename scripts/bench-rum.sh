#!/usr/bin/env bash
# Beacon throughput of the real sentinel binary against a bare net/http
# handler that reads and discards the body (scripts/benchbare), measured
# with wrk in the same run, alternating between the two so that whatever
# else the machine is doing hits both alike.
#
#   scripts/bench-rum.sh            # 5 rounds of 10 s per side, then latency at half capacity
#
# Environment: ROUNDS (5), SECONDS_PER_RUN (10), THREADS (2), CONNECTIONS (32),
# SENTINEL_PORT (19081), BARE_PORT (19082). Needs go and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${ROUNDS:-5}
secs=${SECONDS_PER_RUN:-10}
threads=${THREADS:-2}
conns=${CONNECTIONS:-32}
sport=${SENTINEL_PORT:-19081}
bport=${BARE_PORT:-19082}

command -v wrk >/dev/null || { echo "bench-rum: wrk is not installed" >&2; exit 2; }
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/sentinel" ./cmd/sentinel
go build -o "$tmp/benchbare" ./scripts/benchbare

# The load comes from one address, so the per-address and per-site beacon
# limits (10/s and 1,000/s by default) are raised out of the way; every
# other check (origin, size, bot filter, decoding, scrubbing) runs as usual.
cat >"$tmp/sentinel.yaml" <<YAML
server: {listen: 127.0.0.1:$sport, external_url: http://127.0.0.1:$sport}
storage: {path: $tmp/sentinel.db}
rum:
  allowed_origins: [https://shop.example.com]
  site: shop
  routes: [/product/:id, /cart, /checkout]
  rate_limit: {per_ip: 1000000000, per_ip_burst: 1000000000, per_site: 1000000000, per_site_burst: 1000000000}
YAML

"$tmp/sentinel" serve -c "$tmp/sentinel.yaml" >"$tmp/sentinel.log" 2>&1 &
pids+=($!)
"$tmp/benchbare" -listen "127.0.0.1:$bport" >"$tmp/bare.log" 2>&1 &
pids+=($!)

ready() {
  for _ in $(seq 200); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.05
  done
  echo "bench-rum: $1 did not come up" >&2
  cat "$tmp/sentinel.log" >&2
  exit 1
}
ready "http://127.0.0.1:$sport/readyz"
ready "http://127.0.0.1:$bport/"

beacon=scripts/bench-rum-beacon.json
body_bytes=$(wc -c <"$beacon")
surl="http://127.0.0.1:$sport/rum/v1/beacons"
burl="http://127.0.0.1:$bport/rum/v1/beacons"

# Make sure the real server accepts the beacon before measuring it.
code=$(curl -s -o "$tmp/answer" -w '%{http_code}' -X POST --data-binary "@$beacon" \
  -H 'Content-Type: text/plain;charset=UTF-8' -H 'Origin: https://shop.example.com' \
  -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36' "$surl")
[ "$code" = 202 ] || { echo "bench-rum: sentinel answered $code: $(cat "$tmp/answer")" >&2; exit 1; }

# cputicks PID prints the process's user + system CPU time in clock ticks.
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
spid=${pids[0]}
bpid=${pids[1]}
hz=$(getconf CLK_TCK)

# run URL SECONDS [PACE_MS] prints "req/s p50_ms p99_ms non2xx
# server_cpu_us_per_request": the server's own CPU time per answered
# request, which other work on the machine disturbs far less than rates.
run() {
  pid=$spid
  [ "$1" = "$burl" ] && pid=$bpid
  before=$(cputicks "$pid")
  out=$(PACE_MS=${3:-} BEACON_FILE="$beacon" wrk -t"$threads" -c"$conns" -d"$2"s --latency -s scripts/bench-rum.lua "$1")
  after=$(cputicks "$pid")
  echo "$out" >>"$tmp/wrk.log"
  echo "$out" | awk -v ticks=$((after - before)) -v hz="$hz" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /requests in/ { n = $1 }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { printf "%.0f %.2f %.2f %d %.1f\n", rps, p50, p99, bad, ticks / hz * 1e6 / n }'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sm), $(go env GOVERSION)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t$threads -c$conns -d${secs}s, beacon of $body_bytes bytes (5 vitals, 1 error, 1 page view), alternating bare and sentinel"
run "$burl" 2 >/dev/null # warm-up
run "$surl" 2 >/dev/null
printf '%-6s %12s %14s %6s %12s %16s %12s %16s\n' round bare_req/s sentinel_req/s ratio bare_p99_ms sentinel_p99_ms bare_cpu_us sentinel_cpu_us
sum_b=0; sum_s=0
for i in $(seq "$rounds"); do
  read -r b_rps _ b_p99 b_bad b_cpu <<<"$(run "$burl" "$secs")"
  read -r s_rps _ s_p99 s_bad s_cpu <<<"$(run "$surl" "$secs")"
  if [ "$b_bad" != 0 ] || [ "$s_bad" != 0 ]; then
    echo "bench-rum: non-2xx answers (bare $b_bad, sentinel $s_bad); see the sentinel log:" >&2
    tail -5 "$tmp/sentinel.log" >&2
    exit 1
  fi
  printf '%-6s %12s %14s %6s %12s %16s %12s %16s\n' "$i" "$b_rps" "$s_rps" "$(awk -v s="$s_rps" -v b="$b_rps" 'BEGIN{printf "%.2f", s/b}')" "$b_p99" "$s_p99" "$b_cpu" "$s_cpu"
  sum_b=$((sum_b + b_rps)); sum_s=$((sum_s + s_rps))
done
ratio=$(awk -v s="$sum_s" -v b="$sum_b" 'BEGIN{printf "%.2f", s/b}')
cap=$((sum_s / rounds))
echo "mean: bare $((sum_b / rounds)) req/s, sentinel $cap req/s, ratio $ratio"

# Latency at half capacity: each connection waits between its requests so
# that all of them together offer about half of sentinel's mean closed-loop
# rate. The wait is calibrated with short runs first (the answer's own time
# and wrk's millisecond timer make the first guess low).
target=$((cap / 2))
pace=$(awk -v c="$conns" -v r="$target" 'BEGIN{printf "%.3f", c * 1000 / r}')
for _ in 1 2 3; do
  read -r got _ _ _ <<<"$(run "$surl" 3 "$pace")"
  pace=$(awk -v p="$pace" -v g="$got" -v t="$target" 'BEGIN{printf "%.3f", p * g / t}')
done
read -r h_rps h_p50 h_p99 h_bad h_cpu <<<"$(run "$surl" "$secs" "$pace")"
echo "half capacity: target $target req/s, achieved $h_rps req/s ($(awk -v a="$h_rps" -v c="$cap" 'BEGIN{printf "%.2f", a/c}') of capacity; each connection waits ${pace} ms between requests); p50 ${h_p50} ms, p99 ${h_p99} ms, non-2xx $h_bad, sentinel CPU ${h_cpu} µs per request"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
