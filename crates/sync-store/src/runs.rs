//! Sync runs as the store keeps them (DESIGN 9): one row per run, and one change record per
//! contract the run changed (or, held, would change). Backend-neutral values; each backend
//! writes them in its own module (`sqlite/runs.rs`).

use std::borrow::Cow;
use std::fmt;

use sync_core::Summary;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunKind {
    /// A full sync (`POST /api/sync/v2/contrats`).
    Full,
    /// A delta sync (`POST /api/sync/v2/contrats/changes`).
    Changes,
    /// The sandbox delete (`DELETE /api/sync/v1/contrats`).
    Delete,
    /// The undoing of an earlier run.
    Revert,
}

/// How a run ended, or stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunOutcome {
    /// Written.
    Applied,
    /// Refused by validation (422): nothing written.
    Refused,
    /// Stopped by the mass-removal guard and kept, with its payload, for a person to decide.
    Held,
    /// Held, then approved and written.
    Approved,
    /// Held, then rejected: nothing written, payload dropped.
    Rejected,
    /// Held and not decided in time: nothing written, payload dropped.
    Expired,
    /// Written, then undone by a later run of kind [`RunKind::Revert`].
    Reverted,
}

macro_rules! names {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            /// Every value.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// The wire (and stored) name.
            pub const fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),*
                }
            }

            /// The value of a wire name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($name => Some($ty::$variant),)*
                    _ => None,
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

names!(RunKind { Full => "full", Changes => "changes", Delete => "delete", Revert => "revert" });
names!(RunOutcome {
    Applied => "applied",
    Refused => "refused",
    Held => "held",
    Approved => "approved",
    Rejected => "rejected",
    Expired => "expired",
    Reverted => "reverted",
});
names!(ChangeKind { Added => "added", Updated => "updated", Removed => "removed" });

/// How one contract changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// Not in the active set before.
    Added,
    /// In the active set before, with other values.
    Updated,
    /// Not sent: archived.
    Removed,
}

impl serde::Serialize for ChangeKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One run, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The run's id: opaque, URL-safe, unique within the tenant.
    pub id: String,
    /// What started it.
    pub kind: RunKind,
    /// When it was received, in milliseconds since the Unix epoch (UTC).
    pub received_at: i64,
    /// How it ended, or stands.
    pub outcome: RunOutcome,
    /// The four counts of its diff (for a refused run, zeros).
    pub summary: Summary,
    /// Errors found (a refused run's).
    pub errors: u64,
    /// Warnings found.
    pub warnings: u64,
    /// The sender's `User-Agent`, if any.
    pub user_agent: Option<String>,
    /// The tenant's contracts version the run was computed from.
    pub based_on: i64,
    /// The contracts version its write left: set by the store when the run's write changed
    /// contracts (applied with changes, approved, a revert), else `None`. The run is the
    /// tenant's latest change when this is the stored contracts version.
    pub version_after: Option<i64>,
    /// For a revert, the run it undid.
    pub reverts: Option<String>,
    /// When the outcome last changed after receipt (approved, rejected, expired, reverted).
    pub decided_at: Option<i64>,
}

/// What a run changed for one contract, with what a person needs to recognize it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord<'a> {
    /// The contract's `codeContrat`.
    pub code: Cow<'a, str>,
    /// Added, updated or removed.
    pub change: ChangeKind,
    /// The changed fields of an update, a JSON array of `{"field", "old", "new"}` (a value
    /// `null` when absent); `[]` otherwise.
    pub fields: Cow<'a, str>,
    /// The contract's wire JSON before the run, for an updated or removed one. For an added
    /// one, the writer leaves it `None` and the store fills it, in the write's transaction,
    /// with the stored row of the contract if it was archived (a contract coming back).
    pub previous: Option<Cow<'a, str>>,
    /// `nomApprenant` (the previous contract's for a removed one; so for the rest).
    pub last_name: Cow<'a, str>,
    /// `prenomApprenant`.
    pub first_name: Cow<'a, str>,
    /// `codeGroupe`.
    pub group_code: Cow<'a, str>,
    /// `nomGroupe`.
    pub group_name: Cow<'a, str>,
    /// `codeSite`.
    pub site_code: Cow<'a, str>,
    /// `nomSite`.
    pub site_name: Cow<'a, str>,
}

impl ChangeRecord<'_> {
    /// What the listing's filter looks in: the code and the apprentice's names, lowercased
    /// (written with the record; a filter matches when it is contained in it, lowercased).
    pub fn search_text(&self) -> String {
        let mut text = String::with_capacity(
            self.code.len() + self.last_name.len() + self.first_name.len() + 2,
        );
        text.push_str(&self.code);
        text.push('\n');
        text.push_str(&self.last_name);
        text.push('\n');
        text.push_str(&self.first_name);
        text.to_lowercase()
    }

    /// The record owning its text.
    pub fn into_owned(self) -> ChangeRecord<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        ChangeRecord {
            code: own(self.code),
            change: self.change,
            fields: own(self.fields),
            previous: self.previous.map(own),
            last_name: own(self.last_name),
            first_name: own(self.first_name),
            group_code: own(self.group_code),
            group_name: own(self.group_name),
            site_code: own(self.site_code),
            site_name: own(self.site_name),
        }
    }
}

/// The run a write records.
#[derive(Debug, Clone, Copy)]
pub enum RunWrite<'r> {
    /// A new run and its change records (`run.version_after` is ignored: the store sets it).
    /// A revert (`run.reverts` set) also sets the reverted run's outcome to
    /// [`RunOutcome::Reverted`] and its `decided_at` to the revert's `received_at`; if that
    /// run is not applied or approved, [`crate::StoreError::Stale`] and nothing is written.
    New {
        /// The run.
        run: &'r Run,
        /// What it changed, in order.
        changes: &'r [ChangeRecord<'r>],
        /// A refused run's problems, a JSON array.
        problems: Option<&'r str>,
        /// A held run's payload, the body as received.
        payload: Option<&'r [u8]>,
    },
    /// A held run approved: its outcome becomes [`RunOutcome::Approved`], `decided_at` this
    /// time, `version_after` set, its payload dropped; its change records stay (they were
    /// computed at the same contracts version). If it is no longer held,
    /// [`crate::StoreError::Stale`] and nothing is written.
    Approve {
        /// The held run.
        run_id: &'r str,
        /// When.
        decided_at: i64,
    },
}

/// A page of a tenant's runs, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunPage {
    /// Every run of the tenant, not only this page.
    pub total: usize,
    /// The page.
    pub runs: Vec<Run>,
}

/// A page of a run's change records, in their order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangePage {
    /// Every record the filter matches, not only this page.
    pub total: usize,
    /// The page.
    pub changes: Vec<ChangeRecord<'static>>,
}
