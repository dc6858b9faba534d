#!/usr/bin/env bash
# probebench beside its peers, in one run, on the same targets, at the same rates,
# repeated and alternating — the generalisation of compare_sched.sh (scheduler vs
# cyclictest and the naive scheduler) and compare_mechanisms.sh (mechanisms vs load
# tools and blackbox_exporter). Installs nothing: it checks what is there, says how to
# install what is missing, and skips the comparisons that need it.
#
# Every HTTP/TCP/gRPC client — probebench, oha, tcpconnect, the Python grpcio client and
# blackbox_exporter — probes the same server: one `probebench targets serve` process
# (one pod at 127.1.0.0, port $TARGET_PORT; HTTP, TCP and gRPC health on that port),
# started here and stopped by PID. probebench's grpc probes cannot name a host (the API
# has no such field), so that run starts its own targets (the same server code). Exec runs
# /bin/true. Loopback only; every command is bounded by a duration and a `timeout`.
#
# Per repetition (REPS, default 3; odd repetitions run probebench first, even ones last):
#   sched  scenarios/scheduler-100k.yaml (100k noop workers, 10k probes/s), hires and
#          naive, cyclictest (-m -q -t1 -i 1000 -h 2000, SCHED_OTHER) running alongside each
#   http   httpGet at $RATE/s      | oha --disable-keepalive -q $RATE | blackbox http_2xx at $RATE/s
#   tcp    tcpSocket at $RATE/s    | tcpconnect 1 thread at $RATE/s   | blackbox tcp_connect
#   grpc   grpc at $RATE/s         | Python grpcio, fresh channel per check, at $RATE/s | blackbox grpc
#   exec   exec /bin/true at $EXEC_RATE/s | execloop (Rust Command spawn+wait, flat out)
# CPU is each client's own (probebench: its summary's user+sys per probe over the measured
# window; peers: /usr/bin/time user+sys per request; blackbox: the exporter's CPU per
# probe from /proc). Then the ratios, as median (min–max) over the repetitions, and
# `probebench compare` of the naive runs (A) against the hires ones (B).
#
# Usage: benches/compare.sh            (env: DUR=10 REPS=3 RATE=1000 EXEC_RATE=500
#                                        CASES="sched http tcp grpc exec" PEERS=/tmp/peers
#                                        OUT=results/baseline/<UTC date>[-N] PB=path/to/probebench)
# Peers: cp -r ../shared/peers /tmp/peers && /tmp/peers/setup.sh   (the kit's own installs)
# Writes $OUT/compare.json, $OUT/compare.md (also printed), $OUT/compare-sched.{txt,json}, the run
# directories in $OUT/runs/, the peers' raw output in $OUT/peers/, logs in $OUT/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
DUR="${DUR:-10}"
REPS="${REPS:-3}"
RATE="${RATE:-1000}"
EXEC_RATE="${EXEC_RATE:-500}"
CASES="${CASES:-sched http tcp grpc exec}"
PEERS="${PEERS:-/tmp/peers}"
# Ports chosen away from the peer kit's defaults (18080–19115) and the scenarios' (8080,
# 9090), so a concurrent run of either does not collide with this one.
TARGET_PORT="${TARGET_PORT:-18480}"
GRPC_POD_PORT="${GRPC_POD_PORT:-19490}"
BB_PORT="${BB_PORT:-19515}"
TARGET_IP=127.1.0.0 # pod 0 of `targets serve` (docs/behaviours.md, pod addresses)
if [[ -z "${OUT:-}" ]]; then
  # One directory per invocation, never reused (a second run the same day gets -2, -3 ...).
  OUT="$ROOT/results/baseline/$(date -u +%Y-%m-%d)"
  n=1; base="$OUT"
  while [[ -e "$OUT" ]]; do n=$((n + 1)); OUT="$base-$n"; done
elif [[ -e "$OUT/compare.json" ]]; then
  echo "$OUT already holds a comparison; choose another OUT" >&2; exit 2
