//! Which workloads of one side run as the same user-managed service account: Google's advice is
//! a dedicated account with minimal permissions for each Cloud Run resource, so that one
//! workload's compromise or grant is not another's.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::{IdentityPosture, Posture, WorkloadId};

/// What makes two identities the same user-managed account: its email, or the address of the
/// account the plan creates when its email is not known yet. The default compute account is
/// left out (`default-service-account` reports it), and so is an identity that is unknown.
fn account_key(identity: &IdentityPosture) -> Option<String> {
    if identity.default != Some(false) {
        return None;
    }
    match (&identity.service_account, &identity.planned_account) {
        (Some(email), _) => Some(email.clone()),
        (None, Some(address)) => Some(format!("planned:{address}")),
        (None, None) => None,
    }
}

/// The resource instance a workload address belongs to: a deposed or forgotten object of an
/// instance is the same resource as its replacement, not another workload sharing its account.
fn instance(address: &str) -> &str {
    if let Some(base) = address.strip_suffix(" (forgotten object)") {
        return base;
    }
    match address.rfind(" (deposed object ") {
        Some(i) if address.ends_with(')') => &address[..i],
        _ => address,
    }
}

/// Fills `shared_identity` of every workload in the plan whose account another one uses too.
pub(crate) fn link(postures: &mut BTreeMap<WorkloadId, Posture>) {
    let mut by_account: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut instances: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (id, p) in postures.iter() {
        if let (false, Some(key)) = (id.external, account_key(&p.identity)) {
            instances
                .entry(key.clone())
                .or_default()
                .insert(instance(&id.address));
            by_account
                .entry(key)
                .or_default()
                .insert(id.address.clone());
        }
    }
    // Only accounts that two different resource instances run as are shared.
    by_account.retain(|key, _| instances[key].len() > 1);
    let by_account: BTreeMap<String, Arc<Vec<String>>> = by_account
        .into_iter()
        .map(|(k, v)| (k, Arc::new(v.into_iter().collect())))
        .collect();
    for (id, p) in postures.iter_mut() {
        if id.external {
            continue;
        }
        if let Some(sharers) = account_key(&p.identity).and_then(|k| by_account.get(&k)) {
            p.shared_identity = Arc::clone(sharers);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::instance;

    #[test]
    fn deposed_and_forgotten_objects_are_their_instance() {
        assert_eq!(
            instance("google_cloud_run_v2_service.api (deposed object 5e1d3c7a)"),
            "google_cloud_run_v2_service.api"
        );
        assert_eq!(
            instance("google_cloud_run_v2_service.api (forgotten object)"),
            "google_cloud_run_v2_service.api"
        );
        assert_eq!(
            instance("google_cloud_run_v2_service.svc[\"a (deposed object b)\"]"),
            "google_cloud_run_v2_service.svc[\"a (deposed object b)\"]"
        );
    }
}
