//! IAM on Secret Manager secrets (`google_secret_manager_secret_iam_{member,binding,policy}`):
//! who can read the secrets a workload references.

use crate::plan::{Tri, TypeMismatch};

use super::iam::{Grant, read_grant};
use super::{Reading, computed_str};

const PREFIX: &str = "google_secret_manager_secret_iam_";

pub fn handles(rtype: &str) -> bool {
    rtype
        .strip_prefix(PREFIX)
        .is_some_and(|s| matches!(s, "member" | "binding" | "policy"))
}

/// One side of an IAM resource on a secret.
#[derive(Debug, Clone)]
pub struct SecretIam {
    /// `project`, filled from the provider when unset.
    pub project: Tri<String>,
    /// `secret_id`: `NAME`, `P/NAME` or `projects/P/secrets/NAME`, as written.
    pub secret_id: Tri<String>,
    pub grant: Grant,
}

pub fn read(r: &Reading) -> Result<SecretIam, TypeMismatch> {
    let n = &r.node;
    let style = r
        .rtype
        .strip_prefix(PREFIX)
        .expect("dispatch checked the type");
    let grant = read_grant(n, style)?;
    Ok(SecretIam {
        project: computed_str(n, "project")?,
        secret_id: n.key("secret_id").non_empty_str()?.owned(),
        grant,
    })
}
