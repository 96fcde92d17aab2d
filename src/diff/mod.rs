//! Compares the two sides of every workload with every rule, and orders the changes once.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;
use std::sync::Arc;

use foldhash::HashMap;
use similar::TextDiff;

use crate::graph::{Authority, IamIndex, ResolvedGrant, SideGraph};
use crate::iam::Level;
use crate::posture::{Posture, WorkloadId};
use crate::rules::{Delta, Direction, Memo, MemoKey, RULES, Rule, Severity, Subject};
use sha2::{Digest, Sha256};

/// One cause and its consequences: a rule, a direction, the resources a reviewer would change,
/// the subject, and every workload it affects. A project-level grant that reaches a thousand
/// workloads is one finding listing them all.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule that found it.
    pub rule: &'static Rule,
    /// The rule's severity, or the observation's override.
    pub severity: Severity,
    /// Whether the plan makes the posture worse or better.
    pub direction: Direction,
    /// The resources a reviewer would change, sorted.
    pub causes: Vec<String>,
    /// Who or what the finding is about.
    pub subject: Subject,
    /// The affected workload addresses (resource ids for workloads outside the plan), sorted.
    /// Each address is one allocation shared by every finding that lists it: a project-level
    /// grant's findings list every workload of the project, a hundred times over.
    pub workloads: Vec<Arc<str>>,
    /// What happens, in terms of the cause.
    pub message: String,
    /// The other addresses behind the finding (load-balancer chains, keys, granting resources
    /// of a chain), sorted; causes and workloads are in their own fields and not repeated.
    pub evidence: Vec<String>,
    /// Stable across runs, resource order and unrelated renames: see `diff::fingerprint`.
    pub fingerprint: String,
    /// Set when a `runguard.toml` entry accepts the finding: it is still shown, and never
    /// counts towards the gate.
    pub accepted: Option<Accepted>,
}

/// Why a finding is accepted: the `[[accept]]` entry's reason and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The accept entry's reason.
    pub reason: String,
    /// The line of the entry's `[[accept]]` header in the configuration file.
    pub line: usize,
}

/// How the bindings of an authoritative IAM resource (`*_iam_policy`, `*_iam_binding`) change:
/// a unified diff of its bindings, one `role member` per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDiff {
    /// The authoritative IAM resource's address.
    pub address: String,
    /// Its bindings before and after, as a unified diff.
    pub diff: String,
}

/// Both sides of one workload.
pub struct Pair<P = Posture> {
    pub id: WorkloadId,
    pub before: Option<P>,
    pub after: Option<P>,
}

/// Pairs the postures of both sides by workload address, in address order (moving them, not
/// copying: a posture can list hundreds of thousands of invokers). Both sides are already in
/// that order, so they are merged; of two workloads of one side with the same address, the
/// later one stands, and the after side names the workload's kind and API.
pub fn pair<P>(before: BTreeMap<WorkloadId, P>, after: BTreeMap<WorkloadId, P>) -> Vec<Pair<P>> {
    let mut pairs = Vec::with_capacity(before.len().max(after.len()));
    let mut before = before.into_iter().peekable();
    let mut after = after.into_iter().peekable();
    loop {
        let next = match (before.peek(), after.peek()) {
            (None, None) => break,
            (Some((b, _)), Some((a, _))) => b.address.cmp(&a.address),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
        };
        let before_side = (next != Ordering::Greater).then(|| last_of_address(&mut before));
        let after_side = (next != Ordering::Less).then(|| last_of_address(&mut after));
        let (id, before, after) = match (before_side, after_side) {
            (Some((id, b)), None) => (id, Some(b), None),
            (before_side, Some((id, a))) => (id, before_side.map(|(_, b)| b), Some(a)),
            (None, None) => unreachable!("one side has the next address"),
        };
        pairs.push(Pair { id, before, after });
    }
    pairs
}

/// The last of the workloads at the head of `side` that share its first one's address, the
/// others passed over.
fn last_of_address<P>(
    side: &mut std::iter::Peekable<impl Iterator<Item = (WorkloadId, P)>>,
) -> (WorkloadId, P) {
    let mut last = side.next().expect("a workload at the head");
    while let Some(next) = side.next_if(|(id, _)| id.address == last.0.address) {
        last = next;
    }
    last
}

