//! IAM member strings (`allUsers`, `user:EMAIL`, `principalSet://...`), their classes, and the
//! normalisation the provider applies before comparing them.

/// The class of an IAM member, as far as exposure is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    /// `allUsers`: anyone on the internet, no credentials.
    AllUsers,
    /// `allAuthenticatedUsers`: any Google account or service account.
    AllAuthenticatedUsers,
    /// Many principals at once: `domain:`, `principalSet://.../*`, every service account of a
    /// project, folder or organization.
    Broad,
    /// A named principal, group or service account.
    Named,
}

/// Classifies a (normalised or raw) member string.
pub fn classify(member: &str) -> MemberKind {
    match member {
        "allUsers" => MemberKind::AllUsers,
        "allAuthenticatedUsers" => MemberKind::AllAuthenticatedUsers,
        m if m.starts_with("domain:") => MemberKind::Broad,
        m if m.starts_with("principalSet://")
            && (m.ends_with("/*") || m.ends_with("/type/ServiceAccount")) =>
        {
            MemberKind::Broad
        }
        _ => MemberKind::Named,
    }
}

/// Normalises a member the way the provider compares them: the type prefix is kept as written,
/// the value is lower-cased except for the case-sensitive principal types. A deleted principal
/// (`deleted:serviceAccount:EMAIL?uid=N`, as the API reads it back) keeps the type of the
/// principal it was, as IAM writes it.
pub fn normalize(member: &str) -> String {
    match member.strip_prefix("deleted:") {
        Some(principal) => format!("deleted:{}", normalize_principal(principal)),
        None => normalize_principal(member),
    }
}

/// [`normalize`] for a member that is not a deleted principal's.
fn normalize_principal(member: &str) -> String {
    const CASE_SENSITIVE: [&str; 3] = ["principal:", "principalSet:", "principalHierarchy:"];
    if member == "allUsers" || member == "allAuthenticatedUsers" {
        return member.to_owned();
    }
    if CASE_SENSITIVE.iter().any(|p| member.starts_with(p)) {
        return member.to_owned();
    }
    match member.split_once(':') {
        Some((kind, value)) => format!("{kind}:{}", value.to_lowercase()),
        None => member.to_owned(),
    }
}

/// The `serviceAccount:` member of an email.
pub fn service_account_member(email: &str) -> String {
    format!("serviceAccount:{}", email.to_lowercase())
}

/// The projects of the service agents that predate the `gcp-sa-*` naming and that a Cloud Run
/// plan meets: Cloud Run's own (`serverless-robot-prod`, which a runtime account of another
/// project must let mint its tokens), Compute Engine's, GKE's and Container Registry's. They
/// are Google's projects: nobody else can create an account in them.
const LEGACY_AGENT_PROJECTS: &[&str] = &[
    "serverless-robot-prod",
    "compute-system",
    "container-engine-robot",
    "containerregistry",
];

/// A Google-managed service agent: `service-NUMBER@gcp-sa-*.iam.gserviceaccount.com`, one of the
/// older `service-NUMBER@PROJECT.iam.gserviceaccount.com` of [`LEGACY_AGENT_PROJECTS`], or the
/// Google APIs service agent `NUMBER@cloudservices.gserviceaccount.com`. Google grants them the
/// roles their service needs; nobody outside Google acts as them.
pub fn is_service_agent(member: &str) -> bool {
    let Some(email) = member.strip_prefix("serviceAccount:") else {
        return false;
    };
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let agent_project =
        |project: &str| project.starts_with("gcp-sa-") || LEGACY_AGENT_PROJECTS.contains(&project);
    (local.strip_prefix("service-").is_some_and(digits)
        && domain
            .strip_suffix(".iam.gserviceaccount.com")
            .is_some_and(agent_project))
        || (digits(local) && domain == "cloudservices.gserviceaccount.com")
}

/// The Compute Engine default service account of a project number.
pub fn default_compute_account(number: &str) -> String {
    format!("{number}-compute@developer.gserviceaccount.com")
}

/// The Compute Engine default service account, Cloud Run's default runtime identity:
/// `PROJECT_NUMBER-compute@developer.gserviceaccount.com`.
pub fn is_default_compute_account(email: &str) -> bool {
    email
        .strip_suffix("-compute@developer.gserviceaccount.com")
        .is_some_and(|n| !n.is_empty() && n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(classify("allUsers"), MemberKind::AllUsers);
        assert_eq!(
            classify("allAuthenticatedUsers"),
            MemberKind::AllAuthenticatedUsers
        );
        assert_eq!(classify("domain:acme.com"), MemberKind::Broad);
        assert_eq!(
            classify("principalSet://iam.googleapis.com/locations/global/workforcePools/p/*"),
            MemberKind::Broad
        );
        assert_eq!(
            classify(
                "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/attribute.repo/x"
            ),
            MemberKind::Named
        );
        assert_eq!(classify("user:a@b.c"), MemberKind::Named);
        // Member strings are case-sensitive in their type: this is not allUsers.
        assert_eq!(classify("allusers"), MemberKind::Named);
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize("user:Alice@Acme.com"), "user:alice@acme.com");
        assert_eq!(normalize("principal://X/Y"), "principal://X/Y");
        assert_eq!(normalize("allUsers"), "allUsers");
        // A deleted principal's own type stays as IAM writes it; its email is compared
        // without case, its uid as it is.
        assert_eq!(
            normalize("deleted:serviceAccount:CI-Runner@acme-prod.iam.gserviceaccount.com?uid=109"),
            "deleted:serviceAccount:ci-runner@acme-prod.iam.gserviceaccount.com?uid=109"
        );
        assert_eq!(
            normalize("deleted:user:Ann@Acme.com?uid=7"),
            "deleted:user:ann@acme.com?uid=7"
        );
    }

    #[test]
    fn service_agents() {
        assert!(is_service_agent(
            "serviceAccount:service-123456789012@gcp-sa-cloudbuild.iam.gserviceaccount.com"
        ));
        assert!(is_service_agent(
            "serviceAccount:123456789012@cloudservices.gserviceaccount.com"
        ));
        // Cloud Run's own agent, in a project of Google's from before the `gcp-sa-` names.
        assert!(is_service_agent(
            "serviceAccount:service-123456789012@serverless-robot-prod.iam.gserviceaccount.com"
        ));
        assert!(is_service_agent(
            "serviceAccount:service-123456789012@compute-system.iam.gserviceaccount.com"
        ));
        // Look-alikes that anyone can create are not agents.
        assert!(!is_service_agent(
            "serviceAccount:service-123@acme-prod.iam.gserviceaccount.com"
        ));
        assert!(!is_service_agent(
            "serviceAccount:service-x@gcp-sa-run.iam.gserviceaccount.com"
        ));
        assert!(!is_service_agent(
            "serviceAccount:robot@serverless-robot-prod.iam.gserviceaccount.com"
        ));
        assert!(!is_service_agent(
            "serviceAccount:service-1@serverless-robot-prod-evil.iam.gserviceaccount.com"
        ));
        assert!(!is_service_agent(
            "user:service-1@gcp-sa-run.iam.gserviceaccount.com"
        ));
    }

    #[test]
    fn default_compute_account() {
        assert!(is_default_compute_account(
            "123456789012-compute@developer.gserviceaccount.com"
        ));
        assert!(!is_default_compute_account(
            "api@acme.iam.gserviceaccount.com"
        ));
        assert!(!is_default_compute_account(
            "x-compute@developer.gserviceaccount.com"
        ));
    }
}
