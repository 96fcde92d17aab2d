use super::public_invoker::{ExposureRule, transition};
use super::{Delta, Direction, Finding, Rule, Severity, finding};
use crate::graph::Principal;
use crate::inventory::WorkloadKind;
use crate::posture::{Posture, Verdict};

pub static RULE: Rule = Rule {
    id: "public-exposure-unknown",
    severity: Severity::Medium,
    summary: "Whether a service becomes public cannot be known at plan time",
    headline: (
        "service may become public (unknown at plan time)",
        "services may become public (unknown at plan time)",
    ),
    doc: r#"# public-exposure-unknown

## What it detects
A service whose `public` verdict becomes `unknown`: the answer depends on a value Terraform only
learns at apply, or on something outside the plan. Typical causes:

- an invoker member that is unknown at plan time and whose configuration reference cannot be
  followed (for example it comes from a `local` value);
- `allUsers` granted through a role or IAM condition whose effect is unknown;
- ingress `internal-and-cloud-load-balancing` with `allUsers`, and no load balancer in the plan;
- IAM granted on a service that this plan does not manage.

It is reported as improved when an unknown verdict becomes a proven `no` (or the service is
deleted), and, with `--all`, as unchanged when it stays unknown. A service that was public and
whose exposure becomes unknown is reported by `public-invoker` as improved, with a message that
says it is now unknown; see `runguard explain public-invoker` for every transition.

Its severity is `medium`, and `high` when this plan is what opens the question: the open
invoker (`allUsers` holding an invoker role, or the invoker check disabled, either of them
certain or possible) is new in this plan, or the path from the internet becomes unknown where it
was closed (`no`) or did not exist. Then the default gate (`--fail-on high`) stops, because a
reviewer must look. An unknown principal on a service that was already reachable stays `medium`.

## Why it matters
Other scanners drop unknown values and pass the plan. runguard never takes an unknown as safe: a
reviewer should confirm what the value will be.

## Example
```hcl
resource "google_cloud_run_v2_service_iam_member" "caller" {
  name   = google_cloud_run_v2_service.api.name
  role   = "roles/run.invoker"
  member = local.caller # not visible in plan JSON
}
```

## Use instead
Use values that are known at plan time for IAM members (literal strings, variables, or
`google_service_account.x.member`), or check the apply output and accept the finding.

## Known limits
The rule says only that the answer is open; the report's `unresolved` section says why.
"#,
    check,
};

/// The grants that leave the answer open: an unknown principal, or a grant that only might
/// apply.
fn uncertain_grants(p: &Posture) -> Vec<String> {
    p.invokers
        .iter()
        .flat_map(|i| {
            let unknown = i.principal == Principal::Unknown;
            i.grants
                .iter()
                .filter(move |g| unknown || !g.certain)
                .map(|g| g.address.to_string())
        })
        .collect()
}

/// The plan itself opens the question: the open invoker (`allUsers` or a disabled check,
/// certain or possible) is new, or the path from the internet becomes unknown where it was
/// closed or absent.
fn opened_by_this_plan(before: Option<&Posture>, after: &Posture) -> bool {
    let was = |f: fn(&Posture) -> Verdict| before.map_or(Verdict::No, f);
    let new_open_invoker =
        after.anyone_allowed != Verdict::No && after.anyone_allowed > was(|p| p.anyone_allowed);
    let new_unknown_path =
        after.reachable == Verdict::Unknown && was(|p| p.reachable) == Verdict::No;
    new_open_invoker || new_unknown_path
}

fn check(d: &Delta) -> Vec<Finding> {
    if d.workload.kind != WorkloadKind::Service {
        return Vec::new();
    }
    let before = d.before.map(|p| p.public);
    let after = d.after.map(|p| p.public);
    let Some((ExposureRule::ExposureUnknown, direction)) = transition(before, after) else {
        return Vec::new();
    };
    let reasons = |p: &Posture| p.public_reasons.join("; ");
    let (message, evidence) = match (direction, d.after) {
        (Direction::Unchanged, Some(p)) => (
            format!("public exposure stays unknown at plan time: {}", reasons(p)),
            Vec::new(),
        ),
        (Direction::Worsened, Some(p)) => {
            let message = format!(
                "may become publicly invokable; it cannot be known at plan time: {}",
                reasons(p)
            );
            let mut f = finding(d, direction, message, &uncertain_grants(p));
            if opened_by_this_plan(d.before, p) {
                f.severity = Some(Severity::High);
            }
            return vec![f];
        }
        (Direction::Improved, None) => (
            "the service whose public exposure was unknown is deleted".to_owned(),
            Vec::new(),
        ),
        (Direction::Improved, Some(_)) => (
            "public exposure was unknown and is now known not to be public".to_owned(),
            Vec::new(),
        ),
        _ => return Vec::new(),
    };
    vec![finding(d, direction, message, &evidence)]
}
