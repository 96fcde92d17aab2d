//! A workload's posture as labelled before → after rows, shared by the text and Markdown views:
//! which rows differ, and whether the after side is worse, better, or only different. The
//! values are plain text; each renderer escapes them for its medium.

use foldhash::HashSet;

use super::WorkloadEntry;
use crate::inventory::WorkloadKind;
use crate::inventory::controls::BinaryAuthorization;
use crate::posture::{HeldRole, IngressValue, Posture, Setting};

/// How a row moves between the sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Same,
    Worse,
    Better,
    /// Different, with no better or worse (another account, another egress setting).
    Changed,
}

/// One posture row. A missing side reads `(absent)`.
#[derive(Debug, Clone)]
pub struct Row {
    pub label: &'static str,
    pub before: String,
    pub after: String,
    pub trend: Trend,
}

const ABSENT: &str = "(absent)";

/// Every row that applies to the workload's kind, in a fixed order.
pub fn posture_rows(w: &WorkloadEntry) -> Vec<Row> {
    let (before, after) = (w.before.as_ref(), w.after.as_ref());
    let mut rows = Vec::new();
    let push = |rows: &mut Vec<Row>,
                label: &'static str,
                show: &dyn Fn(&Posture) -> String,
                risk: Risk| {
        let cell = |p: Option<&Posture>| p.map_or_else(|| ABSENT.to_owned(), show);
        let (b, a) = (cell(before), cell(after));
        let trend = match (before, after) {
            _ if b == a => Trend::Same,
            (Some(x), Some(y)) => risk.trend(x, y),
            (None, Some(_)) => Trend::Changed,
            (Some(_), None) => Trend::Better,
            (None, None) => Trend::Same,
        };
        rows.push(Row {
            label,
            before: b,
            after: a,
            trend,
        });
    };
    push(
        &mut rows,
        "public",
        &|p| p.public.as_str().into(),
        Risk::Rank(&|p| p.public as u8),
    );
    rows.push(set_row(w, "invokers", &|p| {
        p.invokers
            .iter()
            .map(|i| i.principal.display().to_owned())
            .collect()
    }));
    rows.push(set_row(w, "can change IAM", &|p| {
        p.iam_admins
            .iter()
            .map(|a| {
                let roles: Vec<&str> = a.grants.iter().map(|g| &*g.role).collect();
                format!("{} ({})", a.principal.display(), roles.join(", "))
            })
            .collect()
    }));
    // A gen2 function has ingress, IAP and load balancers, but no setting for its invoker check
    // or its run.app URL.
    let service = w.id.kind == WorkloadKind::Service;
    if service {
        push(
            &mut rows,
            "invoker IAM check",
            &|p| on_off(p.iam_check_disabled, "disabled", "enforced"),
            Risk::Rank(&|p| rank_bool(p.iam_check_disabled, true)),
        );
    }
    if w.id.kind.serves_requests() {
        push(
            &mut rows,
            "ingress",
            &|p| p.ingress.map_or("n/a", IngressValue::as_str).into(),
            Risk::Rank(&|p| match p.ingress {
                Some(IngressValue::Set(i)) => i as u8 * 2,
                Some(IngressValue::Unknown) | None => 3,
            }),
        );
        if service {
            push(
                &mut rows,
                "run.app URL",
                &|p| on_off(p.default_uri_disabled, "disabled", "enabled"),
                Risk::Rank(&|p| rank_bool(p.default_uri_disabled, false)),
            );
        }
        push(
            &mut rows,
            "IAP",
            &|p| on_off(p.iap, "on", "off"),
            Risk::Rank(&|p| rank_bool(p.iap, false)),
        );
        // Who passes IAP, where IAP gates some path: the row appears only then.
        let gated = |p: Option<&Posture>| p.is_some_and(|p| !p.iap_accessors.is_empty());
        if gated(before) || gated(after) {
            rows.push(set_row(w, "passes IAP", &|p| {
                p.iap_accessors
                    .iter()
                    .map(|a| a.principal.display().to_owned())
                    .collect()
            }));
        }
        push(
            &mut rows,
            "load balancers",
            &|p| {
                list(p.load_balancers.iter().map(|l| {
                    format!(
                        "{} (external: {}, IAP: {}{})",
                        l.forwarding_rule,
                        yes_no(l.external),
                        yes_no(l.iap),
                        if l.certain { "" } else { ", may not reach it" }
                    )
                }))
            },
            Risk::Changed,
        );
        // Few services have a domain mapping: the row appears only where one does.
        let mapped = |p: Option<&Posture>| p.is_some_and(|p| !p.domain_mappings.is_empty());
        if mapped(before) || mapped(after) {
            push(
                &mut rows,
                "domain mappings",
                &|p| {
                    list(p.domain_mappings.iter().map(|d| {
                        format!(
                            "{} ({}{})",
                            d.domain.as_deref().unwrap_or("(unknown)"),
                            d.address,
                            if d.certain { "" } else { ", may not serve it" }
                        )
                    }))
                },
                Risk::Changed,
            );
        }
    }
    push(
        &mut rows,
        "identity",
        &|p| p.identity.display(),
        Risk::Changed,
    );
    rows.push(set_row(w, "privileged roles", &privileged));
    // Shown only where a side has some: most identities hold none, and "none" says nothing.
    if [before, after]
        .into_iter()
        .flatten()
        .any(|p| !resource_roles(p).is_empty())
    {
        rows.push(set_row(w, "resource roles", &resource_roles));
    }
    rows.push(set_row(w, "can act as identity", &impersonators));
    rows.push(set_row(w, "keys", &|p| {
        p.identity
            .keys
            .iter()
            .map(|k| {
                if !k.certain && k.via.is_empty() {
                    format!("{} (for {}, may not apply)", k.address, k.account)
                } else if k.via.is_empty() {
                    k.address.clone()
                } else {
                    format!("{} (for {}{})", k.address, k.account, via_text(&k.via[1..]))
                }
            })
            .collect()
    }));
    rows.push(set_row(w, "plaintext secrets", &secrets));
    push(
        &mut rows,
        "Binary Authorization",
        &|p| p.binary_authorization.map_or("n/a", |b| b.as_str()).into(),
        Risk::Rank(&|p| match p.binary_authorization {
            Some(Setting::Set(BinaryAuthorization::Enforced)) => 0,
            Some(Setting::Set(BinaryAuthorization::Breakglass)) => 1,
            Some(Setting::Set(BinaryAuthorization::Off)) => 3,
            _ => 2,
        }),
    );
    push(
        &mut rows,
        "VPC egress",
        &|p| p.vpc_egress.map_or("n/a", |e| e.as_str()).into(),
        Risk::Changed,
    );
    rows
}

