//! Typed resources for each side of the plan.
//!
//! Every `resource_changes` entry of a type runguard reads contributes its `before` object to the
//! before side and its `after` object to the after side (no-op entries to both, a created
//! resource only to the after side, a deleted one only to the before side). Data sources come
//! from `prior_state` and from deferred reads. Values stay tri-state ([`Tri`]); an attribute of
//! the wrong JSON type makes that resource unanalysable on that side, with the reason, and the
//! rest of the plan is still read.

pub(crate) mod binauthz_policy;
pub mod cloud_run;
pub mod controls;
pub mod defaults;
pub mod domain_mapping;
pub mod function;
pub mod iam;
pub mod iap_iam;
pub mod load_balancer;
pub(crate) mod org_policy;
pub mod policy_data;
pub mod project;
pub mod resource_iam;
pub mod roles;
pub mod secrets;
pub mod service_account;

use crate::plan::{Action, Address, Node, Plan, Projection, ResourceChange, Tri, TypeMismatch};

pub use cloud_run::{Api, Ingress, Workload, WorkloadKind};
pub use domain_mapping::DomainMapping;
pub use iam::{Grant, IamResource, IamTarget, MemberValue, PolicyBinding, Scope};
pub use load_balancer::{LbKind, LbResource};
pub use policy_data::PolicyDataSource;
pub use project::DefaultAccount;
pub use roles::CustomRole;
pub use service_account::{AccountKey, ServiceAccount};

/// Before or after the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Before,
    After,
}

impl Side {
    pub const BOTH: [Side; 2] = [Side::Before, Side::After];
}

/// The typed resources of one side.
#[derive(Debug, Default)]
pub struct SideInventory {
    pub workloads: Vec<Workload>,
    pub iam: Vec<IamResource>,
    pub custom_roles: Vec<CustomRole>,
    pub service_accounts: Vec<ServiceAccount>,
    pub keys: Vec<AccountKey>,
    pub load_balancers: Vec<LbResource>,
    pub domain_mappings: Vec<DomainMapping>,
    /// Organization policies the plan sets, at any level.
    pub(crate) org_policies: Vec<org_policy::OrgPolicy>,
    /// Projects' default Binary Authorization policies.
    pub(crate) binauthz_policies: Vec<binauthz_policy::BinauthzPolicy>,
    /// What the plan does to projects' default service accounts.
    pub(crate) default_accounts_actions: Vec<org_policy::DefaultAccounts>,
    /// IAM on Identity-Aware Proxy web resources: who passes IAP.
    pub iap_iam: Vec<iap_iam::IapIam>,
    pub policy_data: Vec<PolicyDataSource>,
    /// The projects whose default compute account the plan can name.
    pub default_accounts: Vec<DefaultAccount>,
}

/// A resource that could not be analysed on some side, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unanalysable {
    /// The resource's address.
    pub address: String,
    /// Why it could not be analysed.
    pub reason: String,
}

/// Both sides, plus what could not be read.
#[derive(Debug, Default)]
pub struct Inventory {
    pub before: SideInventory,
    pub after: SideInventory,
    /// The plan action of every workload address.
    pub workload_actions: Vec<(Address, Action)>,
    pub unanalysable: Vec<Unanalysable>,
}

impl Inventory {
    fn side_mut(&mut self, side: Side) -> &mut SideInventory {
        match side {
            Side::Before => &mut self.before,
            Side::After => &mut self.after,
        }
    }
}

/// What the plan stage must deserialize of a resource type: `None` for types the analysis
/// does not read, a projection for workloads, everything for the small resource types.
pub fn projection(rtype: &str) -> Option<&'static Projection> {
    static ALL: Projection = Projection::All;
    if cloud_run::handles(rtype) {
        Some(cloud_run::projection(rtype))
    } else if function::handles(rtype) {
        Some(function::projection())
    } else if reads_whole(rtype) {
        Some(&ALL)
    } else {
        None
    }
}

/// Cloud Run workloads and the gen2 functions that run on Cloud Run.
fn is_workload(rtype: &str) -> bool {
    cloud_run::handles(rtype) || function::handles(rtype)
}

fn reads_whole(rtype: &str) -> bool {
    iam::handles(rtype)
        || roles::handles(rtype)
        || service_account::handles(rtype)
        || load_balancer::handles(rtype)
        || domain_mapping::handles(rtype)
        || org_policy::handles(rtype)
        || org_policy::handles_default_accounts(rtype)
        || binauthz_policy::handles(rtype)
        || iap_iam::handles(rtype)
        || resource_iam::handles(rtype)
        || policy_data::handles(rtype)
        || project::handles(rtype)
}

/// Context for reading one side of one resource.
pub struct Reading<'a, 'v> {
    pub address: &'a Address,
    pub rtype: &'a str,
    pub node: Node<'v>,
    pub side: Side,
    /// The object is being created by this plan (computed attributes are unknown).
    pub creating: bool,
    /// The object's before side, when this reads the after side of an in-place update: some
    /// computed values carry over from it.
    pub prior: Option<Node<'v>>,
}