/// What makes two observations one finding: the same rule, direction, severity, causes, subject
/// and message. The message is part of it so that findings are never merged across different
/// statements; rules word messages by cause, never by workload, so that they group.
type GroupKey = (
    &'static str,
    Direction,
    Severity,
    Vec<String>,
    Subject,
    String,
);

/// The observations of one group: its rule, the workloads observed, and the other evidence.
type Group = (&'static Rule, Vec<Arc<str>>, BTreeSet<String>);

/// The groups observed so far, each with its place in the order first seen, so that a rule's
/// memo (see `Rule::memo`) can name the groups a workload joins.
#[derive(Default)]
struct Groups {
    places: HashMap<GroupKey, usize>,
    groups: Vec<Group>,
}

impl Groups {
    /// The place of the group with `key`, made empty if new.
    fn place(&mut self, key: GroupKey, rule: &'static Rule) -> usize {
        let groups = &mut self.groups;
        *self.places.entry(key).or_insert_with(|| {
            groups.push((rule, Vec::new(), BTreeSet::new()));
            groups.len() - 1
        })
    }

    fn into_entries(self) -> impl Iterator<Item = (GroupKey, Group)> {
        let mut groups: Vec<Option<Group>> = self.groups.into_iter().map(Some).collect();
        self.places
            .into_iter()
            .filter_map(move |(key, place)| groups[place].take().map(|group| (key, group)))
    }

    /// The groups in two shares, by a hash of their keys that is the same in every `Groups`:
    /// the observations of one key, wherever they were made, fall in the same share.
    fn into_shares(self) -> [Vec<(GroupKey, Group)>; 2] {
        let hasher = foldhash::fast::FixedState::default();
        let mut shares = [Vec::new(), Vec::new()];
        for (key, group) in self.into_entries() {
            let share = usize::from(hasher.hash_one(&key) & 1 == 1);
            shares[share].push((key, group));
        }
        shares
    }
}

/// Runs every rule over `pairs` and groups what they observe by cause; with `reuse`, a rule's
/// findings on one workload serve every later workload with the same memo key (`Rule::memo`).
fn observe(pairs: &[Pair], include_unchanged: bool, reuse: bool) -> Groups {
    let mut groups = Groups::default();
    // The groups that a rule's findings (or their shared part) on a workload joined, by the
    // rule and its memo key: a later workload with the same key joins them without running it.
    let mut memo: HashMap<&'static str, HashMap<MemoKey, Vec<usize>>> = HashMap::default();
    for p in pairs {
        // The address every finding of this workload lists, allocated once.
        let address: Arc<str> = Arc::from(p.id.address.as_str());
        let delta = Delta {
            workload: &p.id,
            before: p.before.as_ref(),
            after: p.after.as_ref(),
            include_unchanged,
        };
        let observed = Observed {
            pair: p,
            address: &address,
            include_unchanged,
        };
        for rule in RULES {
            // What the memo decides, its key, and what runs on every workload besides.
            let (decided, key, rest) = match rule.memo.as_ref().filter(|_| reuse) {
                Some(Memo::Whole(key)) => (rule.check, key(&delta), None),
                Some(Memo::Split { key, shared, rest }) => match key(&delta) {
                    Some(key) => (*shared, Some(key), Some(*rest)),
                    None => (rule.check, None, None),
                },
                None => (rule.check, None, None),
            };
            let remembered = key
                .as_ref()
                .and_then(|k| memo.get(rule.id).and_then(|keys| keys.get(k)));
            if let Some(places) = remembered {
                for &place in places {
                    groups.groups[place].1.push(Arc::clone(&address));
                }
            } else {
                let joined = observed.join(&mut groups, rule, decided(&delta));
                if let (Some(joined), Some(key)) = (joined, key) {
                    memo.entry(rule.id).or_default().insert(key, joined);
                }
            }
            if let Some(rest) = rest {
                observed.join(&mut groups, rule, rest(&delta));
            }
        }
    }
    groups
}

/// One workload as its findings join their groups.
struct Observed<'a> {
    pair: &'a Pair,
    address: &'a Arc<str>,
    include_unchanged: bool,
}

