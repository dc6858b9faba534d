//! A bounded open-loop loopback load against served pods, measuring the *serving*
//! process's CPU and RSS from /proc (the client's own cost is not counted).
//!
//! cargo run --release -p probebench-targets --example load -- \
//!     --pid PID [--pods 10000] [--port 8080] [--rate 5000] [--duration 30s] \
//!     [--proto http|tcp] [--max-in-flight 1024]
//!
//! Each request is a fresh connection, like a kubelet probe: `GET /healthz` with
//! `Connection: close` (http) or connect-and-close (tcp). Requests are spread over the
//! pods round robin (pod i at its standard address). `--rate 0` only samples the
//! process (idle cost). Bounded: at most rate x duration requests, and at most
//! `--max-in-flight` at once (beyond that a request is skipped and counted).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, Semaphore};

struct ProcSample {
    cpu_ticks: u64,
    rss_kib: u64,
    threads: u64,
}

fn sample(pid: u32) -> Result<ProcSample, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    let fields: Vec<&str> = stat.rsplit_once(')').ok_or("bad stat")?.1.split_whitespace().collect();
    // After the command name: state is field 3; utime 14 and stime 15 (1-based).
    let utime: u64 = fields[11].parse().map_err(|_| "utime")?;
    let stime: u64 = fields[12].parse().map_err(|_| "stime")?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(ProcSample { cpu_ticks: utime + stime, rss_kib: field("VmRSS:"), threads: field("Threads:") })
}

async fn one(addr: SocketAddr, http: bool) -> Result<(), String> {
    let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    if !http {
        return Ok(());
    }
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    s.write_all(
        format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: kube-probe/1.35\r\nAccept: */*\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(256);
    s.read_to_end(&mut buf).await.map_err(|e| e.to_string())?;
    if buf.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!("bad response {:?}", String::from_utf8_lossy(&buf[..buf.len().min(40)])))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let mut pid = None;
    let mut pods = 10_000u32;
    let mut port = 8080u16;
    let mut rate = 5_000u64;
    let mut duration = Duration::from_secs(30);
    let mut http = true;
    let mut max_in_flight = 1024usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--pid" => pid = Some(v.parse::<u32>().map_err(|e| e.to_string())?),
            "--pods" => pods = v.parse().map_err(|e| format!("{e}"))?,
            "--port" => port = v.parse().map_err(|e| format!("{e}"))?,
            "--rate" => rate = v.parse().map_err(|e| format!("{e}"))?,
            "--duration" => duration = humantime::parse_duration(&v).map_err(|e| e.to_string())?,
            "--proto" => http = v == "http",
            "--max-in-flight" => max_in_flight = v.parse().map_err(|e| format!("{e}"))?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let pid = pid.ok_or("--pid of the serving process is required")?;
    // /proc/<pid>/stat counts in USER_HZ, which Linux fixes at 100 for user space.
    let ticks_per_s = 100.0;

    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let skipped = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let sem = Arc::new(Semaphore::new(max_in_flight));
    let first_error = Arc::new(Mutex::new(None::<String>));

    let before = sample(pid)?;
    let t0 = Instant::now();
    let total = rate.saturating_mul(duration.as_secs());
    if rate > 0 {
        // Tick every millisecond and launch what is due by then (open loop: a slow
        // server does not slow the schedule down).
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut sent = 0u64;
        while sent < total {
            tick.tick().await;
            let due = ((t0.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
            while sent < due {
                let i = (sent % u64::from(pods)) as u32;
                sent += 1;
                let Ok(permit) = sem.clone().try_acquire_owned() else {
                    skipped.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let ip = probebench_targets::pod_ip(i).map_err(|e| e.to_string())?;
                let addr = SocketAddr::new(ip.into(), port);
                let (ok, failed, lat, fe) = (ok.clone(), failed.clone(), latencies.clone(), first_error.clone());
                tokio::spawn(async move {
                    let _permit = permit;
                    let start = Instant::now();
                    match tokio::time::timeout(Duration::from_secs(10), one(addr, http)).await {
                        Ok(Ok(())) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                            lat.lock().await.push(start.elapsed());
                        }
                        other => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            let mut fe = fe.lock().await;
                            if fe.is_none() {
                                *fe = Some(format!("{addr}: {other:?}"));
                            }
                        }
                    }
                });
            }
        }
        // Let the last requests finish (bounded).
        let _ = tokio::time::timeout(
            Duration::from_secs(15),
            sem.acquire_many(u32::try_from(max_in_flight).unwrap_or(u32::MAX)),
        )
        .await;
    } else {
        tokio::time::sleep(duration).await;
    }
    let wall = t0.elapsed().as_secs_f64();
    let after = sample(pid)?;

    let cpu_s = (after.cpu_ticks - before.cpu_ticks) as f64 / ticks_per_s;
    let mut lat = latencies.lock().await.clone();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p).ceil() as usize).saturating_sub(1)).map_or(0.0, |d| d.as_secs_f64() * 1e6)
    };
    let done = ok.load(Ordering::Relaxed);
    println!(
        "{{\"proto\":\"{}\",\"target_rate\":{rate},\"wall_s\":{wall:.2},\"ok\":{done},\"failed\":{},\"skipped\":{},\"achieved_rate\":{:.0},\"server_cpu_s\":{cpu_s:.2},\"server_cpu_pct\":{:.1},\"server_cpu_us_per_req\":{:.1},\"server_rss_kib_before\":{},\"server_rss_kib_after\":{},\"server_threads\":{},\"latency_p50_us\":{:.0},\"latency_p99_us\":{:.0},\"latency_max_us\":{:.0}}}",
        if http { "http" } else { "tcp" },
        failed.load(Ordering::Relaxed),
        skipped.load(Ordering::Relaxed),
        done as f64 / wall,
        100.0 * cpu_s / wall,
        if done > 0 { cpu_s * 1e6 / done as f64 } else { 0.0 },
        before.rss_kib,
        after.rss_kib,
        after.threads,
        pct(0.5),
        pct(0.99),
        pct(1.0),
    );
    if let Some(e) = first_error.lock().await.take() {
        eprintln!("first error: {e}");
    }
    Ok(())
}
