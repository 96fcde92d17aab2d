use super::{Delta, Direction, Finding, Rule, Severity, finding};
use crate::inventory::Ingress;
use crate::posture::IngressValue;

pub static RULE: Rule = Rule {
    id: "ingress-widened",
    severity: Severity::Medium,
    summary: "A service accepts traffic from more networks than before",
    headline: ("service widens its ingress", "services widen their ingress"),
    doc: r#"# ingress-widened

## What it detects
A change of a service's ingress setting towards the internet, in the order `internal` <
`internal-and-cloud-load-balancing` < `all` (v2 `ingress` enum `INGRESS_TRAFFIC_*`, v1
`run.googleapis.com/ingress` annotation, a gen2 function's `service_config.ingress_settings`
`ALLOW_INTERNAL_ONLY` < `ALLOW_INTERNAL_AND_GCLB` < `ALLOW_ALL`). Narrowing is reported as
improved.

## Why it matters
Ingress is the network half of exposure: with `all`, the `run.app` URL answers from anywhere,
and only IAM (or IAP) stands between the internet and the code.

## Example
```hcl
resource "google_cloud_run_v2_service" "api" {
  ingress = "INGRESS_TRAFFIC_ALL" # was INGRESS_TRAFFIC_INTERNAL_ONLY
}
```

## Use instead
Keep `INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER` and publish through a load balancer with IAP or
Cloud Armor; or `default_uri_disabled = true`.

## Known limits
An ingress that is unknown at plan time is not compared; it shows as `unknown` in the posture.
A new service is not compared either; its exposure is judged by `public-invoker`.
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<Finding> {
    let (Some(before), Some(after)) = (d.before, d.after) else {
        return Vec::new();
    };
    let (Some(IngressValue::Set(b)), Some(IngressValue::Set(a))) = (before.ingress, after.ingress)
    else {
        return Vec::new();
    };
    let rank = |i: Ingress| match i {
        Ingress::Internal => 0,
        Ingress::InternalAndLoadBalancing => 1,
        Ingress::All => 2,
    };
    let message = format!("ingress changes from `{}` to `{}`", b.as_str(), a.as_str());
    match rank(a).cmp(&rank(b)) {
        std::cmp::Ordering::Greater => vec![finding(d, Direction::Worsened, message, &[])],
        std::cmp::Ordering::Less => vec![finding(d, Direction::Improved, message, &[])],
        std::cmp::Ordering::Equal => Vec::new(),
    }
}
