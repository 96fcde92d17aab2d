//! What a role lets its holder do, for the permissions runguard reasons about.
//!
//! The table covers the predefined roles that carry any of these permissions, taken from the
//! predefined-role catalogue (iam-dataset `gcp/roles/*.json`, summarised in
//! `provider-schema.md` §6). A predefined role that is not listed carries none of them.
//! Custom roles are read from the plan and mapped with [`Caps::from_permissions`].
//!
//! | capability | permission(s) |
//! |---|---|
//! | `INVOKE` | `run.routes.invoke` |
//! | `RUN_JOB` | `run.jobs.run`, `run.jobs.runWithOverrides` |
//! | `MODIFY` | `run.services.update`, `run.jobs.update`, `run.workerpools.update` (deploy new code) |
//! | `ACT_AS` | `iam.serviceAccounts.actAs` |
//! | `GET_TOKEN` | `iam.serviceAccounts.getAccessToken`, `signBlob`, `signJwt`, `implicitDelegation` |
//! | `ID_TOKEN` | `iam.serviceAccounts.getOpenIdToken` |
//! | `CREATE_KEY` | `iam.serviceAccountKeys.create` |
//! | `WORKLOAD_IAM` | `run.services.setIamPolicy`, `run.jobs.setIamPolicy`, `run.workerpools.setIamPolicy` |
//! | `SCOPE_IAM` | `resourcemanager.{projects,folders,organizations}.setIamPolicy` |
//! | `ACCOUNT_IAM` | `iam.serviceAccounts.setIamPolicy` |
//! | `SET_IAM` | any other `*.setIamPolicy` |
//! | `IAP_ACCESS` | `iap.webServiceVersions.accessViaIAP` (pass Identity-Aware Proxy) |

bitflags::bitflags! {
    /// A set of capabilities.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Caps: u16 {
        const INVOKE = 1;
        const RUN_JOB = 1 << 1;
        const MODIFY = 1 << 2;
        const ACT_AS = 1 << 3;
        const GET_TOKEN = 1 << 4;
        const ID_TOKEN = 1 << 5;
        const CREATE_KEY = 1 << 6;
        const SET_IAM = 1 << 7;
        const WORKLOAD_IAM = 1 << 8;
        const SCOPE_IAM = 1 << 9;
        const ACCOUNT_IAM = 1 << 10;
        /// Pass Identity-Aware Proxy in front of a web resource.
        const IAP_ACCESS = 1 << 11;
    }
}

impl Caps {
    pub const NONE: Caps = Caps::empty();

    /// Capabilities that give control of a service account: using it, or changing its IAM
    /// policy to grant oneself that (`iam.serviceAccounts.setIamPolicy`).
    pub const CONTROL_ACCOUNT: Caps = Self::IMPERSONATE.union(Self::ACCOUNT_IAM);

    /// Any `setIamPolicy`.
    pub const ANY_SET_IAM: Caps = Self::SET_IAM
        .union(Self::WORKLOAD_IAM)
        .union(Self::SCOPE_IAM)
        .union(Self::ACCOUNT_IAM);

    /// Capabilities that let the holder change who can invoke a workload: its own IAM policy,
    /// or the policy of a project, folder or organization above it (which can grant the first).
    pub const IAM_ADMIN: Caps = Self::WORKLOAD_IAM.union(Self::SCOPE_IAM);

    /// Capabilities that let the holder use a service account's identity.
    pub const IMPERSONATE: Caps = Self::ACT_AS
        .union(Self::GET_TOKEN)
        .union(Self::ID_TOKEN)
        .union(Self::CREATE_KEY);

