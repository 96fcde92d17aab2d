//! Typed positions for the graph's side tables.
//!
//! A side keeps one row per workload, IAM resource, account, load-balancer piece, and so on, in
//! parallel tables. Each kind of row has its own index type, so that a workload's position can
//! never read the IAM table: the mistake is a compile error, not a wrong answer.

use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

/// A position in the table of one kind of row.
pub trait TableIndex: Copy {
    fn from_position(position: usize) -> Self;
    fn position(self) -> usize;
}

macro_rules! table_indexes {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(usize);

        impl TableIndex for $name {
            fn from_position(position: usize) -> Self {
                $name(position)
            }

            fn position(self) -> usize {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

table_indexes! {
    /// A workload of the plan: the inventory's workloads, their nodes, projects and identities.
    WorkloadIndex;
    /// A workload outside the plan that IAM in the plan grants on.
    ExternalIndex;
    /// An IAM resource: the inventory's IAM resources, their nodes, addresses, grants and
    /// planned members.
    IamIndex;
    /// A service account known on this side (the graph's own table, not the inventory's
    /// `google_service_account` resources).
    AccountIndex;
    /// A service account key of the inventory.
    KeyIndex;
    /// A load-balancer piece of the inventory.
    LbIndex;
    /// A Cloud Run domain mapping of the inventory.
    DomainIndex;
    /// An IAM resource on an IAP web resource: the inventory's IAP IAM resources, their grants
    /// and addresses.
    IapIamIndex;
}

/// Rows read by their typed position only.
#[derive(Debug, Clone)]
pub struct Table<I, T> {
    rows: Vec<T>,
    index: PhantomData<fn(I) -> I>,
}

impl<I: TableIndex, T> Table<I, T> {
    pub fn new() -> Self {
        Table {
            rows: Vec::new(),
            index: PhantomData,
        }
    }

    /// Appends a row and returns its position.
    pub fn push(&mut self, row: T) -> I {
        self.rows.push(row);
        I::from_position(self.rows.len() - 1)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.rows.iter()
    }

    /// Each row with its position.
    pub fn enumerate(&self) -> impl Iterator<Item = (I, &T)> {
        self.rows
            .iter()
            .enumerate()
            .map(|(i, row)| (I::from_position(i), row))
    }
}

impl<I: TableIndex, T> Default for Table<I, T> {
    fn default() -> Self {
        Table::new()
    }
}

impl<I: TableIndex, T> FromIterator<T> for Table<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(rows: It) -> Self {
        Table {
            rows: rows.into_iter().collect(),
            index: PhantomData,
        }
    }
}

impl<I: TableIndex, T> Index<I> for Table<I, T> {
    type Output = T;

    fn index(&self, i: I) -> &T {
        &self.rows[i.position()]
    }
}

impl<I: TableIndex, T> IndexMut<I> for Table<I, T> {
    fn index_mut(&mut self, i: I) -> &mut T {
        &mut self.rows[i.position()]
    }
}

/// The positions `0..len` of a table of `len` rows.
pub fn indexes<I: TableIndex>(len: usize) -> impl Iterator<Item = I> {
    (0..len).map(I::from_position)
}