fi
mkdir -p "$OUT/runs" "$OUT/logs" "$OUT/peers" "$OUT/work"
OUT="$(cd "$OUT" && pwd)"
STARTED_AT="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
START_S="$(date +%s)"

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- what is there -------------------------------------------------------------------
declare -A HAVE=()
MISSING=()
need() { # name "how to install" test-command...
  local name="$1" how="$2"; shift 2
  if "$@" >/dev/null 2>&1; then HAVE[$name]=1; else MISSING+=("$name: $how"); fi
}
KIT_HINT="cp -r ../shared/peers $PEERS && $PEERS/setup.sh"
need kit "the peer kit ($KIT_HINT)" test -f "$PEERS/lib.sh"
need python3 "apt-get install python3" command -v python3
need time "/usr/bin/time: apt-get install time" test -x /usr/bin/time
need timeout "coreutils" command -v timeout
need cyclictest "apt-get install rt-tests (Debian), or $PEERS/setup.sh" command -v cyclictest
need oha "cargo install oha --locked, or $PEERS/setup.sh (into $PEERS/.tools/cargo/bin)" \
  bash -c "command -v oha || test -x '$PEERS/.tools/cargo/bin/oha'"
need blackbox "apt-get install prometheus-blackbox-exporter (Debian), or $PEERS/setup.sh" \
  command -v prometheus-blackbox-exporter
need grpcio "python3 -m venv $PEERS/.tools/venv && $PEERS/.tools/venv/bin/pip install grpcio grpcio-health-checking, or $PEERS/setup.sh" \
  "$PEERS/.tools/venv/bin/python" -c 'import grpc, grpc_health'
need tcpconnect "(cd $PEERS/tcpconnect && cargo build --release), or $PEERS/setup.sh" \
  test -x "$PEERS/tcpconnect/target/release/tcpconnect"
need execloop "(cd $PEERS/tcpconnect && cargo build --release), or $PEERS/setup.sh" \
  test -x "$PEERS/tcpconnect/target/release/execloop"