impl Observed<'_> {
    /// Adds the workload to the group of each of `rule`'s findings `found` on it, and returns
    /// those groups' places when another workload with the same memo key may join them as
    /// they are: only what depends on nothing but the key can be reused, not a refusal (the
    /// workload's project's policies) nor a cause that is the workload.
    fn join(
        &self,
        groups: &mut Groups,
        rule: &'static Rule,
        found: Vec<crate::rules::Finding>,
    ) -> Option<Vec<usize>> {
        let p = self.pair;
        let mut reusable = true;
        let mut joined = Vec::new();
        for mut f in found {
            if f.direction == Direction::Unchanged && !self.include_unchanged {
                continue;
            }
            // The org policies that refuse the change are its evidence; the workload and
            // the causes are listed in their own fields.
            let refusing = if f.direction == Direction::Worsened {
                downgrade_if_refused(rule, &mut f, p)
            } else {
                None
            };
            reusable &= refusing.is_none() && !f.causes.contains(&p.id.address);
            let causes = f.causes;
            let rest: Vec<String> = refusing
                .into_iter()
                .flatten()
                .filter(|a| *a != p.id.address && causes.binary_search(a).is_err())
                .collect();
            let key = (
                rule.id,
                f.direction,
                f.severity.unwrap_or(rule.severity),
                causes,
                f.subject,
                f.message,
            );
            let place = groups.place(key, rule);
            let (_, workloads, evidence) = &mut groups.groups[place];
            workloads.push(Arc::clone(self.address));
            evidence.extend(rest);
            joined.push(place);
        }
        reusable.then_some(joined)
    }
}

/// Runs every rule over every workload and groups what they observe by cause. Unchanged-but-risky
/// findings are kept only when asked.
pub fn diff(pairs: &[Pair], include_unchanged: bool) -> Vec<Finding> {
    // Each half of the workloads is observed on its own thread, and then each thread merges one
    // share of the keys from both halves and makes their findings (when there are enough of
    // them): on the IAM-dense plan, merging and settling 2,400 groups of 271,000 workloads took
    // 7-8 ms on one core while the other waited. Workloads and evidence are sorted per finding,
    // and the findings at the end, so neither the halves nor the shares show in the output.
    let (first, second) = pairs.split_at(pairs.len() / 2);
    let (first, second) = crate::parallel::join_if(
        pairs.len() >= crate::parallel::WORKLOADS_WORTH_A_THREAD,
        || observe(first, include_unchanged, true),
        || observe(second, include_unchanged, true),
    );
    let groups = first.groups.len() + second.groups.len();
    let [first_a, first_b] = first.into_shares();
    let [second_a, second_b] = second.into_shares();
    let (mut found, rest) = crate::parallel::join_if(
        groups >= GROUPS_WORTH_A_THREAD,
        || settle(merge(first_a.into_iter().chain(second_a))),
        || settle(merge(first_b.into_iter().chain(second_b))),
    );
    found.extend(rest);
    sort(&mut found);
    found
}

/// The fewest observed groups (both halves' together) that [`diff`] merges and settles on two
/// threads. Merging and settling take about 2 µs a group, a second thread about 100 µs to start
/// and join: the default 10 MB bench plan's 56 groups took 0.11 ms on one thread and 0.18 ms on
/// two, the 100 MB plan's 706 groups 1.48 and 1.03 ms (medians of seven).
const GROUPS_WORTH_A_THREAD: usize = 200;

/// Observed groups merged by key.
fn merge(observed: impl IntoIterator<Item = (GroupKey, Group)>) -> HashMap<GroupKey, Group> {
    let mut groups: HashMap<GroupKey, Group> = HashMap::default();
    for (key, (rule, workloads, evidence)) in observed {
        let (_, all_workloads, all_evidence) = groups
            .entry(key)
            .or_insert_with(|| (rule, Vec::new(), BTreeSet::new()));
        all_workloads.extend(workloads);
        all_evidence.extend(evidence);
    }
    groups
}

