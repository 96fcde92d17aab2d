//! Service accounts and their keys. (Their IAM resources are read with the other IAM families.)

use crate::plan::{Address, Tri, TypeMismatch};

use super::iam::account_email;
use super::{Reading, computed_str};

#[derive(Debug, Clone)]
pub struct ServiceAccount {
    pub address: Address,
    pub email: Tri<String>,
    /// As written; the graph fills an unset one from the provider configuration.
    pub project: Tri<String>,
    /// The plan itself states the email (providers since 6.13 compute it at plan time); false
    /// when runguard derived it from `account_id` and `project`.
    pub email_in_plan: bool,
    /// The numeric id that `projects/P/serviceAccounts/ID` references may use instead of the
    /// email; computed, so unknown on create.
    pub unique_id: Tri<String>,
}

/// `google_service_account_key`: a long-lived exportable credential for an account.
#[derive(Debug, Clone)]
pub struct AccountKey {
    pub address: Address,
    pub email: Tri<String>,
}

pub fn handles(rtype: &str) -> bool {
    is_account(rtype) || is_key(rtype)
}

pub fn is_account(rtype: &str) -> bool {
    rtype == "google_service_account"
}

pub fn is_key(rtype: &str) -> bool {
    rtype == "google_service_account_key"
}

pub fn read_account(r: &Reading) -> Result<ServiceAccount, TypeMismatch> {
    let n = &r.node;
    // Providers before 6.13 leave `email` unknown on create; it is always
    // `{account_id}@{project}.iam.gserviceaccount.com`.
    let stated = computed_str(n, "email")?;
    let project = computed_str(n, "project")?;
    let email_in_plan = matches!(stated, Tri::Known(_));
    let email = match stated {
        Tri::Known(e) => Tri::Known(e.to_lowercase()),
        _ => match (n.key("account_id").str()?, &project) {
            (Tri::Known(a), Tri::Known(p)) => {
                Tri::Known(format!("{a}@{p}.iam.gserviceaccount.com").to_lowercase())
            }
            _ => Tri::Unknown,
        },
    };
    Ok(ServiceAccount {
        address: r.address.clone(),
        email,
        project,
        email_in_plan,
        unique_id: computed_str(n, "unique_id")?,
    })
}

pub fn read_key(r: &Reading) -> Result<AccountKey, TypeMismatch> {
    Ok(AccountKey {
        address: r.address.clone(),
        email: r.node.key("service_account_id").str()?.map(account_email),
    })
}