    /// Maps a custom role's permission list.
    pub fn from_permissions<'a>(permissions: impl IntoIterator<Item = &'a str>) -> Caps {
        permissions.into_iter().fold(Caps::NONE, |caps, p| {
            caps | match p {
                "run.routes.invoke" => Caps::INVOKE,
                "run.jobs.run" | "run.jobs.runWithOverrides" => Caps::RUN_JOB,
                "run.services.update" | "run.jobs.update" | "run.workerpools.update" => {
                    Caps::MODIFY
                }
                "iam.serviceAccounts.actAs" => Caps::ACT_AS,
                "iam.serviceAccounts.getAccessToken"
                | "iam.serviceAccounts.signBlob"
                | "iam.serviceAccounts.signJwt"
                | "iam.serviceAccounts.implicitDelegation" => Caps::GET_TOKEN,
                "iam.serviceAccounts.getOpenIdToken" => Caps::ID_TOKEN,
                "iam.serviceAccountKeys.create" => Caps::CREATE_KEY,
                "run.services.setIamPolicy"
                | "run.jobs.setIamPolicy"
                | "run.workerpools.setIamPolicy" => Caps::WORKLOAD_IAM,
                "resourcemanager.projects.setIamPolicy"
                | "resourcemanager.folders.setIamPolicy"
                | "resourcemanager.organizations.setIamPolicy" => Caps::SCOPE_IAM,
                "iam.serviceAccounts.setIamPolicy" => Caps::ACCOUNT_IAM,
                "iap.webServiceVersions.accessViaIAP" => Caps::IAP_ACCESS,
                p if p.ends_with(".setIamPolicy") => Caps::SET_IAM,
                _ => Caps::NONE,
            }
        })
    }

    /// Short names of the capabilities, for reports.
    pub fn names(self) -> Vec<&'static str> {
        [
            (Caps::INVOKE, "invoke"),
            (Caps::RUN_JOB, "run jobs"),
            (Caps::MODIFY, "deploy"),
            (Caps::ACT_AS, "actAs"),
            (Caps::GET_TOKEN, "mint access tokens"),
            (Caps::ID_TOKEN, "mint ID tokens"),
            (Caps::CREATE_KEY, "create keys"),
            (Caps::SET_IAM, "set IAM policy"),
            (Caps::WORKLOAD_IAM, "set Cloud Run IAM policy"),
            (
                Caps::SCOPE_IAM,
                "set project/folder/organization IAM policy",
            ),
            (Caps::ACCOUNT_IAM, "set service account IAM policy"),
            (Caps::IAP_ACCESS, "pass IAP"),
        ]
        .into_iter()
        .filter(|(c, _)| self.contains(*c))
        .map(|(_, n)| n)
        .collect()
    }
}

const SERVICE: Caps = Caps::INVOKE.union(Caps::RUN_JOB);
const DEVELOPER: Caps = SERVICE.union(Caps::MODIFY);

/// The predefined roles that carry capabilities runguard reasons about.
const PREDEFINED: &[(&str, Caps)] = &[
    ("roles/backupdr.computeEngineOperator", Caps::ACT_AS),
    (
        "roles/cloudfunctions.admin",
        SERVICE.union(Caps::WORKLOAD_IAM),
    ),
    ("roles/cloudfunctions.developer", SERVICE),
    ("roles/cloudfunctions.editor", SERVICE),
    (
        "roles/editor",
        DEVELOPER.union(Caps::ACT_AS).union(Caps::CREATE_KEY),
    ),
    ("roles/firebase.admin", SERVICE.union(Caps::WORKLOAD_IAM)),
    (
        "roles/firebase.developAdmin",
        SERVICE.union(Caps::WORKLOAD_IAM),
    ),
    (
        "roles/iam.admin",
        Caps::ACT_AS
            .union(Caps::CREATE_KEY)
            .union(Caps::ACCOUNT_IAM),
    ),
    ("roles/iam.dataScientist", SERVICE.union(Caps::ACT_AS)),
    ("roles/iam.databasesAdmin", Caps::ACT_AS),
    ("roles/iam.devOps", SERVICE.union(Caps::ACT_AS)),
    ("roles/iam.editor", Caps::ACT_AS.union(Caps::CREATE_KEY)),
    ("roles/iam.mlEngineer", SERVICE),
    (
        "roles/iam.securityAdmin",
        Caps::WORKLOAD_IAM
            .union(Caps::SCOPE_IAM)
            .union(Caps::ACCOUNT_IAM)
            .union(Caps::SET_IAM),
    ),
    ("roles/iam.serviceAccountAdmin", Caps::ACCOUNT_IAM),
    ("roles/iam.serviceAccountKeyAdmin", Caps::CREATE_KEY),
    ("roles/iam.serviceAccountOpenIdTokenCreator", Caps::ID_TOKEN),
    (
        "roles/iam.serviceAccountTokenCreator",
        Caps::GET_TOKEN.union(Caps::ID_TOKEN),
    ),
    ("roles/iam.serviceAccountUser", Caps::ACT_AS),
    (
        "roles/iam.workloadIdentityUser",
        Caps::GET_TOKEN.union(Caps::ID_TOKEN),
    ),
    // The only predefined role with `iap.webServiceVersions.accessViaIAP` (iam-dataset; owner
    // and editor lack it).
    ("roles/iap.httpsResourceAccessor", Caps::IAP_ACCESS),
    (
        "roles/owner",
        DEVELOPER
            .union(Caps::ACT_AS)
            .union(Caps::CREATE_KEY)
            .union(Caps::ANY_SET_IAM),
    ),
    ("roles/resourcemanager.folderAdmin", Caps::SCOPE_IAM),
    ("roles/resourcemanager.organizationAdmin", Caps::SCOPE_IAM),
    ("roles/resourcemanager.projectIamAdmin", Caps::SCOPE_IAM),
    ("roles/run.admin", DEVELOPER.union(Caps::WORKLOAD_IAM)),
    ("roles/run.developer", DEVELOPER),
    ("roles/run.editor", DEVELOPER),
    ("roles/run.invoker", SERVICE),
    ("roles/run.jobsExecutor", Caps::RUN_JOB),
    ("roles/run.jobsExecutorWithOverrides", Caps::RUN_JOB),
    (
        "roles/run.serviceAgent",
        Caps::INVOKE
            .union(Caps::ACT_AS)
            .union(Caps::GET_TOKEN)
            .union(Caps::ID_TOKEN),
    ),
    ("roles/run.servicesInvoker", Caps::INVOKE),
    ("roles/run.sourceDeveloper", DEVELOPER),
];