/// One finding per group, in no order.
fn settle(groups: HashMap<GroupKey, Group>) -> Vec<Finding> {
    groups
        .into_iter()
        .map(
            |(
                (_, direction, severity, causes, subject, message),
                (rule, mut workloads, evidence),
            )| {
                workloads.sort();
                workloads.dedup();
                // Causes and workloads have fields of their own: evidence holds the rest, so
                // a grant reaching a thousand workloads does not list them twice.
                let evidence: Vec<String> = evidence
                    .into_iter()
                    .filter(|a| causes.binary_search(a).is_err())
                    .filter(|a| {
                        workloads
                            .binary_search_by(|w| (**w).cmp(a.as_str()))
                            .is_err()
                    })
                    .collect();
                Finding {
                    fingerprint: fingerprint(rule.id, &causes, &subject),
                    rule,
                    severity,
                    direction,
                    causes,
                    subject,
                    workloads,
                    message,
                    evidence,
                    accepted: None,
                }
            },
        )
        .collect()
}

/// A worsened finding whose change the plan's own org policy refuses at apply cannot happen as
/// planned: it is kept, at severity `info` so that it never trips the gate, and says why. One
/// whose risk the plan takes away (a default account stripped of Editor) is lowered to `low`.
/// Returns the refusing policies, the finding's evidence (its causes, and so its fingerprint,
/// stay the same), or `None` when nothing refuses it.
fn downgrade_if_refused(
    rule: &Rule,
    f: &mut crate::rules::Finding,
    p: &Pair,
) -> Option<Vec<String>> {
    let after = p.after.as_ref()?;
    let refusal = crate::posture::org_policy::refusal(
        rule.id,
        f.subject.principal.as_deref(),
        p.before.as_ref(),
        after,
    )?;
    if refusal.mitigated {
        // The message says what mitigates it ("mitigated by …").
        f.severity = Some(Severity::Low);
        f.message = format!("{}; {}", f.message, refusal.message);
    } else {
        f.severity = Some(Severity::Info);
        f.message = format!(
            "{}; will be refused at apply: {}",
            f.message, refusal.message
        );
    }
    Some(refusal.policies)
}

/// Most severe first, then by direction, rule, causes, workloads, subject and message: a total
/// order, so output never depends on hashing.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.direction.cmp(&b.direction))
            .then_with(|| a.rule.id.cmp(b.rule.id))
            .then_with(|| a.causes.cmp(&b.causes))
            .then_with(|| a.workloads.cmp(&b.workloads))
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.message.cmp(&b.message))
    });
}

