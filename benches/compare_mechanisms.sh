#!/usr/bin/env bash
# Goal 3 side by side, in one run: probebench's prober CPU per probe against the peer
# tools at the same rates, all hitting the same loopback servers (nginx from the peer kit),
# which run in their own processes so the prober's figures are its own.
#
#   tcpSocket at 5,000/s   vs tcpconnect (std-only connect+close loop) at 5,000/s
#   httpGet   at 5,000/s   vs oha --disable-keepalive -q 5000
#   exec /bin/true 1,000/s vs execloop (Rust Command spawn-and-wait loop, flat out)
#   httpGet, tcpSocket at 1,000/s vs prometheus blackbox_exporter at 1,000 probes/s
#
# probebench's probes name `host: 127.0.0.1` and nginx's ports, so no sample targets are
# needed (grpc has no host field: it waits for the targets process, see the README).
# Usage: benches/compare_mechanisms.sh [DURATION_S] (default 15). Needs the peer kit set up:
#   cp -r ../shared/peers /tmp/peers && /tmp/peers/setup.sh   (or PEERS=dir)
# Prints a markdown table; raw files go to $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
DUR="${1:-15}"
PEERS="${PEERS:-/tmp/peers}"
OUT="${OUT:-/tmp/probebench-mechanisms-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
[[ -f "$PEERS/lib.sh" ]] || { echo "peer kit not found at $PEERS (cp -r ../shared/peers /tmp/peers && /tmp/peers/setup.sh)" >&2; exit 2; }
flock /tmp/cargo.lock cargo build --release -q
PB="$ROOT/target/release/probebench"

export RESULTS_DIR="$OUT/peers" RUN_ID="compare"
# shellcheck source=/dev/null
source "$PEERS/lib.sh"
# shellcheck source=/dev/null
source "$PEERS/targets.sh"
targets_up nginx blackbox

scenario() { # name rate kind (tcp|http|exec)
  local name="$1" rate="$2" kind="$3" probe
  case "$kind" in
    tcp) probe="tcpSocket: {host: 127.0.0.1, port: $TCP_PORT}" ;;
    http) probe="httpGet: {host: 127.0.0.1, port: $NGINX_PORT, path: /}" ;;
    exec) probe="exec: {command: [/bin/true]}" ;;
  esac
  cat > "$OUT/$name.yaml" <<EOF
kind: Scenario
name: $name
duration: ${DUR}s
warmup: 3s
calibration: 3s
initialPhase: uniform
concurrency: {exec: 32, tcp: 1024, http: 1024, grpc: 256}
pods:
- name: $name
  replicas: $rate
  template:
    spec:
      containers:
      - name: c
        image: x
        livenessProbe: {$probe, periodSeconds: 1, timeoutSeconds: 1}
EOF
}

pb() { # name rate kind
  scenario "$1" "$2" "$3"
  "$PB" run "$OUT/$1.yaml" --no-results -o json > "$OUT/$1.json" 2> "$OUT/$1.err" || log "probebench $1 exited $?"
}

pb tcp-5000 5000 tcp
pb http-5000 5000 http
pb exec-1000 1000 exec
pb tcp-1000 1000 tcp
pb http-1000 1000 http

# References, through the peer kit's own scripts, which start their own nginx and
# blackbox_exporter (so ours must be down: same ports) and measure the exporter's CPU.
targets_down
trap - EXIT
TCP_RATES="5000" TCP_THREADS=1 TCP_DUR="$DUR" bash "$PEERS/bench_tcp.sh" > "$OUT/peer-tcp.txt" 2>&1 || true
OHA_RATES="5000" OHA_DUR="$DUR" HEY_RATES="1000" HEY_DUR=1 WRK_DUR=1 APACHE_RATES="" bash "$PEERS/bench_http.sh" > "$OUT/peer-http.txt" 2>&1 || true
EXEC_DUR=5 EXEC_N=500 bash "$PEERS/bench_exec.sh" > "$OUT/peer-exec.txt" 2>&1 || true
BB_RATES="1000" BB_DUR="$DUR" bash "$PEERS/bench_blackbox.sh" > "$OUT/peer-blackbox.txt" 2>&1 || true

python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
peers = [json.loads(l) for l in open(os.path.join(out, "peers", "results.jsonl")) if l.strip()] if os.path.exists(os.path.join(out, "peers", "results.jsonl")) else []
def peer(bench, rate=None):
    rows = [p for p in peers if p.get("bench") == bench and (rate is None or str(p.get("rate")) == str(rate))]
    return rows[-1] if rows else None
def pbrow(name):
    try:
        d = json.load(open(os.path.join(out, name + ".json")))
    except Exception:
        return None
    return d["phases"][0]
print("| case | probebench CPU µs/probe (with children) | noop floor µs/probe | rate /s | p50 / p99 latency ms | reference | reference CPU µs/op | ratio | goal |")
print("|---|---|---|---|---|---|---|---|---|")
def line(name, ref_label, ref, goal, field="client_cpu_us_per_req"):
    p = pbrow(name)
    if p is None:
        print(f"| {name} | failed | | | | {ref_label} | | | {goal} |"); return
    o = p["overhead"]; t = p["total"]
    cpu = o["cpu_us_per_probe_with_children"]
    floor = p["calibration"]["cpu_us_per_probe"] if p.get("calibration") else float("nan")
    rv = ref.get(field) if ref else None
    ratio = f"{cpu / rv:.2f}" if isinstance(rv, (int, float)) and rv else "n/a"
    print(f"| {name} | {cpu:.1f} | {floor:.1f} | {t['rate_per_s']:.0f} | {t['latency']['p50_us']/1e3:.3f} / {t['latency']['p99_us']/1e3:.3f} | {ref_label} | {rv if rv is not None else 'n/a'} | {ratio} | {goal} |")
line("tcp-5000", "tcpconnect 1 thread @5000", peer("tcpconnect", 5000), "≤ 30 µs")
line("http-5000", "oha --disable-keepalive @5000", peer("oha", 5000), "≤ 0.5× oha")
line("exec-1000", "execloop (Rust Command)", peer("rust-command") or peer("execloop"), "≤ 1.1×", field="client_cpu_us_per_req")
line("http-1000", "blackbox http_2xx @1000 (exporter CPU)", peer("blackbox-http_2xx", 1000), "≥ 10× cheaper (ratio ≤ 0.1)", field="target_cpu_us_per_req")
line("tcp-1000", "blackbox tcp_connect @1000 (exporter CPU)", peer("blackbox-tcp_connect", 1000), "≥ 10× cheaper (ratio ≤ 0.1)", field="target_cpu_us_per_req")
for n in ("tcp-5000", "http-5000", "exec-1000", "tcp-1000", "http-1000"):
    p = pbrow(n)
    if p:
        o = p["overhead"]
        print(f"{n}: by thread kind µs/probe {json.dumps({k: round(v, 2) for k, v in o['cpu_us_per_probe_by_thread_kind'].items()})}, failures {p['total']['counters']['failure']}, errored {p['total']['counters']['errored']}, other busy cores {o['noise']['other_busy_cores']:.2f}, TIME_WAIT {o['time_wait_end']}")
print(f"\nraw: {out}")
PY