printf '%s\n' "${MISSING[@]}" > "$OUT/work/missing.txt"
if ((${#MISSING[@]})); then
  say "missing (the comparisons that need them are skipped):"
  for m in "${MISSING[@]}"; do say "  - $m"; done
fi
for t in python3 time timeout; do
  [[ -n "${HAVE[$t]:-}" ]] || { say "cannot run without $t"; exit 2; }
done
has() { [[ -n "${HAVE[$1]:-}" ]]; }
# Peers are driven through the kit's run_load (client CPU from /usr/bin/time, target CPU
# from /proc, the machine's busy cores): without the kit only probebench runs.
peer_ok() { has kit && for t in "$@"; do has "$t" || return 1; done; }

# ---- probebench ----------------------------------------------------------------------
if [[ -z "${PB:-}" ]]; then
  flock /tmp/cargo.lock cargo build --release -q
  # A private copy: a build of another branch into a shared target directory must not
  # swap the binary between two runs of this script.
  PB_DIR="$(mktemp -d /tmp/probebench-compare-bin.XXXXXX)"
  cp "${CARGO_TARGET_DIR:-$ROOT/target}/release/probebench" "$PB_DIR/probebench"
  PB="$PB_DIR/probebench"
fi
[[ -x "$PB" ]] || { say "no probebench binary at $PB"; exit 2; }
EXEC_FLAG=()
# Some builds refuse exec probes without --allow-exec (they run commands): pass it when known.
"$PB" run --help 2>/dev/null | grep -q -- '--allow-exec' && EXEC_FLAG=(--allow-exec)

if has kit; then
  export RESULTS_DIR="$OUT/peers" RUN_ID="compare"
  # shellcheck source=/dev/null
  source "$PEERS/lib.sh"
else
  cpu_ticks() { echo 0; }
  stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
fi

# ---- the shared target and blackbox_exporter ----------------------------------------
SERVE_PID=""; BB_PID=""
cleanup() {
  [[ -n "$BB_PID" ]] && stop_pid "$BB_PID"
  [[ -n "$SERVE_PID" ]] && stop_pid "$SERVE_PID"
  BB_PID=""; SERVE_PID=""
}
remove_bin() { [[ -n "${PB_DIR:-}" ]] && rm -rf "$PB_DIR"; cleanup; }
trap remove_bin EXIT
trap 'exit 130' INT TERM

W="$OUT/work"
cat > "$W/shared-target.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: shared-target}
spec:
  containers:
  - name: app
    image: probebench/target
    ports: [{containerPort: $TARGET_PORT}]
EOF
"$PB" targets serve --pods "$W/shared-target.yaml" > "$W/serve.out" 2> "$W/serve.err" &
SERVE_PID=$!
for _ in $(seq 1 100); do grep -q '^# ready' "$W/serve.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^# ready' "$W/serve.out" || { say "targets serve did not get ready:"; cat "$W/serve.err" >&2; exit 2; }
grep -q "^shared-target $TARGET_IP\$" "$W/serve.out" || { say "unexpected pod address:"; cat "$W/serve.out" >&2; exit 2; }
say "shared target: probebench targets serve (pid $SERVE_PID) at $TARGET_IP:$TARGET_PORT"
serve_ticks() { cpu_ticks "$SERVE_PID"; }
serve_rss() { rss_kb "$SERVE_PID"; }

if has blackbox; then
  cat > "$W/blackbox.yml" <<EOF
modules:
  http_2xx: {prober: http, timeout: 5s, http: {preferred_ip_protocol: ip4, ip_protocol_fallback: false, valid_status_codes: [200]}}
  tcp_connect: {prober: tcp, timeout: 5s, tcp: {preferred_ip_protocol: ip4, ip_protocol_fallback: false}}
  grpc: {prober: grpc, timeout: 5s, grpc: {preferred_ip_protocol: ip4, ip_protocol_fallback: false, tls: false}}
EOF
  prometheus-blackbox-exporter --config.file="$W/blackbox.yml" --web.listen-address="127.0.0.1:$BB_PORT" \
    --log.level=warn > "$W/blackbox.out" 2>&1 &
  BB_PID=$!
  sleep 1
  kill -0 "$BB_PID" 2>/dev/null || { say "blackbox_exporter did not start:"; cat "$W/blackbox.out" >&2; unset 'HAVE[blackbox]'; BB_PID=""; }
fi
bb_ticks() { cpu_ticks "$BB_PID"; }
bb_rss() { rss_kb "$BB_PID"; }
declare -A BB_URL=(
  [http]="http://127.0.0.1:$BB_PORT/probe?module=http_2xx&target=http://$TARGET_IP:$TARGET_PORT/"
  [tcp]="http://127.0.0.1:$BB_PORT/probe?module=tcp_connect&target=$TARGET_IP:$TARGET_PORT"
  [grpc]="http://127.0.0.1:$BB_PORT/probe?module=grpc&target=$TARGET_IP:$TARGET_PORT"
)

# The kit's gRPC client dials 127.0.0.1; this copy dials the shared target instead.
GRPC_CLIENT="$W/health_client.py"
if peer_ok grpcio; then
  sed "s/target = f\"127.0.0.1:{a.port}\"/target = f\"$TARGET_IP:{a.port}\"/" "$PEERS/grpc/health_client.py" > "$GRPC_CLIENT"
  grep -q "$TARGET_IP" "$GRPC_CLIENT" || { say "could not point the gRPC client at the target; skipping it"; unset 'HAVE[grpcio]'; }
fi

# ---- probebench runs -----------------------------------------------------------------
scenario() { # case rate probe-yaml-flow
  local name="cmp-$1" rate="$2" probe="$3"
  cat > "$W/$name.yaml" <<EOF
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
        image: probebench/target
        ports: [{containerPort: $GRPC_POD_PORT}]
        livenessProbe: {$probe, periodSeconds: 1, timeoutSeconds: 1}
EOF
  echo "$W/$name.yaml"
}

pb_run() { # label scenario [args...]: one run, its directory under runs/, the shared target's CPU beside it
  local label="$1" scen="$2"; shift 2
  local t0 t1 s0 s1
  t0="$(serve_ticks)"; s0="$(date +%s.%N)"
  say "probebench $label"
  timeout -k 10 "$((DUR + 180))" "$PB" run "$scen" --for "${DUR}s" --out "$OUT/runs" -o json "$@" \
    > "$OUT/logs/$label.json" 2> "$OUT/logs/$label.err" || say "  probebench $label exited $?"
  t1="$(serve_ticks)"; s1="$(date +%s.%N)"
  printf '{"label":"%s","shared_target_ticks":%s,"wall_s":%s}\n' "$label" "$((t1 - t0))" \
    "$(awk -v a="$s0" -v b="$s1" 'BEGIN{printf "%.2f", b-a}')" >> "$OUT/logs/probebench.jsonl"
}

pb_sched() { # rep scheduler
  local label="rep$1-sched-$2"
  local cpid=""
  if has cyclictest; then
    cyclictest -m -q -t1 -i 1000 -D "$((DUR + 10))" -h 2000 > "$OUT/logs/$label.cyclictest.txt" 2>&1 &
    cpid=$!
  fi
  pb_run "$label" scenarios/scheduler-100k.yaml --scheduler "$2"
  [[ -n "$cpid" ]] && { wait "$cpid" || true; }
}

# ---- peers (through the kit's run_load: one JSON line each in peers/results.jsonl) ----
peer() { # rep bench parser rate target-ticks target-rss -- cmd...
  local rep="$1" bench="$2" parser="$3" rate="$4" tfn="$5" rfn="$6"; shift 7
  say "$bench (rep $rep)"
  run_load "$bench" "rep$rep" "$rate" "$tfn" "$rfn" "$parser" -- timeout -k 5 "$((DUR + 60))" "$@" >> "$OUT/logs/peers-table.txt"
}
OHA_BIN() { command -v oha || echo "$PEERS/.tools/cargo/bin/oha"; }
blackbox() { # rep case
  peer_ok blackbox oha || return 0
  EXTRA_TICKS_FN=serve_ticks EXTRA_LABEL=shared-target \
    peer "$1" "blackbox-$2" oha "$RATE" bb_ticks bb_rss -- \
    "$(OHA_BIN)" --no-tui --output-format json -c 10 -z "${DUR}s" -q "$RATE" --latency-correction "${BB_URL[$2]}"
}
alternate() { # rep fn... : in order on odd repetitions, reversed on even ones
  local rep="$1"; shift
  local fns=("$@") i
  if ((rep % 2)); then for ((i = 0; i < ${#fns[@]}; i++)); do ${fns[$i]} "$rep"; done
  else for ((i = ${#fns[@]} - 1; i >= 0; i--)); do ${fns[$i]} "$rep"; done; fi
}

HTTP_SCEN="$(scenario http "$RATE" "httpGet: {host: $TARGET_IP, port: $TARGET_PORT, path: /}")"
TCP_SCEN="$(scenario tcp "$RATE" "tcpSocket: {host: $TARGET_IP, port: $TARGET_PORT}")"
GRPC_SCEN="$(scenario grpc "$RATE" "grpc: {port: $GRPC_POD_PORT}")"
EXEC_SCEN="$(scenario exec "$EXEC_RATE" "exec: {command: [/bin/true]}")"

sched_hires() { pb_sched "$1" hires; }
sched_naive() { pb_sched "$1" naive; }
http_pb() { pb_run "rep$1-http" "$HTTP_SCEN"; }
http_oha() {
  peer_ok oha || return 0
  peer "$1" oha oha "$RATE" serve_ticks serve_rss -- \
    "$(OHA_BIN)" --no-tui --output-format json --disable-keepalive -c 50 -z "${DUR}s" -q "$RATE" --latency-correction \
    "http://$TARGET_IP:$TARGET_PORT/"
}
http_bb() { blackbox "$1" http; }
tcp_pb() { pb_run "rep$1-tcp" "$TCP_SCEN"; }
tcp_loop() {
  peer_ok tcpconnect || return 0
  peer "$1" tcpconnect json "$RATE" serve_ticks serve_rss -- "$PEERS/tcpconnect/target/release/tcpconnect" \
    --addr "$TARGET_IP:$TARGET_PORT" --duration "$DUR" --rate "$RATE" --threads 1 --max 2000000
}
tcp_bb() { blackbox "$1" tcp; }
grpc_pb() { pb_run "rep$1-grpc" "$GRPC_SCEN"; }
grpc_py() {
  peer_ok grpcio || return 0
  peer "$1" grpc-fresh json "$RATE" serve_ticks serve_rss -- "$PEERS/.tools/venv/bin/python" "$GRPC_CLIENT" \
    --mode fresh --rate "$RATE" --concurrency 8 --duration "$DUR" --port "$TARGET_PORT"
}
grpc_bb() { blackbox "$1" grpc; }
exec_pb() { pb_run "rep$1-exec" "$EXEC_SCEN" "${EXEC_FLAG[@]}"; }
zero() { echo 0; }
exec_loop() {
  peer_ok execloop || return 0
  peer "$1" execloop json max zero zero -- "$PEERS/tcpconnect/target/release/execloop" \
    --cmd /bin/true --duration "$DUR" --max 200000
}

for rep in $(seq 1 "$REPS"); do
  say "=== repetition $rep of $REPS"
  for c in $CASES; do
    case "$c" in
      sched) alternate "$rep" sched_hires sched_naive ;;
      http) alternate "$rep" http_pb http_oha http_bb ;;
      tcp) alternate "$rep" tcp_pb tcp_loop tcp_bb ;;
      grpc) alternate "$rep" grpc_pb grpc_py grpc_bb ;;
      exec) alternate "$rep" exec_pb exec_loop ;;
      *) say "unknown case $c" ;;
    esac
  done
done
cleanup

# ---- probebench compare: the hires runs (B) against the naive ones (A) ------------------
run_dir() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results_dir"] or "")' "$1" 2>/dev/null || true; }
HIRES=(); NAIVE=()
for rep in $(seq 1 "$REPS"); do
  for s in hires naive; do
    f="$OUT/logs/rep$rep-sched-$s.json"
    [[ -s "$f" ]] || continue
    d="$(run_dir "$f")"
    [[ -n "$d" && -d "$d" ]] || continue
    if [[ $s == hires ]]; then HIRES+=("$d"); else NAIVE+=("$d"); fi
  done
done
if ((${#HIRES[@]} && ${#NAIVE[@]})); then
  "$PB" compare -a "${NAIVE[@]}" -b "${HIRES[@]}" > "$OUT/compare-sched.txt" || true
  "$PB" compare -a "${NAIVE[@]}" -b "${HIRES[@]}" -o json > "$OUT/compare-sched.json" || true
fi

# ---- the table -----------------------------------------------------------------------
ELAPSED=$(( $(date +%s) - START_S ))
python3 - "$OUT" "$REPS" "$RATE" "$EXEC_RATE" "$DUR" "$STARTED_AT" "$ELAPSED" "$PEERS" <<'PY'
import json, os, statistics, subprocess, sys
out, reps, rate, exec_rate, dur, started, elapsed, peers = sys.argv[1:9]
reps, rate, exec_rate, dur, elapsed = int(reps), int(rate), int(exec_rate), int(dur), int(elapsed)

def load(path):
    try:
        return json.load(open(path))
    except Exception:
        return None

def phase(label):
    d = load(os.path.join(out, "logs", label + ".json"))
    return d["phases"][0] if d and d.get("phases") else None

peer_rows = []
pr = os.path.join(out, "peers", "results.jsonl")
if os.path.exists(pr):
    peer_rows = [json.loads(l) for l in open(pr) if l.strip()]
def peer(bench, rep):
    rows = [p for p in peer_rows if p.get("bench") == bench and p.get("target") == f"rep{rep}"]
    return rows[-1] if rows else None

def cyclic(rep, sched):
    f = os.path.join(out, "logs", f"rep{rep}-sched-{sched}.cyclictest.txt")
    if not os.path.exists(f):
        return None
    try:
        return json.loads(subprocess.run(["python3", os.path.join(peers, "cyclic_parse.py"), f],
                                         capture_output=True, text=True, check=True).stdout)
    except Exception:
        return None

def num(x):
    return x if isinstance(x, (int, float)) and x == x else None

def pb_cpu(p, children=False):
    if not p: return None
    return p["overhead"]["cpu_us_per_probe_with_children" if children else "cpu_us_per_probe"]

# Each comparison: (key, title, probebench figure per rep, peer figure per rep, unit, goal)
comparisons = []
def add(key, title, unit, goal, pb_fn, peer_fn, pb_label, peer_label):
    per = []
    for r in range(1, reps + 1):
        a, b = num(pb_fn(r)), num(peer_fn(r))
        per.append({"rep": r, "probebench": a, "peer": b, "ratio": (a / b) if a is not None and b else None})
    comparisons.append(dict(key=key, title=title, unit=unit, goal=goal, probebench=pb_label, peer=peer_label, reps=per))

lag99 = lambda p: p["total"]["dispatch_lag"]["p99_us"] if p else None
add("lag_p99_vs_cyclictest", "dispatch lag p99, hires 100k workers ÷ cyclictest p99 alongside", "µs", "≤ 2 (stretch ≤ 1)",
    lambda r: lag99(phase(f"rep{r}-sched-hires")), lambda r: (cyclic(r, "hires") or {}).get("p99_us"),
    "hires, scheduler-100k", "cyclictest -i 1000, same seconds")
add("naive_lag_p99_vs_cyclictest", "dispatch lag p99, naive 100k workers ÷ cyclictest p99 alongside", "µs", "–",
    lambda r: lag99(phase(f"rep{r}-sched-naive")), lambda r: (cyclic(r, "naive") or {}).get("p99_us"),
    "naive, scheduler-100k", "cyclictest -i 1000, same seconds")
add("hires_vs_naive_lag_p99", "dispatch lag p99, hires ÷ naive scheduler", "µs", "< 1",
    lambda r: lag99(phase(f"rep{r}-sched-hires")), lambda r: lag99(phase(f"rep{r}-sched-naive")), "hires", "naive")
add("hires_vs_naive_cpu", "CPU per probe, hires ÷ naive scheduler", "µs/probe", "–",
    lambda r: pb_cpu(phase(f"rep{r}-sched-hires")), lambda r: pb_cpu(phase(f"rep{r}-sched-naive")), "hires", "naive")
add("hires_vs_naive_memory", "memory per worker (RSS), hires ÷ naive scheduler", "B/worker", "hires ≤ 256 B",
    lambda r: (phase(f"rep{r}-sched-hires") or {}).get("overhead", {}).get("rss_bytes_per_worker"),
    lambda r: (phase(f"rep{r}-sched-naive") or {}).get("overhead", {}).get("rss_bytes_per_worker"), "hires", "naive")
cli = lambda bench: (lambda r: (peer(bench, r) or {}).get("client_cpu_us_per_req"))
exporter = lambda bench: (lambda r: (peer(bench, r) or {}).get("target_cpu_us_per_req"))
add("http_vs_oha", f"httpGet CPU per probe ÷ oha CPU per request, {rate}/s", "µs", "≤ 0.5",
    lambda r: pb_cpu(phase(f"rep{r}-http")), cli("oha"), "httpGet", "oha --disable-keepalive -q")
add("tcp_vs_loop", f"tcpSocket CPU per probe ÷ tcpconnect (1 thread) per connect, {rate}/s", "µs", "probebench ≤ 30 µs",
    lambda r: pb_cpu(phase(f"rep{r}-tcp")), cli("tcpconnect"), "tcpSocket", "tcpconnect")
add("grpc_vs_loop", f"grpc CPU per probe ÷ Python grpcio fresh channel per check, {rate}/s", "µs", "probebench ≤ 150 µs",
    lambda r: pb_cpu(phase(f"rep{r}-grpc")), cli("grpc-fresh"), "grpc", "grpcio fresh channel")
add("exec_vs_loop", f"exec CPU per probe (with children), {exec_rate}/s ÷ execloop per exec (flat out)", "µs", "≤ 1.1",
    lambda r: pb_cpu(phase(f"rep{r}-exec"), children=True), cli("execloop"), "exec /bin/true", "Rust Command loop")
for mech, module in (("http", "http_2xx"), ("tcp", "tcp_connect"), ("grpc", "grpc")):
    add(f"{mech}_vs_blackbox", f"{mech} CPU per probe ÷ blackbox_exporter {module} per probe, {rate}/s", "µs", "≤ 0.1",
        lambda r, m=mech: pb_cpu(phase(f"rep{r}-{m}")), exporter(f"blackbox-{mech}"), mech, f"blackbox {module} (exporter CPU)")

def stats(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}
for c in comparisons:
    for k in ("probebench", "peer", "ratio"):
        c[k + "_stats"] = stats([r[k] for r in c["reps"]])

# Sanity per probebench run: failures, rate, noise.
runs = []
for f in sorted(os.listdir(os.path.join(out, "logs"))):
    if f.endswith(".json") and f.startswith("rep"):
        d = load(os.path.join(out, "logs", f))
        if not d or not d.get("phases"):
            runs.append({"label": f[:-5], "failed": True}); continue
        p = d["phases"][0]; t = p["total"]
        runs.append({"label": f[:-5], "run_dir": os.path.relpath(d.get("results_dir") or "", out) if d.get("results_dir") else None,
                     "scheduler": d["scheduler"], "rate_per_s": t["rate_per_s"], "probes": t["counters"]["probes"],
                     "failure": t["counters"]["failure"], "errored": t["counters"]["errored"],
                     "lag_p99_us": t["dispatch_lag"]["p99_us"], "cpu_us_per_probe": p["overhead"]["cpu_us_per_probe"],
                     "other_busy_cores": p["overhead"]["noise"]["other_busy_cores"]})
peer_summary = [{k: p.get(k) for k in ("bench", "target", "rate", "requests", "errors", "rps", "client_cpu_us_per_req",
                 "target_cpu_us_per_req", "extra_cpu_us_per_req", "other_busy_cores", "lat_ms_p99")} for p in peer_rows]
meta = {"schema": "probebench.peer-compare/v1", "started_at": started, "elapsed_s": elapsed, "reps": reps,
        "duration_s": dur, "rate_per_s": rate, "exec_rate_per_s": exec_rate,
        "missing": [m for m in open(os.path.join(out, "work", "missing.txt")).read().splitlines() if m],
        "comparisons": comparisons, "probebench_runs": runs, "peer_runs": peer_summary}
json.dump(meta, open(os.path.join(out, "compare.json"), "w"), indent=1)

def f(x, unit=""):
    if x is None: return "n/a"
    if abs(x) >= 100: return f"{x:.0f}"
    if abs(x) >= 10: return f"{x:.1f}"
    return f"{x:.2f}"
def cell(s):
    return "n/a" if not s else f"{f(s['median'])} ({f(s['min'])}–{f(s['max'])})"
lines = [f"# probebench beside its peers — {started}", "",
         f"`benches/compare.sh`: {reps} repetitions, alternating order, {dur} s measured per run; "
         f"every HTTP/TCP/gRPC client probes one `probebench targets serve` process; took {elapsed // 60} min {elapsed % 60} s.",
         "Values: median (min–max) over the repetitions; ratio = probebench ÷ peer, per repetition, then its median.", "",
         "| comparison | unit | probebench | peer | ratio | goal |", "|---|---|---|---|---|---|"]
for c in comparisons:
    lines.append(f"| {c['title']} | {c['unit']} | {cell(c['probebench_stats'])} | {cell(c['peer_stats'])} | "
                 f"**{cell(c['ratio_stats'])}** | {c['goal']} |")
lines += ["", "probebench runs (failures, errored, other tenants' busy cores while each ran):", "",
          "| run | scheduler | probes/s | failure | errored | lag p99 µs | CPU µs/probe (children excluded) | other busy cores |", "|---|---|---|---|---|---|---|---|"]
for r in runs:
    if r.get("failed"):
        lines.append(f"| {r['label']} | failed | | | | | | |"); continue
    lines.append(f"| {r['label']} | {r['scheduler']} | {r['rate_per_s']:.0f} | {r['failure']} | {r['errored']} | "
                 f"{r['lag_p99_us']:.0f} | {r['cpu_us_per_probe']:.1f} | {r['other_busy_cores']:.2f} |")
if meta["missing"]:
    lines += ["", "Skipped (missing): " + "; ".join(meta["missing"])]
sched = os.path.join(out, "compare-sched.txt")
if os.path.exists(sched):
    lines += ["", "`probebench compare -a <naive runs> -b <hires runs>` (compare-sched.txt; B/A = hires ÷ naive):", "", "```text",
              open(sched).read().rstrip(), "```"]
open(os.path.join(out, "compare.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
say "done in $((ELAPSED / 60)) min $((ELAPSED % 60)) s: $OUT/compare.md, $OUT/compare.json"
