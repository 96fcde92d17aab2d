//! The Mermaid graph of a pull-request comment: how the changed workloads are reached and what
//! they run as, after the plan. The internet and load balancers → workload → runtime identity →
//! its privileged roles, and each principal the plan newly lets invoke, administer or act as
//! them. Built from the report's postures only; edges the plan adds are drawn thick.
//!
//! A plan can change thousands of workloads, and a drawing past a few dozen nodes is unreadable
//! (and slow for GitHub to lay out): nodes beyond [`MAX_NODES`] are summarised in one node.

use std::fmt::Write;

use foldhash::{HashMap, HashSet};

use super::WorkloadEntry;
use super::escape;
use crate::posture::{Posture, Verdict};

/// Nodes drawn at most, the summary node included.
pub const MAX_NODES: usize = 30;

/// Plan strings are cut to this many characters in a label.
const LABEL_CHARS: usize = 60;

#[derive(Clone, Copy)]
enum Shape {
    Internet,
    LoadBalancer,
    Workload,
    Identity,
    Role,
    Principal,
}

impl Shape {
    fn declare(self, id: &str, label: &str) -> String {
        let (open, close) = match self {
            Shape::Internet => ("((", "))"),
            Shape::LoadBalancer => ("[/", "/]"),
            Shape::Workload => ("[", "]"),
            Shape::Identity => ("([", "])"),
            Shape::Role => ("{{", "}}"),
            Shape::Principal => (">", "]"),
        };
        format!("{id}{open}\"{label}\"{close}")
    }
}

#[derive(Default)]
struct Graph {
    /// Node declarations, in the order first seen.
    nodes: Vec<String>,
    /// Node ids by key (kind and name), so shared nodes (one account, one role) are drawn once.
    ids: HashMap<String, String>,
    edges: Vec<String>,
    seen_edges: HashSet<String>,
    /// Keys of nodes left out for want of room.
    omitted: HashSet<String>,
}

impl Graph {
    /// The id of the node `key`, declared on first use; `None` once the drawing is full (one
    /// place is kept for the summary node).
    fn node(&mut self, key: String, shape: Shape, label: &str) -> Option<String> {
        if let Some(id) = self.ids.get(&key) {
            return Some(id.clone());
        }
        if self.nodes.len() >= MAX_NODES - 1 {
            self.omitted.insert(key);
            return None;
        }
        let id = format!("n{}", self.nodes.len());
        let label = escape::mermaid(&clip(label));
        self.nodes.push(shape.declare(&id, &label));
        self.ids.insert(key, id.clone());
        Some(id)
    }

