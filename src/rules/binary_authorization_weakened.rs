use super::{Delta, Direction, Finding, Rule, Severity, finding};
use crate::posture::Setting;

pub static RULE: Rule = Rule {
    id: "binary-authorization-weakened",
    severity: Severity::Medium,
    summary: "Binary Authorization stops being enforced on a workload, or is bypassed",
    headline: (
        "workload weakens Binary Authorization",
        "workloads weaken Binary Authorization",
    ),
    doc: r#"# binary-authorization-weakened

## What it detects
An existing workload whose Binary Authorization goes down the order `enforced` >
`breakglass` > `off`: the `binary_authorization` block (`use_default = true` or a `policy`) is
removed, or a `breakglass_justification` is added (v1: the `run.googleapis.com/binary-authorization`
and `…-breakglass` annotations). Going up is reported as improved.

## Why it matters
Binary Authorization makes Cloud Run refuse images that are not attested (built by your
pipeline, scanned, signed). Removing it, or deploying with break-glass, lets any image run with
the workload's identity and reach.

## Example
```hcl
resource "google_cloud_run_v2_service" "api" {
  binary_authorization {
    use_default              = true
    breakglass_justification = "hotfix, bypassing attestation"
  }
}
```

## Use instead
Keep `use_default = true` (or a named policy) and attest the image; use break-glass only in an
incident, and remove it right after.

## Known limits
With `use_default = true` (v1: `run.googleapis.com/binary-authorization: default`) the project's
`google_binary_authorization_policy` decides: when the plan's policy for the workload's project
lets every image through (default rule `ALWAYS_ALLOW`, or `DRYRUN_AUDIT_LOG_ONLY`), enforcement
counts as `off`, and the policy is named as the cause. A policy outside the plan is not seen.
New workloads are not judged, only changes of existing ones.
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<Finding> {
    let (Some(before), Some(after)) = (d.before, d.after) else {
        return Vec::new();
    };
    // Only known settings compare; BinaryAuthorization's order is its strength.
    let (Some(Setting::Set(b)), Some(Setting::Set(a))) =
        (before.binary_authorization, after.binary_authorization)
    else {
        return Vec::new();
    };
    let message = format!(
        "Binary Authorization goes from `{}` to `{}`",
        b.as_str(),
        a.as_str()
    );
    // A project policy that decides a side is the cause with the workload.
    let policies: Vec<String> = [before, after]
        .iter()
        .filter_map(|p| p.binary_authorization_policy.clone())
        .collect();
    let found = |direction| finding(d, direction, message.clone(), &policies);
    match a.cmp(&b) {
        std::cmp::Ordering::Less => vec![found(Direction::Worsened)],
        std::cmp::Ordering::Greater => vec![found(Direction::Improved)],
        std::cmp::Ordering::Equal => Vec::new(),
    }
}
