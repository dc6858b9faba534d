//! The pods handed to `probebench targets serve`: one manifest document per pod group, in
//! the plan's order, so the targets' expansion gives pod i the same index (and loopback
//! address) as the engine, and — for lifecycle runs — the same names as the simulator.

use std::net::{IpAddr, SocketAddr};

use crate::scenario::PhasePlan;
use crate::sched::fleet::Fleet;
use crate::sched::mechanism::MechanismKind;

/// The manifest text. Pods keep their kind where the kind decides pod names (a Pod is
/// named as written, a StatefulSet's pods `name-0..`, a Deployment's `name-<hash>-<id>`);
/// other workloads become Deployments. A group's scenario `behaviour:` travels as the
/// `probebench.dev/behaviour` annotation, which the targets and the simulator both read.
pub fn manifest(phase: &PhasePlan, fleet: &Fleet) -> String {
    let mut docs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, (p, g)) in phase.pods.iter().zip(fleet.groups.iter()).enumerate() {
        let pod = &p.input.pod;
        let mut name = pod.name.clone();
        if !seen.insert((pod.namespace.clone(), name.clone())) {
            name = format!("{}-g{i}", g.name);
            seen.insert((pod.namespace.clone(), name.clone()));
        }
        let mut annotations = pod.annotations.clone();
        if let Some(b) = &p.behaviour {
            let text = match b.as_str() {
                Some(s) => s.to_string(),
                None => serde_yaml::to_string(b).unwrap_or_default(),
            };
            annotations.insert(crate::fleet::BEHAVIOUR_ANNOTATION.to_string(), text);
        }
        let spec = serde_json::to_value(&pod.spec).unwrap_or_default();
        let replicas = p.input.replicas;
        let doc = match pod.source.kind.as_str() {
            "Pod" if replicas == 1 => serde_json::json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": pod.namespace, "annotations": annotations},
                "spec": spec,
            }),
            kind => {
                let kind = if kind == "StatefulSet" { "StatefulSet" } else { "Deployment" };
                serde_json::json!({
                    "apiVersion": "apps/v1",
                    "kind": kind,
                    "metadata": {"name": name, "namespace": pod.namespace},
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": {"probebench.dev/group": name}},
                        "template": {
                            "metadata": {"labels": {"probebench.dev/group": name}, "annotations": annotations},
                            "spec": spec,
                        },
                    },
                })
            }
        };
        docs.push(serde_yaml::to_string(&doc).unwrap_or_default());
    }
    docs.join("---\n")
}

/// A few pod ports to check before the run: the first pod of each group, each socket probe
/// of a declared port.
pub fn readiness_addrs(fleet: &Fleet) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    for g in &fleet.groups {
        let Ok(ip) = probebench_targets::pod_ip(g.first_pod) else {
            continue;
        };
        for c in &g.containers {
            for &t in &c.templates {
                let t = &fleet.templates[t as usize];
                // An exec probe may dial its own pod (a health client run as the probe's
                // command): the pod's declared ports are served, so wait for them.
                if t.kind == MechanismKind::Exec {
                    for cp in &t.container.ports {
                        if let Ok(port) = u16::try_from(cp.container_port) {
                            out.push(SocketAddr::new(IpAddr::V4(ip), port));
                        }
                    }
                    continue;
                }
                if !t.kind.uses_sockets() {
                    continue;
                }
                let port = crate::sched::preflight::destination(t.probe.handler.action(), &t.container).map(|(_, p)| p);
                // Only ports the container declares are served; a probe of another port
                // (the walkthrough's liveness on 8080) is meant to be refused.
                let declared = |p: u16| t.container.ports.iter().any(|cp| cp.container_port == i32::from(p));
                if let Some(port) = port.filter(|&p| declared(p)) {
                    out.push(SocketAddr::new(IpAddr::V4(ip), port));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_pod_keeps_its_name_and_a_group_gets_its_behaviour_annotation() {
        let plan = crate::scenario::load_str(
            "t.yaml",
            "kind: Scenario\npods:\n- name: web\n  replicas: 3\n  behaviour: {phases: [{respond: {status: 500}}]}\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        ports: [{containerPort: 80}]\n        livenessProbe: {httpGet: {port: 80}}\n",
            std::path::Path::new("."),
        )
        .unwrap();
        let phase = &plan.phases[0];
        let fleet = Fleet::build(
            &phase.pods.iter().map(|g| g.input.clone()).collect::<Vec<_>>(),
            &crate::sched::mechanism::Capabilities::NOOP_ONLY,
        );
        let text = manifest(phase, &fleet);
        let loaded = crate::spec::load_str("m.yaml", &text).unwrap();
        assert_eq!(loaded.pods.len(), 1);
        assert_eq!(loaded.pods[0].source.replicas, 3);
        let b = &loaded.pods[0].annotations[crate::fleet::BEHAVIOUR_ANNOTATION];
        assert!(probebench_targets::parse_behaviour(b).is_ok(), "{b}");

        let walkthrough =
            crate::scenario::load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/targets/pods/myweb-startup.yaml"))
                .unwrap();
        let phase = &walkthrough.phases[0];
        let fleet = Fleet::build(
            &phase.pods.iter().map(|g| g.input.clone()).collect::<Vec<_>>(),
            &crate::sched::mechanism::Capabilities::NOOP_ONLY,
        );
        let loaded = crate::spec::load_str("m.yaml", &manifest(phase, &fleet)).unwrap();
        assert_eq!(loaded.pods[0].source.kind, "Pod");
        assert_eq!(loaded.pods[0].name, "myweb-startup");
    }
}