    /// An edge with a fixed label (never plan text); thick when the plan adds it.
    fn edge(&mut self, from: &str, to: &str, label: &str, new: bool) {
        let arrow = if new { "==>" } else { "-->" };
        let line = format!("{from} {arrow}|{label}| {to}");
        if self.seen_edges.insert(line.clone()) {
            self.edges.push(line);
        }
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() <= LABEL_CHARS {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(LABEL_CHARS - 1).collect();
        out.push('…');
        out
    }
}

/// The `flowchart` source for `workloads` (most important first: they claim nodes first), or
/// `None` when none of them exists after the plan.
pub fn graph(workloads: &[&WorkloadEntry]) -> Option<String> {
    let mut g = Graph::default();
    for w in workloads {
        let Some(after) = &w.after else { continue };
        draw_workload(&mut g, w, after);
    }
    if g.nodes.is_empty() {
        return None;
    }
    let mut out = String::from("flowchart LR\n");
    for n in &g.nodes {
        let _ = writeln!(out, "  {n}");
    }
    if !g.omitted.is_empty() {
        let label = escape::mermaid(&format!("…and {} more", g.omitted.len()));
        let _ = writeln!(out, "  more[\"{label}\"]");
    }
    for e in &g.edges {
        let _ = writeln!(out, "  {e}");
    }
    Some(out)
}

fn draw_workload(g: &mut Graph, w: &WorkloadEntry, after: &Posture) {
    let before = w.before.as_ref();
    let Some(wid) = g.node(
        format!("workload {}", w.id.address),
        Shape::Workload,
        &w.id.address,
    ) else {
        return;
    };

    if after.public != Verdict::No {
        let was = before.map(|b| b.public);
        if let Some(net) = g.node("internet".into(), Shape::Internet, "internet") {
            let label = match after.public {
                Verdict::Yes => "public",
                _ => "maybe public",
            };
            g.edge(&net, &wid, label, was != Some(after.public));
        }
    }
    for lb in &after.load_balancers {
        let had = before.is_some_and(|b| {
            b.load_balancers
                .iter()
                .any(|l| l.forwarding_rule == lb.forwarding_rule)
        });
        let key = format!("lb {}", lb.forwarding_rule);
        let Some(lid) = g.node(key, Shape::LoadBalancer, &lb.forwarding_rule) else {
            continue;
        };
        g.edge(&lid, &wid, "routes to", !had);
        if lb.external != Some(false) {
            if let Some(net) = g.node("internet".into(), Shape::Internet, "internet") {
                let label = if lb.external == Some(true) {
                    "external"
                } else {
                    "maybe external"
                };
                g.edge(&net, &lid, label, !had);
            }
        }
    }

    let identity = after.identity.display();
    let same_identity = before.is_some_and(|b| b.identity.display() == identity);
    let Some(sid) = g.node(format!("identity {identity}"), Shape::Identity, &identity) else {
        return;
    };
    g.edge(&wid, &sid, "runs as", !same_identity);
    let held_before = |key: &str| {
        same_identity && before.is_some_and(|b| b.identity.roles.iter().any(|r| r.key() == key))
    };
    for role in after.identity.roles.iter().filter(|r| r.privileged) {
        let label = role.label();
        if let Some(rid) = g.node(format!("role {}", role.key()), Shape::Role, &label) {
            g.edge(&sid, &rid, "holds", !held_before(&role.key()));
        }
    }
    if let Some(unknown) = after.identity.roles_unknown {
        if let Some(rid) = g.node(format!("role {unknown}"), Shape::Role, unknown) {
            g.edge(&sid, &rid, "holds", !same_identity);
        }
    }

    let new_members = |now: Vec<&str>, then: Option<Vec<&str>>| -> Vec<String> {
        let then: HashSet<&str> = then.unwrap_or_default().into_iter().collect();
        let mut seen = HashSet::default();
        now.into_iter()
            .filter(|m| !then.contains(m) && seen.insert(*m))
            .map(str::to_owned)
            .collect()
    };
    let invokers = new_members(
        after
            .invokers
            .iter()
            .map(|i| i.principal.display())
            .collect(),
        before.map(|b| b.invokers.iter().map(|i| i.principal.display()).collect()),
    );
    for p in invokers {
        if let Some(pid) = g.node(format!("principal {p}"), Shape::Principal, &p) {
            g.edge(&pid, &wid, "can invoke", true);
        }
    }
    let admins = new_members(
        after
            .iam_admins
            .iter()
            .map(|i| i.principal.display())
            .collect(),
        before.map(|b| b.iam_admins.iter().map(|i| i.principal.display()).collect()),
    );
    for p in admins {
        if let Some(pid) = g.node(format!("principal {p}"), Shape::Principal, &p) {
            g.edge(&pid, &wid, "can change IAM", true);
        }
    }
    let actors = new_members(
        after
            .identity
            .impersonators
            .iter()
            .map(|i| i.principal.display())
            .collect(),
        before.filter(|_| same_identity).map(|b| {
            b.identity
                .impersonators
                .iter()
                .map(|i| i.principal.display())
                .collect()
        }),
    );
    for p in actors {
        if let Some(pid) = g.node(format!("principal {p}"), Shape::Principal, &p) {
            g.edge(&pid, &sid, "can act as", true);
        }
    }
}
