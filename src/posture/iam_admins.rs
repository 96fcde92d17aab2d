//! Who can change a workload's IAM policy, and so make it public at will: holders of
//! `run.{services,jobs,workerpools}.setIamPolicy` on the workload or above it, and holders of
//! `resourcemanager.{projects,folders,organizations}.setIamPolicy` above it (who can grant
//! themselves the first).

use std::collections::HashMap;
use std::sync::Arc;

use petgraph::graph::NodeIndex;

use crate::graph::{EdgeKind, Principal, SideGraph};
use crate::iam::Caps;
use crate::iam::member::is_service_agent;
use crate::inventory::{IamTarget, Scope};
use crate::plan::Tri;

use super::invokers::{Grant, Invoker};

/// The principals that can change the IAM policy of the workload at `node`, with their grants.
pub fn collect(g: &SideGraph, node: NodeIndex) -> Vec<Invoker> {
    // Grants on the workload itself, then grants on the projects (and above) it sits in.
    let mut sources: Vec<(usize, bool)> = g
        .incoming(node, |e| e == EdgeKind::GrantsOn)
        .iter()
        .filter_map(|(n, _)| g.iam_index(*n))
        // A function's own policy does not decide who calls it (see `is_function_resource`).
        .filter(|&i| !g.inventory.iam[i].target.is_function_resource())
        .map(|i| (i, false))
        .collect();
    for (project, edge) in g.outgoing(node, |e| matches!(e, EdgeKind::InProject { .. })) {
        let EdgeKind::InProject { assumed } = edge else {
            continue;
        };
        sources.extend(
            g.scope_grants(project, Caps::IAM_ADMIN)
                .iter()
                .map(|&i| (i, assumed)),
        );
    }
    let mut admins = Admins::default();
    for (i, assumed) in sources {
        let level = match &g.inventory.iam[i].target {
            IamTarget::Scope(Scope::Project(_)) => "project",
            IamTarget::Scope(Scope::Folder(_)) => "folder",
            IamTarget::Scope(Scope::Organization(_)) => "organization",
            _ => "resource",
        };
        let address = &g.iam_addresses[i];
        let Some(bindings) = &g.grants[i].bindings else {
            // A policy on the workload that is unknown as a whole may name anyone as admin.
            admins.add(
                Principal::Unknown,
                Grant {
                    address: address.clone(),
                    role: "(unknown policy)".into(),
                    level,
                    certain: false,
                },
            );
            continue;
        };
        for b in bindings {
            let certain = match &b.role.caps {
                Tri::Known(caps) if caps.intersects(Caps::IAM_ADMIN) => true,
                Tri::Known(_) => continue,
                // An unknown role on the workload itself may be an admin role.
                _ if level == "resource" => false,
                _ => continue,
            };
            let role: Arc<str> = b.role.display().into();
            for p in &b.principals {
                if matches!(p, Principal::Known { member, .. } if is_service_agent(member)) {
                    continue;
                }
                admins.add(
                    p.clone(),
                    Grant {
                        address: address.clone(),
                        role: role.clone(),
                        level,
                        certain: certain && !b.conditional && !assumed,
                    },
                );
            }
        }
    }
    let mut admins = admins.list;
    for a in &mut admins {
        a.grants.sort();
    }
    admins.sort_by(|a, b| a.principal.display().cmp(b.principal.display()));
    admins
}

/// Principals with their grants, looked up by hash: a binding can list many members.
#[derive(Default)]
struct Admins {
    list: Vec<Invoker>,
    positions: HashMap<Principal, usize>,
}

impl Admins {
    fn add(&mut self, principal: Principal, grant: Grant) {
        match self.positions.get(&principal) {
            Some(&i) => {
                if !self.list[i].grants.contains(&grant) {
                    self.list[i].grants.push(grant);
                }
            }
            None => {
                self.positions.insert(principal.clone(), self.list.len());
                self.list.push(Invoker {
                    principal,
                    grants: vec![grant],
                });
            }
        }
    }
}
