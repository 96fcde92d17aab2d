use super::{Delta, Direction, Finding, Rule, Severity, finding};

pub static RULE: Rule = Rule {
    id: "iap-removed",
    severity: Severity::High,
    summary: "IAP stops protecting every path to a service",
    headline: (
        "service loses IAP protection",
        "services lose IAP protection",
    ),
    doc: r#"# iap-removed

## What it detects
A service whose `iap` verdict goes from `true` to `false`: Identity-Aware Proxy no longer gates
every path to it. IAP counts when it is on the service itself (`iap_enabled`, v1 annotation
`run.googleapis.com/iap-enabled`), or on every load-balancer backend that reaches the service
(by any route of the URL map) while the `run.app` URL is closed (ingress not `all`, or
`default_uri_disabled`) and no Cloud Run domain mapping serves it. Gaining IAP is reported as
improved.

## Why it matters
IAP is often the only authentication in front of internal tools that grant `allUsers` the
invoker role behind it. Removing it, or opening a second path around it, publishes the tool.

## Example
```hcl
resource "google_compute_backend_service" "app" {
  # iap { enabled = true ... }   <- removed in this change
}
```

## Use instead
Keep IAP on the backend, or move it onto the service with `iap_enabled = true`, which covers every
ingress path at once.

Who passes IAP is a question of its own: `iap` stays `true` when IAP is on every path but lets
everyone through; `public` then says so, and `iap-public-access` reports `allUsers` or
`allAuthenticatedUsers` gaining IAP access.

## Known limits
A load balancer outside the plan is invisible.
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<Finding> {
    let (Some(before), Some(after)) = (d.before, d.after) else {
        return Vec::new();
    };
    let evidence: Vec<String> = before
        .load_balancers
        .iter()
        .chain(&after.load_balancers)
        .flat_map(|p| p.chain.iter().cloned())
        .chain(
            before
                .domain_mappings
                .iter()
                .chain(&after.domain_mappings)
                .map(|d| d.address.clone()),
        )
        .collect();
    match (before.iap, after.iap) {
        (Some(true), Some(false)) => vec![finding(
            d,
            Direction::Worsened,
            "IAP no longer protects every path to the service".into(),
            &evidence,
        )],
        (Some(false), Some(true)) => vec![finding(
            d,
            Direction::Improved,
            "IAP now protects every path to the service".into(),
            &evidence,
        )],
        _ => Vec::new(),
    }
}
