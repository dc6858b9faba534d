"""gRPC health Check load client (grpcio, asyncio), loopback only.

Usage: python health_client.py --mode reuse|fresh [--rate R] [--concurrency C]
                               [--duration S] [--max N] [--port P]
  reuse: one channel (HTTP/2 connection) shared by all checks.
  fresh: a new channel (new TCP + HTTP/2 handshake) per check, then close,
         as the kubelet's grpc probe does.
  --rate 0 = as fast as possible with C concurrent loops; otherwise each of the
  C loops fires on an absolute schedule of period C/R seconds.
Prints one JSON line: ok, errors, rate, latency percentiles (us), lateness.
"""
import argparse
import asyncio
import json
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ap = argparse.ArgumentParser()
ap.add_argument("--mode", default="reuse", choices=["reuse", "fresh"])
ap.add_argument("--rate", type=float, default=0.0)
ap.add_argument("--concurrency", type=int, default=8)
ap.add_argument("--duration", type=float, default=10.0)
ap.add_argument("--max", type=int, default=1_000_000)
ap.add_argument("--port", type=int, default=18083)
a = ap.parse_args()
target = f"127.1.0.0:{a.port}"
REQ = health_pb2.HealthCheckRequest(service="")


def pct(s, p):
    if not s:
        return 0
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


async def main():
    lat, late = [], []
    ok = err = 0
    shared = grpc.aio.insecure_channel(target) if a.mode == "reuse" else None
    if shared is not None:
        await shared.channel_ready()
    start = time.perf_counter()
    deadline = start + a.duration
    per_loop_max = a.max // a.concurrency

    async def loop(idx):
        nonlocal ok, err
        period = a.concurrency / a.rate if a.rate > 0 else 0.0
        nxt = start + period * idx / a.concurrency
        n = 0
        while n < per_loop_max:
            if period:
                now = time.perf_counter()
                if nxt > now:
                    await asyncio.sleep(nxt - now)
                if nxt >= deadline:
                    break
            t0 = time.perf_counter()
            if t0 >= deadline:
                break
            if period:
                late.append((t0 - nxt) * 1e6)
            try:
                if shared is not None:
                    r = await health_pb2_grpc.HealthStub(shared).Check(REQ, timeout=1)
                else:
                    async with grpc.aio.insecure_channel(target) as ch:
                        r = await health_pb2_grpc.HealthStub(ch).Check(REQ, timeout=1)
                if r.status == health_pb2.HealthCheckResponse.SERVING:
                    ok += 1
                else:
                    err += 1
            except grpc.RpcError:
                err += 1
            lat.append((time.perf_counter() - t0) * 1e6)
            n += 1
            if period:
                nxt += period

    await asyncio.gather(*(loop(i) for i in range(a.concurrency)))
    el = time.perf_counter() - start
    if shared is not None:
        await shared.close()
    lat.sort()
    late.sort()
    print(json.dumps({
        "mode": a.mode, "ok": ok, "errors": err, "elapsed_s": round(el, 3),
        "rate_per_s": round(ok / el, 1), "target_rate": a.rate,
        "concurrency": a.concurrency,
        "lat_us_p50": round(pct(lat, 50)), "lat_us_p99": round(pct(lat, 99)),
        "lat_us_max": round(lat[-1]) if lat else 0,
        "late_us_p50": round(pct(late, 50)), "late_us_p99": round(pct(late, 99)),
        "late_us_max": round(late[-1]) if late else 0,
    }))


asyncio.run(main())
