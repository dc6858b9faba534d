//! Every behaviour of kubelet-semantics.md §4, each a real probe against a real target on
//! loopback (httpGet with both HTTP clients).

#[path = "probe_common/mod.rs"]
mod probe_common;

#[path = "probe_mechanisms/exec.rs"]
mod exec;
#[path = "probe_mechanisms/grpc.rs"]
mod grpc;
#[path = "probe_mechanisms/http.rs"]
mod http;
#[path = "probe_mechanisms/prober.rs"]
mod prober;
#[path = "probe_mechanisms/tcp.rs"]
mod tcp;