/// Capabilities of a predefined role; `None` when the role is not predefined (`projects/...`
/// and `organizations/...` custom roles).
pub fn predefined_caps(role: &str) -> Option<Caps> {
    if !role.starts_with("roles/") {
        return None;
    }
    Some(
        PREDEFINED
            .binary_search_by(|(name, _)| name.cmp(&role))
            .map_or(Caps::NONE, |i| PREDEFINED[i].1),
    )
}

/// A role that makes its holder powerful: basic owner/editor, any `*admin` role, or one that
/// can impersonate service accounts or change IAM.
pub fn is_privileged(role: &str, caps: Caps) -> bool {
    role == "roles/owner"
        || role == "roles/editor"
        || role.to_ascii_lowercase().ends_with("admin")
        || caps.intersects(Caps::IMPERSONATE | Caps::ANY_SET_IAM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(PREDEFINED.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn known_facts() {
        let editor = predefined_caps("roles/editor").unwrap();
        assert!(editor.contains(Caps::INVOKE) && editor.contains(Caps::ACT_AS));
        assert!(!editor.intersects(Caps::ANY_SET_IAM));
        // Who can change a workload's IAM, directly or from the project (provider-schema §6.2).
        for admin in [
            "roles/run.admin",
            "roles/owner",
            "roles/iam.securityAdmin",
            "roles/resourcemanager.projectIamAdmin",
            "roles/cloudfunctions.admin",
        ] {
            assert!(
                predefined_caps(admin).unwrap().intersects(Caps::IAM_ADMIN),
                "{admin}"
            );
        }
        assert!(
            !predefined_caps("roles/run.developer")
                .unwrap()
                .intersects(Caps::IAM_ADMIN)
        );
        assert!(
            predefined_caps("roles/iam.serviceAccountAdmin")
                .unwrap()
                .contains(Caps::ACCOUNT_IAM)
        );
        assert!(
            !predefined_caps("roles/run.admin")
                .unwrap()
                .contains(Caps::ACT_AS)
        );
        assert!(
            !predefined_caps("roles/run.invoker")
                .unwrap()
                .contains(Caps::MODIFY)
        );
        assert_eq!(predefined_caps("roles/viewer"), Some(Caps::NONE));
        assert_eq!(predefined_caps("projects/p/roles/custom"), None);
    }

    #[test]
    fn custom_permissions() {
        let caps = Caps::from_permissions(["run.routes.invoke", "run.services.get"]);
        assert_eq!(caps, Caps::INVOKE);
        assert_eq!(
            Caps::from_permissions(["run.services.setIamPolicy"]),
            Caps::WORKLOAD_IAM
        );
        assert_eq!(
            Caps::from_permissions(["resourcemanager.projects.setIamPolicy"]),
            Caps::SCOPE_IAM
        );
        assert_eq!(
            Caps::from_permissions(["iam.serviceAccounts.setIamPolicy"]),
            Caps::ACCOUNT_IAM
        );
        assert_eq!(
            Caps::from_permissions(["storage.buckets.setIamPolicy"]),
            Caps::SET_IAM
        );
        assert!(is_privileged(
            "projects/p/roles/x",
            Caps::from_permissions(["iam.serviceAccounts.actAs"])
        ));
        assert!(is_privileged("roles/storage.admin", Caps::NONE));
        assert_eq!(
            Caps::from_permissions(["iap.webServiceVersions.accessViaIAP"]),
            Caps::IAP_ACCESS
        );
        assert_eq!(
            predefined_caps("roles/iap.httpsResourceAccessor"),
            Some(Caps::IAP_ACCESS)
        );
        assert!(
            !predefined_caps("roles/owner")
                .unwrap()
                .contains(Caps::IAP_ACCESS)
        );
        assert!(!is_privileged("roles/run.invoker", SERVICE));
    }
}
