//! From loaded manifests to the pods that exist: replicas expanded with the names the
//! controllers give them, a UID and a pod IP each — deterministic for a seed, so the same
//! seed gives the same messages byte for byte (docs/addresses.md).

use std::net::Ipv4Addr;
use std::sync::Arc;

use rand::RngExt;
use rand_pcg::Pcg64Mcg;

use crate::spec;

/// One pod to run.
#[derive(Debug, Clone)]
pub struct PodInstance {
    /// Position in the fleet (scenario order); the pod IP is derived from it.
    pub index: u32,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub ip: Ipv4Addr,
    /// The pod (or pod template) it was made from, shared by all replicas.
    pub template: Arc<spec::Pod>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FleetError {
    #[error("too many pods: {0} (pod addresses run out at {max})", max = targets_max())]
    TooMany(u64),
    #[error("pod {0:?} is defined twice (in namespace {1:?}); pod names must be unique")]
    Duplicate(String, String),
}

fn targets_max() -> u64 {
    u64::from(probebench_targets::max_pods())
}

/// The alphabet of Kubernetes' generated name suffixes (k8s.io/apimachinery rand.String):
/// no vowels, no confusable characters.
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn safe_string(rng: &mut Pcg64Mcg, n: usize) -> String {
    (0..n)
        .map(|_| {
            let i = rng.random_range(0..SAFE_ALPHABET.len());
            char::from(SAFE_ALPHABET[i])
        })
        .collect()
}

/// A UID in the API's form (a random UUID, version 4).
pub fn uid(rng: &mut Pcg64Mcg) -> String {
    let a: u128 = rng.random();
    let b = (a & !(0xF << 76)) | (0x4 << 76);
    let b = (b & !(0x3 << 62)) | (0x2 << 62);
    let h = format!("{b:032x}");
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// The names a workload's controller gives its pods. Generated names that collide are drawn
/// again, as the API server's generateName conflict makes the controller retry.
fn pod_names(pod: &spec::Pod, rng: &mut Pcg64Mcg, taken: &std::collections::HashSet<(String, String)>) -> Vec<String> {
    let base = &pod.name;
    let n = pod.source.replicas as usize;
    let ns = &pod.namespace;
    let mut names: Vec<String> = Vec::with_capacity(n);
    match pod.source.kind.as_str() {
        "Pod" => names.push(base.clone()),
        "StatefulSet" => names.extend((0..n).map(|i| format!("{base}-{i}"))),
        kind => {
            // Deployment → ReplicaSet `<name>-<pod-template-hash>`; CronJob → Job
            // `<name>-<scheduled minute>`; then pods `<owner>-<5 characters>`.
            let prefix = match kind {
                "Deployment" => format!("{base}-{}", safe_string(rng, 10)),
                "CronJob" => format!("{base}-{}", rng.random_range(29_000_000..29_999_999u32)),
                _ => base.clone(),
            };
            let mut seen = std::collections::HashSet::with_capacity(n);
            while names.len() < n {
                let name = format!("{prefix}-{}", safe_string(rng, 5));
                if !taken.contains(&(ns.clone(), name.clone())) && seen.insert(name.clone()) {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// The annotation that carries a pod's behaviour inline (docs/behaviours.md).
pub const BEHAVIOUR_ANNOTATION: &str = "probebench.dev/behaviour";

/// A container's behaviour: the behaviour file's first matching rule, else the pod's
/// annotation, else the file's default. The simulator and the targets both ask here, so a
/// pod acts the same on both clocks.
pub fn behaviour_for(
    file: &probebench_targets::BehaviourFile,
    pod: &PodInstance,
    container: &str,
) -> probebench_targets::Behaviour {
    if let Some(b) = file.rule_for(&pod.name, container) {
        return b.clone();
    }
    pod.template
        .annotations
        .get(BEHAVIOUR_ANNOTATION)
        .and_then(|text| probebench_targets::parse_behaviour(text).ok())
        .unwrap_or_else(|| file.default.clone())
}

/// A container's behaviour seed: the file's per-container seed mixed with the run's seed.
pub fn behaviour_seed(file: &probebench_targets::BehaviourFile, run_seed: u64, pod: &str, container: &str) -> u64 {
    file.seed_for(pod, container) ^ run_seed
}

/// Expand every loaded pod into its replicas, in file order.
pub fn expand(pods: &[spec::Pod], seed: u64) -> Result<Vec<PodInstance>, FleetError> {
    let total: u64 = pods.iter().map(|p| u64::from(p.source.replicas)).sum();
    if total > targets_max() {
        return Err(FleetError::TooMany(total));
    }
    let mut rng = Pcg64Mcg::new(u128::from(seed) << 64 | 0x5eed_f1ee7);
    let mut out: Vec<PodInstance> = Vec::with_capacity(total as usize);
    let mut seen = std::collections::HashSet::new();
    for pod in pods {
        let template = Arc::new(pod.clone());
        for name in pod_names(pod, &mut rng, &seen) {
            if !seen.insert((pod.namespace.clone(), name.clone())) {
                return Err(FleetError::Duplicate(name, pod.namespace.clone()));
            }
            let index = out.len() as u32;
            let ip = probebench_targets::addr::pod_ip(index).map_err(|_| FleetError::TooMany(total))?;
            out.push(PodInstance {
                index,
                name,
                namespace: pod.namespace.clone(),
                uid: uid(&mut rng),
                ip,
                template: Arc::clone(&template),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Vec<spec::Pod> {
        spec::load_str("t.yaml", yaml).unwrap().pods
    }

    #[test]
    fn replicas_get_controller_style_names_and_distinct_addresses() {
        let pods = load(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - {name: c, image: x}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - {name: c, image: x}\n",
        );
        let fleet = expand(&pods, 1).unwrap();
        assert_eq!(fleet.len(), 5);
        let hash = &fleet[0].name[4..14];
        for p in &fleet[..3] {
            assert!(p.name.starts_with(&format!("web-{hash}-")), "{}", p.name);
            assert_eq!(p.name.len(), "web-".len() + 10 + 1 + 5);
        }
        assert_eq!(fleet[3].name, "db-0");
        assert_eq!(fleet[4].name, "db-1");
        let ips: std::collections::HashSet<_> = fleet.iter().map(|p| p.ip).collect();
        assert_eq!(ips.len(), 5);
        assert_eq!(fleet[0].ip, Ipv4Addr::new(127, 1, 0, 0));
    }

    #[test]
    fn same_seed_same_names_and_uids() {
        let pods = load(
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: rs}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - {name: c, image: x}\n",
        );
        let a = expand(&pods, 7).unwrap();
        let b = expand(&pods, 7).unwrap();
        let c = expand(&pods, 8).unwrap();
        assert_eq!(
            a.iter().map(|p| (&p.name, &p.uid)).collect::<Vec<_>>(),
            b.iter().map(|p| (&p.name, &p.uid)).collect::<Vec<_>>()
        );
        assert_ne!(a[0].uid, c[0].uid);
        assert_eq!(a[0].uid.len(), 36);
        assert_eq!(&a[0].uid[14..15], "4", "version 4 UUID");
    }

    #[test]
    fn duplicate_pod_names_are_refused() {
        let one = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: x}\n";
        let pods = load(&format!("{one}---\n{one}"));
        assert_eq!(expand(&pods, 1).unwrap_err(), FleetError::Duplicate("p".into(), "default".into()));
    }
}