impl Inventory {
    /// Adds both sides of one resource change. The plan stage calls this for each wanted entry
    /// as it reads it, so the entry's JSON is freed right after.
    pub fn add_change(&mut self, change: &ResourceChange) {
        let rtype = change.address.rtype.as_str();
        let workload = is_workload(rtype) && !change.address.data;
        if change.action == Action::CreateThenForget {
            // The old object stays in the cloud with its settings and grants, outside
            // Terraform: an instance of its own on both sides. The new one is created.
            let kept = change.address.forgotten();
            if workload {
                self.workload_actions.push((kept.clone(), Action::Forget));
                self.workload_actions
                    .push((change.address.clone(), change.action));
            }
            for side in Side::BOTH {
                self.add_object(&kept, rtype, change.before_node(), side, false, None);
            }
            self.add_object(
                &change.address,
                rtype,
                change.after_node(),
                Side::After,
                true,
                None,
            );
            return;
        }
        if workload {
            self.workload_actions
                .push((change.address.clone(), change.action));
        }
        let creating = matches!(change.action, Action::Create | Action::Replace);
        for side in Side::BOTH {
            let (node, prior) = match side {
                Side::Before => (change.before_node(), None),
                Side::After if change.action == Action::Update => {
                    (change.after_node(), change.before_node())
                }
                Side::After => (change.after_node(), None),
            };
            let creating = side == Side::After && creating;
            self.add_object(&change.address, rtype, node, side, creating, prior);
        }
    }

    /// Reads one object into one side, or records why it cannot be read.
    fn add_object(
        &mut self,
        address: &Address,
        rtype: &str,
        node: Option<Node>,
        side: Side,
        creating: bool,
        prior: Option<Node>,
    ) {
        let Some(node) = node else { return };
        let reading = Reading {
            address,
            rtype,
            node,
            side,
            creating,
            prior,
        };
        if let Err(e) = read_one(self, &reading) {
            record(self, address, side, &e);
        }
    }

    /// Adds what the rest of the plan says: entries that could not be read, and the data
    /// sources read while planning.
    pub fn finish(&mut self, plan: &Plan) {
        for u in &plan.unreadable {
            self.unanalysable.push(Unanalysable {
                address: u.address.clone(),
                reason: u.reason.clone(),
            });
        }
        for data in &plan.prior_data {
            if policy_data::handles(&data.address.rtype) {
                let node = Node::root(&data.values, None, data.sensitive_values.as_ref());
                match policy_data::read_prior(&data.address, &node) {
                    // Data sources read during planning describe the world the plan applies to.
                    Ok(source) => self.after.policy_data.push(source),
                    Err(e) => record(self, &data.address, Side::After, &e),
                }
            }
            if project::handles(&data.address.rtype) {
                let node = Node::root(&data.values, None, data.sensitive_values.as_ref());
                match project::read_prior(&data.address, &node) {
                    // A project's number does not change: it names the same account on both sides.
                    Ok(account) => {
                        self.before.default_accounts.push(account.clone());
                        self.after.default_accounts.push(account);
                    }
                    Err(e) => record(self, &data.address, Side::After, &e),
                }
            }
        }
        self.unanalysable.sort();
        self.unanalysable.dedup();
        let is_configured = |address: &Address, path: &[&str]| {
            !plan
                .configuration
                .expressions(&address.config_module(), &address.config_resource(), path)
                .is_empty()
        };
        for w in &mut self.after.workloads {
            w.settle_defaults(&is_configured);
        }
    }
}

fn record(inv: &mut Inventory, address: &Address, side: Side, e: &TypeMismatch) {
    let side = match side {
        Side::Before => "before",
        Side::After => "after",
    };
    inv.unanalysable.push(Unanalysable {
        address: address.to_string(),
        reason: format!("{side}: {e}"),
    });
}

fn read_one(inv: &mut Inventory, r: &Reading) -> Result<(), TypeMismatch> {
    let side = inv.side_mut(r.side);
    if r.address.data {
        if policy_data::handles(r.rtype) {
            side.policy_data.push(policy_data::read_change(r)?);
        } else if project::handles(r.rtype) {
            side.default_accounts.push(project::read_change(r)?);
        }
        return Ok(());
    }
    if cloud_run::handles(r.rtype) {
        side.workloads.push(cloud_run::read(r)?);
    } else if function::handles(r.rtype) {
        side.workloads.push(function::read(r)?);
    } else if iam::handles(r.rtype) {
        side.iam.push(iam::read(r)?);
    } else if roles::handles(r.rtype) {
        side.custom_roles.push(roles::read(r)?);
    } else if service_account::is_account(r.rtype) {
        side.service_accounts
            .push(service_account::read_account(r)?);
    } else if service_account::is_key(r.rtype) {
        side.keys.push(service_account::read_key(r)?);
    } else if load_balancer::handles(r.rtype) {
        side.load_balancers.push(load_balancer::read(r)?);
    } else if domain_mapping::handles(r.rtype) {
        side.domain_mappings.push(domain_mapping::read(r)?);
    } else if project::handles(r.rtype) {
        side.default_accounts.push(project::read_change(r)?);
    } else if org_policy::handles(r.rtype) {
        side.org_policies.push(org_policy::read(r)?);
    } else if binauthz_policy::handles(r.rtype) {
        side.binauthz_policies.push(binauthz_policy::read(r)?);
    } else if org_policy::handles_default_accounts(r.rtype) {
        side.default_accounts_actions
            .push(org_policy::read_default_accounts(r)?);
    } else if iap_iam::handles(r.rtype) {
        side.iap_iam.push(iap_iam::read(r)?);
    } else if resource_iam::handles(r.rtype) {
        // Last: any IAM type the readers above do not claim is IAM on some other resource.
        side.iam.push(resource_iam::read(r)?);
    }
    Ok(())
}

/// An optional string attribute that the provider fills in at apply when unset.
pub(crate) fn computed_str(node: &Node, key: &str) -> Result<Tri<String>, TypeMismatch> {
    Ok(node.key(key).non_empty_str()?.owned())
}
