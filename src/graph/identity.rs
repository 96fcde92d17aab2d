//! Service accounts and runtime identities: the account nodes (by email, reference form or
//! planned address), which account each workload runs as, the accounts that scope grants and
//! keys name.

use petgraph::graph::NodeIndex;

use super::*;

impl SideGraph<'_> {
    /// The account node for an email or planned account, created on first use.
    pub(super) fn account(&mut self, email: Option<String>, address: Option<Address>) -> NodeIndex {
        let found = email
            .as_ref()
            .and_then(|e| self.accounts_by_email.get(e))
            .or_else(|| {
                address
                    .as_ref()
                    .and_then(|a| self.accounts_by_address.get(a))
            })
            .copied();
        let i = match found {
            Some(i) => i,
            None => {
                let i = self.accounts.push(AccountNode {
                    email: None,
                    address: None,
                    planned_project: None,
                });
                let n = self.graph.add_node(NodeKind::Account(i));
                self.account_nodes.push(n);
                i
            }
        };
        if let (None, Some(e)) = (&self.accounts[i].email, email) {
            self.accounts_by_email.insert(e.clone(), i);
            self.accounts[i].email = Some(e);
        }
        if let (None, Some(a)) = (&self.accounts[i].address, address) {
            self.accounts_by_address.insert(a.clone(), i);
            self.accounts[i].address = Some(a);
        }
        self.account_nodes[i]
    }

    /// The account node a known `service_account_id` names: the email in any of the forms the
    /// provider accepts (`EMAIL`, `projects/P/serviceAccounts/EMAIL`, `projects/-/...`), or
    /// the account's numeric unique id, which only an account in the plan can resolve. An id
    /// that matches no account is unresolved.
    pub(super) fn account_by_reference(
        &mut self,
        from: &Address,
        reference: &str,
    ) -> Option<NodeIndex> {
        let id = crate::inventory::iam::account_email(reference);
        if id.contains('@') {
            return Some(self.account(Some(id), None));
        }
        let found: Vec<&crate::inventory::ServiceAccount> = self
            .inventory
            .service_accounts
            .iter()
            .filter(|a| matches!(&a.unique_id, Tri::Known(u) if *u == id))
            .collect();
        match found.as_slice() {
            [a] => {
                let (email, address) = (a.email.clone().known(), a.address.clone());
                Some(self.account(email, Some(address)))
            }
            _ => {
                let reason = if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
                    format!(
                        "service account `{reference}` is named by a unique id that no service \
                         account in the plan has"
                    )
                } else {
                    format!("`{reference}` names no service account by email or unique id")
                };
                self.unresolve(from, reason);
                None
            }
        }
    }

    /// Whether principal `p` of IAM resource `iam_index` is account `a`: by its
    /// `serviceAccount:` member, or, for an unknown member, by the planned account it refers to.
    pub fn principal_is_account(
        &self,
        iam_index: IamIndex,
        p: &Principal,
        a: AccountIndex,
    ) -> bool {
        let account = &self.accounts[a];
        match p {
            Principal::Known { member, .. } => account
                .email
                .as_deref()
                .is_some_and(|e| member.strip_prefix("serviceAccount:") == Some(e)),
            Principal::Unknown => account
                .address
                .as_ref()
                .is_some_and(|addr| self.planned_members[iam_index].contains(addr)),
        }
    }

    /// The node of an account known on this side, by lower-cased email.
    pub fn account_node_by_email(&self, email: &str) -> Option<NodeIndex> {
        self.accounts_by_email
            .get(email)
            .map(|&i| self.account_nodes[i])
    }

    /// The node of a service account created in this plan, by address.
    pub fn account_node_by_address(&self, address: &Address) -> Option<NodeIndex> {
        self.accounts_by_address
            .get(address)
            .map(|&i| self.account_nodes[i])
    }

    pub fn account_index(&self, node: NodeIndex) -> Option<AccountIndex> {
        match self.graph[node] {
            NodeKind::Account(i) => Some(i),
            _ => None,
        }
    }

    /// Resolves each workload's runtime identity and adds `RunsAs` edges.
    pub(super) fn link_identities(&mut self, index: &Indexes, ctx: &Context) {
        for (i, w) in self.workloads() {
            let identity = self.identity_of(w, index, ctx);
            let target = match &identity {
                Identity::Account { email } => Some(self.account(Some(email.clone()), None)),
                Identity::PlannedAccount { address } => {
                    Some(self.account(None, Some(address.clone())))
                }
                Identity::ImplicitDefault => self
                    .default_account_of(&self.project_of(&w.address, &w.project, ctx))
                    .map(|email| self.account(Some(email), None)),
                Identity::Unknown { reason, .. } => {
                    let reason = format!("runtime service account: {reason}");
                    self.unresolve(&w.address, reason);
                    None
                }
            };
            if let Some(t) = target {
                self.graph
                    .add_edge(self.workload_nodes[i], t, EdgeKind::RunsAs);
            }
            self.identities.push(identity);
        }
    }

    /// The default compute account of a workload's project, when the plan names exactly one
    /// (from the project number of a `google_project` or the email of
    /// `data "google_compute_default_service_account"`).
    fn default_account_of(&self, project: &Tri<String>) -> Option<String> {
        let Tri::Known(project) = project else {
            return None;
        };
        let mut emails =
            self.inventory
                .default_accounts
                .iter()
                .filter_map(|d| match (&d.project, &d.email) {
                    (Tri::Known(p), Tri::Known(e)) if p == project => Some(e.as_str()),
                    _ => None,
                });
        let first = emails.next()?;
        emails.all(|e| e == first).then(|| first.to_owned())
    }

    fn identity_of(&self, w: &Workload, index: &Indexes, ctx: &Context) -> Identity {
        match &w.service_account {
            Tri::Known(email) => Identity::Account {
                email: email.to_lowercase(),
            },
            Tri::Absent => Identity::ImplicitDefault,
            Tri::Unknown => self.unknown_identity(w, index, ctx),
        }
    }

    /// `service_account` is unknown at plan time. It is optional and computed: left null, it is
    /// unknown on create and Cloud Run picks the default account. `configuration` keeps the
    /// expression's references but not its operators, so the answer is reasoned from them:
    ///
    /// - not configured at all: the implicit default (on create);
    /// - a plain reference to one service account: that account;
    /// - a mix (`var.x ? null : google_service_account.a.email`) whose inputs are all known at
    ///   plan time: the value would be known if it were one of them, so it is null, the
    ///   implicit default (on create);
    /// - anything else: unknown, with the reason. It is never guessed.
    fn unknown_identity(&self, w: &Workload, index: &Indexes, ctx: &Context) -> Identity {
        let o = ctx.origins(&w.address, w.service_account_path, &index.accounts);
        if unknown_value(w.creating, o.configured) == UnknownValue::ApiDefault {
            return Identity::ImplicitDefault;
        }
        if !o.configured {
            return Identity::Unknown {
                reason: o.opaque.into_iter().next().unwrap_or_default(),
                candidates: None,
            };
        }
        if let Some(reason) = o.opaque.into_iter().next() {
            return Identity::Unknown {
                reason,
                candidates: None,
            };
        }
        let accounts: Vec<&crate::inventory::ServiceAccount> = o
            .instances
            .iter()
            .map(|&i| &self.inventory.service_accounts[i])
            .collect();
        match (accounts.as_slice(), o.constants.is_empty()) {
            ([account], true) => match &account.email {
                Tri::Known(email) => Identity::Account {
                    email: email.clone(),
                },
                _ => Identity::PlannedAccount {
                    address: account.address.clone(),
                },
            },
            // An empty set of accounts proves nothing: it is not "all known".
            _ if w.creating && !accounts.is_empty() && accounts.iter().all(|a| a.email_in_plan) => {
                Identity::ImplicitDefault
            }
            ([], _) => Identity::Unknown {
                reason: "it is computed from values that are known, yet it is unknown".into(),
                candidates: None,
            },
            _ => Identity::Unknown {
                reason: "it depends on a condition over service accounts whose emails are not \
                         known at plan time"
                    .into(),
                candidates: Some(accounts.iter().map(|a| a.address.clone()).collect()),
            },
        }
    }

    /// The planned accounts (email unknown) that an unknown `member`/`members` refers to.
    pub(super) fn planned_members_of(
        &self,
        iam_index: IamIndex,
        grant: &ResolvedGrant,
        index: &Indexes,
        ctx: &Context,
    ) -> Vec<Address> {
        let attribute = match grant.authority {
            Authority::Member => "member",
            Authority::Binding => "members",
            Authority::Policy => return Vec::new(),
        };
        let unknown = grant
            .bindings
            .iter()
            .flatten()
            .any(|b| b.principals.contains(&Principal::Unknown));
        if !unknown {
            return Vec::new();
        }
        let iam = self.iam(iam_index);
        match ctx.follow(&iam.address, &[attribute], &index.accounts) {
            Followed::Instances(found) => found
                .iter()
                .map(|&a| &self.inventory.service_accounts[a])
                .filter(|a| a.email.is_unknown())
                .map(|a| a.address.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `HeldBy` edges from a scope or resource grant to the service accounts among its members.
    pub(super) fn link_holders(&mut self, iam_index: IamIndex) {
        let node = self.iam_nodes[iam_index];
        let members: Vec<String> = self.grants[iam_index]
            .bindings
            .iter()
            .flatten()
            .flat_map(|b| &b.principals)
            .filter_map(|p| match p {
                Principal::Known { member, .. } => {
                    member.strip_prefix("serviceAccount:").map(str::to_owned)
                }
                Principal::Unknown => None,
            })
            .collect();
        let planned = self.planned_members[iam_index].clone();
        let mut accounts: Vec<NodeIndex> = members
            .into_iter()
            .map(|email| self.account(Some(email), None))
            .collect();
        for a in planned {
            accounts.push(self.account(None, Some(a)));
        }
        for account in accounts {
            if !self.graph.contains_edge(node, account) {
                self.graph.add_edge(node, account, EdgeKind::HeldBy);
            }
        }
    }

    /// `service_account_id` unknown at plan time: it names a service account created in this
    /// plan (`google_service_account.x.name`).
    pub(super) fn planned_account_target(
        &mut self,
        from: &Address,
        index: &Indexes,
        ctx: &Context,
    ) -> Option<NodeIndex> {
        match ctx.follow(from, &["service_account_id"], &index.accounts) {
            Followed::Instances(found) if found.len() == 1 => {
                let account = &self.inventory.service_accounts[found[0]];
                Some(self.account(account.email.clone().known(), Some(account.address.clone())))
            }
            Followed::Constant {
                sensitive: true, ..
            } => {
                self.unresolve(
                    from,
                    "service_account_id comes from a sensitive value".into(),
                );
                None
            }
            Followed::Constant {
                value: serde_json::Value::String(s),
                ..
            } => self.account_by_reference(from, &s),
            Followed::Opaque(reason) => {
                self.unresolve(
                    from,
                    format!("service_account_id unknown at plan time: {reason}"),
                );
                None
            }
            _ => {
                self.unresolve(
                    from,
                    "service_account_id refers to more than one service account".into(),
                );
                None
            }
        }
    }

    pub(super) fn link_keys(&mut self, index: &Indexes, ctx: &Context) {
        for (i, key) in self.inventory.keys.iter().enumerate() {
            let n = self
                .graph
                .add_node(NodeKind::Key(KeyIndex::from_position(i)));
            let account = match &key.email {
                Tri::Known(email) => self.account_by_reference(&key.address, email),
                // Usually `google_service_account.x.name`, unknown on create.
                _ => self.planned_account_target(&key.address, index, ctx),
            };
            if let Some(a) = account {
                self.graph.add_edge(n, a, EdgeKind::KeyFor);
            }
        }
    }
}
