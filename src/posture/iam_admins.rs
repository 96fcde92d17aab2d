//! Who can change a workload's IAM policy, and so make it public at will: holders of
//! `run.{services,jobs,workerpools}.setIamPolicy` on the workload or above it, and holders of
//! `resourcemanager.{projects,folders,organizations}.setIamPolicy` above it (who can grant
//! themselves the first).

use petgraph::graph::NodeIndex;

use crate::graph::{Principal, SideGraph};
use crate::iam::Caps;
use crate::iam::member::is_service_agent;

use super::invokers::{Holders, Inherited, holders};

/// The principals that can change the IAM policy of the workload at `node`, with their grants.
/// Google's service agents hold such roles by design and are left out. `inherited` holds what
/// earlier workloads of the same scopes inherit.
pub fn collect(g: &SideGraph, node: NodeIndex, inherited: &mut Inherited) -> Holders {
    holders(
        g,
        node,
        Caps::IAM_ADMIN,
        |p| !matches!(p, Principal::Known { member, .. } if is_service_agent(member)),
        inherited,
    )
}