/// A row whose value is a set, one item per line: on the after side an added item is marked
/// `+`, on the before side a removed one `-`. Anything added is worse; only removals are better.
fn set_row(w: &WorkloadEntry, label: &'static str, items: &dyn Fn(&Posture) -> Vec<String>) -> Row {
    let (before, after) = (w.before.as_ref().map(items), w.after.as_ref().map(items));
    let empty = Vec::new();
    let (b, a) = (
        before.as_ref().unwrap_or(&empty),
        after.as_ref().unwrap_or(&empty),
    );
    let (b_set, a_set): (HashSet<&String>, HashSet<&String>) =
        (b.iter().collect(), a.iter().collect());
    let cell = |side: &Option<Vec<String>>, other: &HashSet<&String>, mark: &str| match side {
        None => ABSENT.to_owned(),
        Some(items) if items.is_empty() => "none".to_owned(),
        // Both sides present: mark what differs. A created or deleted workload has nothing to
        // compare with, so its items stand unmarked.
        Some(items) if before.is_some() && after.is_some() => list(items.iter().map(|i| {
            if other.contains(i) {
                format!("  {i}")
            } else {
                format!("{mark} {i}")
            }
        })),
        Some(items) => list(items.iter().cloned()),
    };
    let trend = match (&before, &after) {
        _ if b_set == a_set && before.is_some() == after.is_some() => Trend::Same,
        (Some(_), Some(_)) if !a_set.is_subset(&b_set) => Trend::Worse,
        (Some(_), Some(_)) => Trend::Better,
        (None, _) => Trend::Changed,
        (Some(_), None) => Trend::Better,
    };
    Row {
        label,
        before: cell(&before, &a_set, "-"),
        after: cell(&after, &b_set, "+"),
        trend,
    }
}