/// A finding's stable identity: SHA-256 over the rule, the causes and the subject, never over
/// message text, ordering or the affected workloads, so that suppressions and sticky comments
/// survive rewording, reordering and a grant reaching one more workload. A cryptographic hash,
/// because cause addresses are chosen by the pull request's author: with a weak hash they could
/// craft an address whose fingerprint collides with an accepted finding's.
pub fn fingerprint(rule: &str, causes: &[String], subject: &Subject) -> String {
    let mut h = Sha256::new();
    let mut field = |s: &str| {
        // Length-prefixed fields: no choice of strings can make two inputs read the same.
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    field("runguard-finding/1");
    field(rule);
    field(&causes.len().to_string());
    for c in causes {
        field(c);
    }
    for part in [
        subject.principal.as_deref(),
        subject.role.as_deref(),
        subject.level.map(Level::as_str),
        subject.account.as_deref(),
    ] {
        match part {
            Some(value) => {
                field("some");
                field(value);
            }
            None => field("none"),
        }
    }
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The bindings diff of every authoritative IAM resource that some change names as evidence
/// and whose bindings differ between the sides, once per resource, sorted by address.
pub fn policy_diffs(
    findings: &[Finding],
    before: &SideGraph,
    after: &SideGraph,
) -> Vec<PolicyDiff> {
    let index = |g: &SideGraph| -> HashMap<String, IamIndex> {
        g.iam_resources()
            .filter(|&(i, _)| g.grants[i].authority != Authority::Member)
            .map(|(i, iam)| (iam.address.to_string(), i))
            .collect()
    };
    let (b_index, a_index) = (index(before), index(after));
    let named: BTreeSet<&str> = findings
        .iter()
        .flat_map(|f| f.causes.iter().chain(&f.evidence).map(String::as_str))
        .filter(|a| b_index.contains_key(*a) && a_index.contains_key(*a))
        .collect();
    named
        .into_iter()
        .filter_map(|address| {
            let b = canonical(&before.grants[b_index[address]])?;
            let a = canonical(&after.grants[a_index[address]])?;
            (b != a).then(|| PolicyDiff {
                address: address.to_owned(),
                diff: unified_diff(&b, &a),
            })
        })
        .collect()
}

/// Lines of context around each change in a bindings diff.
const CONTEXT: usize = 2;

/// The unified diff of two sorted texts of whole lines, byte for byte what `similar` writes for
/// them whole. A binding of a million members that gains one differs in one line, but `similar`
/// hashes every line of both texts before it strips their common ends; so the common leading
/// and trailing lines are cut here first, all but `CONTEXT + 1` of each, and the hunk headers
/// moved down by the leading lines cut. The cut cannot change the diff: Myers strips common
/// ends before anything else, and a change can only slide into them along repeated lines,
/// which sorted texts without a repeated line do not have. Texts with one go whole.
fn unified_diff(before: &str, after: &str) -> String {
    let whole = |b: &str, a: &str| {
        TextDiff::from_lines(b, a)
            .unified_diff()
            .context_radius(CONTEXT)
            .header("before", "after")
            .to_string()
    };
    let b_lines: Vec<&str> = before.split_inclusive('\n').collect();
    let a_lines: Vec<&str> = after.split_inclusive('\n').collect();
    let repeats = |lines: &[&str]| lines.windows(2).any(|w| w[0] == w[1]);
    if repeats(&b_lines) || repeats(&a_lines) {
        return whole(before, after);
    }
    let prefix = b_lines
        .iter()
        .zip(&a_lines)
        .take_while(|(b, a)| b == a)
        .count();
    let suffix = b_lines[prefix..]
        .iter()
        .rev()
        .zip(a_lines[prefix..].iter().rev())
        .take_while(|(b, a)| b == a)
        .count();
    let (head, tail) = (
        prefix.saturating_sub(CONTEXT + 1),
        suffix.saturating_sub(CONTEXT + 1),
    );
    if head == 0 && tail == 0 {
        return whole(before, after);
    }
    let cut = |lines: &[&str]| lines[head..lines.len() - tail].concat();
    whole(&cut(&b_lines), &cut(&a_lines))
        .split_inclusive('\n')
        .map(|line| match line.strip_prefix("@@ -") {
            Some(ranges) => moved_hunk_header(ranges, head),
            None => line.to_owned(),
        })
        .collect()
}

/// `@@ -OLD +NEW @@…` (given without its `@@ -`) with the start of both ranges moved down by
/// `by` lines. A range is `START` or `START,LENGTH`.
fn moved_hunk_header(ranges: &str, by: usize) -> String {
    let moved = |range: &str| {
        let (start, length) = range
            .split_once(',')
            .map_or((range, None), |(s, l)| (s, Some(l)));
        let start = start
            .parse::<usize>()
            .expect("a hunk range starts with a number")
            + by;
        match length {
            Some(length) => format!("{start},{length}"),
            None => start.to_string(),
        }
    };
    let (old, rest) = ranges
        .split_once(" +")
        .expect("a hunk header has a new range");
    let (new, rest) = rest.split_once(' ').expect("a hunk header ends with @@");
    format!("@@ -{} +{} {rest}", moved(old), moved(new))
}

/// The bindings of a grant as sorted `role member` lines; `None` when they are unknown. The
/// lines are written into one buffer and sorted as slices of it: a binding can hold a million
/// members, and a `String` each would be a million allocations.
fn canonical(grant: &ResolvedGrant) -> Option<String> {
    let mut text = String::new();
    let mut lines: Vec<std::ops::Range<usize>> = Vec::new();
    for b in grant.bindings.as_ref()? {
        let condition = if b.conditional { " (conditional)" } else { "" };
        for p in &b.principals {
            let start = text.len();
            // A member's own newline would forge diff lines: it is shown as an escape.
            let member = crate::report::escape::terminal(p.display());
            for part in [b.role.display(), " ", &member, condition, "\n"] {
                text.push_str(part);
            }
            lines.push(start..text.len());
        }
    }
    // Equal lines are equal bytes, so an unstable sort gives the same text.
    lines.sort_unstable_by(|x, y| text[x.clone()].cmp(&text[y.clone()]));
    let mut sorted = String::with_capacity(text.len());
    for line in lines {
        sorted.push_str(&text[line]);
    }
    Some(sorted)
}

#[cfg(test)]
mod tests {
    use super::{BTreeMap, CONTEXT, WorkloadId, pair, unified_diff};
    use crate::inventory::{Api, WorkloadKind};
    use similar::TextDiff;

    fn id(address: &str, kind: WorkloadKind) -> WorkloadId {
        WorkloadId {
            address: address.into(),
            kind,
            api: Api::V2,
            external: false,
        }
    }

    /// Workloads on both sides, on one, and an address that one side holds twice (a service
    /// and a job of the same address): in address order, the later of two of one side stands,
    /// and the after side's kind names the workload.
    #[test]
    fn sides_pair_by_address_in_address_order() {
        use WorkloadKind::{Job, Service};
        let side = |entries: &[(&str, WorkloadKind, &'static str)]| {
            let side: BTreeMap<WorkloadId, &str> =
                entries.iter().map(|&(a, k, p)| (id(a, k), p)).collect();
            side
        };
        let before = side(&[
            ("a", Service, "a0"),
            ("c", Service, "c0"),
            ("e", Service, "e0 service"),
            ("e", Job, "e0 job"),
            ("f", Job, "f0"),
        ]);
        let after = side(&[
            ("a", Service, "a1"),
            ("b", Service, "b1"),
            ("e", Service, "e1"),
            ("f", Service, "f1 service"),
            ("f", Job, "f1 job"),
            ("g", Job, "g1"),
        ]);
        let paired: Vec<(String, WorkloadKind, Option<&str>, Option<&str>)> = pair(before, after)
            .into_iter()
            .map(|p| (p.id.address, p.id.kind, p.before, p.after))
            .collect();
        let expected = [
            ("a", Service, Some("a0"), Some("a1")),
            ("b", Service, None, Some("b1")),
            ("c", Service, Some("c0"), None),
            ("e", Service, Some("e0 job"), Some("e1")),
            ("f", Job, Some("f0"), Some("f1 job")),
            ("g", Job, None, Some("g1")),
        ]
        .map(|(a, k, b, f)| (a.to_owned(), k, b, f));
        assert_eq!(paired, expected);
    }

    fn whole(b: &str, a: &str) -> String {
        TextDiff::from_lines(b, a)
            .unified_diff()
            .context_radius(CONTEXT)
            .header("before", "after")
            .to_string()
    }

    fn text(lines: &[u32]) -> String {
        let mut sorted: Vec<String> = lines
            .iter()
            .map(|i| format!("roles/run.invoker user:u{i:05}\n"))
            .collect();
        sorted.sort();
        sorted.concat()
    }

    /// Every way two sorted sets of lines can differ near and far from their ends: the cut
    /// diff is byte for byte the whole one.
    #[test]
    fn cutting_the_common_ends_keeps_the_diff_byte_for_byte() {
        let mut seed: u64 = 0x2026;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for case in 0..400 {
            let size = [0, 1, 3, 6, 7, 8, 20, 200][case % 8] as u32;
            let before: Vec<u32> = (0..size).filter(|_| next(5) != 0).collect();
            let mut after: Vec<u32> = before.iter().copied().filter(|_| next(9) != 0).collect();
            for _ in 0..next(4) {
                after.push(size + next(3) as u32);
                after.push(next(u64::from(size.max(1))) as u32);
            }
            after.sort();
            after.dedup();
            let (b, a) = (text(&before), text(&after));
            assert_eq!(unified_diff(&b, &a), whole(&b, &a), "case {case}");
        }
    }

    #[test]
    fn repeated_lines_are_diffed_whole() {
        let b = "r a\nr a\nr a\nr a\nr a\nr b\n";
        let a = "r a\nr a\nr a\nr a\nr a\nr a\nr b\n";
        assert_eq!(unified_diff(b, a), whole(b, a));
    }

    #[test]
    fn a_million_lines_that_gain_one_give_one_short_hunk() {
        let before: String = (0..1_000_000)
            .map(|i| format!("r user:u{i:07}\n"))
            .collect();
        let after = format!("{before}r user:zz\n");
        assert_eq!(
            unified_diff(&before, &after),
            "--- before\n+++ after\n@@ -999999,2 +999999,3 @@\n r user:u0999998\n r user:u0999999\n+r user:zz\n"
        );
    }
}

#[cfg(test)]
mod reuse_tests;
