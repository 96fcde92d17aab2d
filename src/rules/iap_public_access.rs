use super::{Delta, Direction, Finding, Rule, Severity, compare, principal_items};
use crate::iam::MemberKind;

pub static RULE: Rule = Rule {
    id: "iap-public-access",
    severity: Severity::High,
    summary: "allUsers or allAuthenticatedUsers may pass the IAP in front of a service",
    headline: (
        "service's IAP admits anyone or any Google account",
        "services' IAP admits anyone or any Google account",
    ),
    doc: r#"# iap-public-access

## What it detects
`allUsers` or `allAuthenticatedUsers` gains (or loses) the right to pass an Identity-Aware Proxy
gate in front of a service: `iap.webServiceVersions.accessViaIAP`, which
`roles/iap.httpsResourceAccessor` carries (and custom roles may), granted on

- the service's own IAP (`iap_enabled`, v1 annotation `run.googleapis.com/iap-enabled`), by
  `google_iap_web_cloud_run_service_iam_{member,binding,policy}`;
- the IAP of a load balancer's backend service that reaches the service, by
  `google_iap_web_backend_service_iam_*` or `google_iap_web_region_backend_service_iam_*`;
- every IAP-secured web resource of the project, by `google_iap_web_iam_*`, or every global
  backend service of the project, by `google_iap_web_type_compute_iam_*`;
- or the project, folder or organization (`google_project_iam_*`, …), for
  `allAuthenticatedUsers` only: those policies cannot hold `allUsers`.

A `*_iam_policy` replaces the IAP resource's whole policy and a `*_iam_binding` owns its role, as
for every IAM resource. The IAP IAM resource is the cause. A grant with an IAM condition, or on a
resource the plan cannot tie to this service alone, is reported as one that "may not apply".

IAP accepts both members: Google's "Controlling access to websites and apps" lists `allUsers`
for open, public access and `allAuthenticatedUsers` for any signed-in Google account.

## Why it matters
IAP is often the only authentication in front of an internal tool. With `allUsers` among its
accessors it keeps no one out: a request that passes IAP reaches Cloud Run as IAP's own service
agent, which the setup lets invoke the service, so the service is public (`public-invoker`
reports that too). With `allAuthenticatedUsers`, anyone with a Google account, which takes a
minute to create, is let in.

## Example
```hcl
resource "google_iap_web_cloud_run_service_iam_member" "everyone" {
  location               = google_cloud_run_v2_service.admin.location
  cloud_run_service_name = google_cloud_run_v2_service.admin.name
  role                   = "roles/iap.httpsResourceAccessor"
  member                 = "allUsers"
}
```

## Use instead
Grant `roles/iap.httpsResourceAccessor` to the groups that use the tool (`group:admins@…`), or to
`domain:` of your Workspace domain. If the site is meant to be public, remove IAP from it instead
of opening it, so that the intent is visible.

## Known limits
IAP access levels and IAP settings (`google_iap_settings`) are not read, nor is IAP IAM on a
service or backend service outside the plan.
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<Finding> {
    if !d.workload.kind.serves_requests() {
        return Vec::new();
    }
    compare(
        d,
        |p| {
            principal_items(&p.iap_accessors, |a| {
                matches!(
                    a.principal.kind(),
                    MemberKind::AllUsers | MemberKind::AllAuthenticatedUsers
                )
            })
        },
        |item, dir| {
            let who = if item.subject.principal.as_deref() == Some("allUsers") {
                "anyone on the internet"
            } else {
                "any Google account"
            };
            match dir {
                Direction::Worsened => format!("{who} passes IAP in front of it: {}", item.label),
                Direction::Improved => {
                    format!("{who} no longer passes IAP in front of it: {}", item.label)
                }
                Direction::Unchanged => {
                    format!("{who} still passes IAP in front of it: {}", item.label)
                }
            }
        },
    )
}