/// How to tell worse from better for one row.
enum Risk<'f> {
    /// A higher rank is worse.
    Rank(&'f dyn Fn(&Posture) -> u8),
    Changed,
}

impl Risk<'_> {
    fn trend(&self, before: &Posture, after: &Posture) -> Trend {
        match self {
            Risk::Rank(rank) => match rank(after).cmp(&rank(before)) {
                std::cmp::Ordering::Greater => Trend::Worse,
                std::cmp::Ordering::Less => Trend::Better,
                std::cmp::Ordering::Equal => Trend::Changed,
            },
            Risk::Changed => Trend::Changed,
        }
    }
}

/// Ranks a known-or-unknown flag: the risky value highest, unknown in between.
fn rank_bool(value: Option<bool>, risky: bool) -> u8 {
    match value {
        Some(v) if v == risky => 2,
        None => 1,
        Some(_) => 0,
    }
}

fn on_off(value: Option<bool>, yes: &str, no: &str) -> String {
    match value {
        Some(true) => yes.into(),
        Some(false) => no.into(),
        None => "unknown".into(),
    }
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

fn privileged(p: &Posture) -> Vec<String> {
    p.identity
        .roles
        .iter()
        .filter(|r| r.privileged)
        .map(role_text)
        .chain(p.identity.roles_unknown.map(str::to_owned))
        .chain(p.identity.roles_mitigated.clone())
        .collect()
}

/// Every role the identity holds on one resource (a secret, a bucket…), privileged or not:
/// what the workload's code can reach.
fn resource_roles(p: &Posture) -> Vec<String> {
    p.identity
        .roles
        .iter()
        .filter(|r| r.resource.is_some())
        .map(role_text)
        .collect()
}

/// `roles/editor (project)`, `roles/storage.admin on google_storage_bucket b`, with `may not
/// apply` when the plan cannot prove the grant is the account's.
fn role_text(r: &HeldRole) -> String {
    match (&r.resource, r.certain) {
        (Some(_), true) => r.label(),
        (Some(_), false) => format!("{} (may not apply)", r.label()),
        (None, true) => format!("{} ({})", r.role, r.level),
        (None, false) => format!("{} ({}, may not apply)", r.role, r.level),
    }
}

fn impersonators(p: &Posture) -> Vec<String> {
    p.identity
        .impersonators
        .iter()
        .map(|i| {
            format!(
                "{} ({}){}{}",
                i.principal.display(),
                i.role,
                via_text(&i.via),
                if i.certain { "" } else { ", may not apply" }
            )
        })
        .collect()
}

fn secrets(p: &Posture) -> Vec<String> {
    p.plaintext_secrets
        .iter()
        .map(|s| format!("{} in {} ({})", s.name, s.container, s.reason))
        .collect()
}

/// One item per line, or `none`. An item's own control characters (a newline in a member
/// string) become visible escapes, so that it stays one line and cannot pose as several items.
fn list(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items
        .map(|i| match super::escape::terminal(&i) {
            // The usual case copies nothing: a row can list a million members.
            std::borrow::Cow::Borrowed(_) => i,
            std::borrow::Cow::Owned(escaped) => escaped,
        })
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join("\n")
    }
}

/// The accounts a chain of impersonation goes through, runtime account last.
fn via_text(via: &[String]) -> String {
    via.iter().map(|a| format!(" → {a}")).collect()
}
