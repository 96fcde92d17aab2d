//! Look-up tables built once per side, so linking is linear in the size of the plan: by
//! configuration address (for references), by name (for IAM targets), by id (for load-balancer
//! self links).

use foldhash::HashMap;

use crate::inventory::{LbKind, SideInventory, WorkloadKind};
use crate::plan::Tri;

use super::link::Candidates;
use super::table::{LbIndex, TableIndex, WorkloadIndex};

pub struct Indexes<'i> {
    pub workloads: HashMap<WorkloadKind, Candidates<'i, WorkloadIndex>>,
    pub workloads_by_name: HashMap<(WorkloadKind, &'i str), Vec<WorkloadIndex>>,
    /// Workloads whose name is unknown at plan time: any name may turn out to be theirs.
    pub workloads_unnamed: HashMap<WorkloadKind, Vec<WorkloadIndex>>,
    pub accounts: Candidates<'i>,
    pub custom_roles: Candidates<'i>,
    pub custom_roles_by_name: HashMap<&'i str, usize>,
    pub policy_data: Candidates<'i>,
    /// Per load-balancer kind, the pieces that a piece of that kind may send traffic to, for
    /// following its references through the configuration.
    pub lb_targets: HashMap<LbKind, Candidates<'i, LbIndex>>,
    /// Load-balancer pieces by normalised id or self link, and by the last segment of it (for
    /// references written as a bare name).
    pub lb_by_id: HashMap<(LbKind, &'i str), Vec<LbIndex>>,
    no_workloads: Candidates<'i, WorkloadIndex>,
    no_lb_pieces: Candidates<'i, LbIndex>,
}

impl<'i> Indexes<'i> {
    pub fn new(side: &'i SideInventory) -> Indexes<'i> {
        let mut workloads: HashMap<WorkloadKind, Vec<_>> = HashMap::default();
        let mut workloads_by_name: HashMap<(WorkloadKind, &'i str), Vec<WorkloadIndex>> =
            HashMap::default();
        let mut workloads_unnamed: HashMap<WorkloadKind, Vec<WorkloadIndex>> = HashMap::default();
        // A function is also found as the Cloud Run service it runs on.
        for (i, w) in side.workloads.iter().enumerate() {
            let i = WorkloadIndex::from_position(i);
            for (kind, name) in w.iam_names() {
                workloads.entry(kind).or_default().push((&w.address, i));
                match name {
                    Tri::Known(name) => workloads_by_name
                        .entry((kind, name.as_str()))
                        .or_default()
                        .push(i),
                    Tri::Unknown => workloads_unnamed.entry(kind).or_default().push(i),
                    Tri::Absent => {}
                }
            }
        }
        let mut lb_targets: HashMap<LbKind, Vec<_>> = HashMap::default();
        let mut lb_by_id: HashMap<(LbKind, &'i str), Vec<LbIndex>> = HashMap::default();
        for (i, r) in side.load_balancers.iter().enumerate() {
            let i = LbIndex::from_position(i);
            for from in LbKind::ALL {
                if from.next().contains(&r.kind) {
                    lb_targets.entry(from).or_default().push((&r.address, i));
                }
            }
            for id in &r.ids {
                let last = id.rsplit('/').next().unwrap_or(id);
                for key in [id.as_str(), last] {
                    let entry = lb_by_id.entry((r.kind, key)).or_default();
                    if !entry.contains(&i) {
                        entry.push(i);
                    }
                }
            }
        }
        Indexes {
            workloads: workloads
                .into_iter()
                .map(|(k, v)| (k, Candidates::new(v)))
                .collect(),
            workloads_by_name,
            workloads_unnamed,
            accounts: Candidates::new(
                side.service_accounts
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (&a.address, i)),
            ),
            custom_roles: Candidates::new(
                side.custom_roles
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (&c.address, i)),
            ),
            custom_roles_by_name: side
                .custom_roles
                .iter()
                .enumerate()
                .filter_map(|(i, c)| match &c.name {
                    Tri::Known(n) => Some((n.as_str(), i)),
                    _ => None,
                })
                .collect(),
            policy_data: Candidates::new(
                side.policy_data
                    .iter()
                    .enumerate()
                    .map(|(i, d)| (&d.address, i)),
            ),
            lb_targets: lb_targets
                .into_iter()
                .map(|(k, v)| (k, Candidates::new(v)))
                .collect(),
            lb_by_id,
            no_workloads: Candidates::default(),
            no_lb_pieces: Candidates::default(),
        }
    }

    /// The workloads of `kind` that a known `name` may mean: those so named, and those whose
    /// own name is unknown at plan time.
    pub fn workloads_maybe_named<'a>(
        &'a self,
        kind: WorkloadKind,
        name: &'a str,
    ) -> impl Iterator<Item = WorkloadIndex> + 'a {
        // Shortening the keys' lifetime to `name`'s lets a borrowed name look them up.
        let by_name: &'a HashMap<(WorkloadKind, &'a str), Vec<WorkloadIndex>> =
            &self.workloads_by_name;
        by_name
            .get(&(kind, name))
            .into_iter()
            .chain(self.workloads_unnamed.get(&kind))
            .flatten()
            .copied()
    }

    pub fn workloads_of(&self, kind: WorkloadKind) -> &Candidates<'i, WorkloadIndex> {
        self.workloads.get(&kind).unwrap_or(&self.no_workloads)
    }

    /// The pieces a piece of `kind` may send traffic to.
    pub fn lb_targets_of(&self, kind: LbKind) -> &Candidates<'i, LbIndex> {
        self.lb_targets.get(&kind).unwrap_or(&self.no_lb_pieces)
    }
}
