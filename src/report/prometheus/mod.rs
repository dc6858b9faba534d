//! Live Prometheus metrics of a run, served at `GET /metrics` while it runs, under the
//! kubelet's metric names so its dashboards work unchanged (docs/metrics.md lists them).
//!
//! - [`Registry`]: register label sets once ([`Registry::register_probe`] per probe worker,
//!   [`Registry::register_series`] per mechanism × probe type), then update by key:
//!   [`Registry::record_probe`] per probe (kubelet families), [`Registry::merge_series`]
//!   with an HDR histogram or [`Registry::observe_series`] per value,
//!   [`Registry::add_results`], [`Registry::add_cpu_seconds`], [`Registry::add_in_flight`],
//!   [`Registry::set_phase`]. Updates are atomic adds under a shared read lock.
//! - [`start`]: the HTTP server on its own thread; [`MetricsServer`] stops it on drop.
//!
//! The kubelet's families carry exactly the kubelet's labels (`prober_probe_total`:
//! probe_type, result, container, pod, namespace, pod_uid; `prober_probe_duration_seconds`:
//! probe_type, container, pod, namespace — pkg/kubelet/prober/prober_manager.go
//! ProberResults/ProberDuration, worker.go newWorker/doProbe), with the kubelet's values
//! (`Liveness`, `successful` ...). The mechanism is not a kubelet label, so it lives in the
//! `probebench_*` families instead of being bolted onto the kubelet's.
//!
//! ```
//! use std::sync::Arc;
//! use probebench::report::prometheus::{ProbeLabels, ProbeResult, Registry, RunInfo, start};
//! use probebench::spec::ProbeType;
//! let registry = Arc::new(Registry::new(RunInfo { scenario: "default".into(), ..RunInfo::default() }));
//! let key = registry.register_probe(ProbeLabels {
//!     probe_type: ProbeType::Liveness, container: "app".into(), pod: "web-0".into(),
//!     namespace: "default".into(), pod_uid: "uid-0".into(),
//! });
//! registry.record_probe(key, ProbeResult::Successful, 1_500_000);
//! let server = start("127.0.0.1:0".parse().unwrap(), Arc::clone(&registry), false).unwrap();
//! println!("metrics at http://{}/metrics", server.local_addr());
//! ```

pub mod histogram;
pub mod registry;
pub mod server;
pub mod text;

pub use histogram::{AtomicHistogram, KUBELET_DURATION_BOUNDS_NS, LAG_BOUNDS_NS};
pub use registry::{ProbeKey, ProbeLabels, ProbeResult, Registry, ResultCounts, RunInfo, SeriesHistogram, SeriesKey};
pub use server::{MetricsError, MetricsServer, start};

#[cfg(test)]
mod tests;
