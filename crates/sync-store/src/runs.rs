//! Sync runs as the store keeps them (DESIGN 9): one row per run, and one change record per
//! contract the run changed (or, held, would change). Backend-neutral values; each backend
//! writes them in its own module (`sqlite/runs.rs`).

use std::borrow::Cow;
use std::fmt;

use rayon::prelude::*;
use serde_json::value::RawValue;
use sync_core::Summary;

use crate::{Result, StoreError};

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
    /// Whether the listing's filter matches: `filter_lowercase` is contained in the code or
    /// the apprentice's last or first name, lowercased.
    pub fn matches(&self, filter_lowercase: &str) -> bool {
        [&self.code, &self.last_name, &self.first_name]
            .iter()
            .any(|text| text.to_lowercase().contains(filter_lowercase))
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

/// Change records per stored chunk: a run's records are stored in rows of this many
/// consecutive records (the last row may hold fewer), numbered from 0.
pub const CHANGE_CHUNK: usize = 500;

/// Appends `text` as a JSON string (what serde_json writes), without allocating when nothing
/// needs escaping.
fn push_str(out: &mut String, text: &str) {
    out.push('"');
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push_str(escape);
        }
        start = i + c.len_utf8();
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// The stored text of a chunk of change records (at most [`CHANGE_CHUNK`]): a JSON array of
/// `[code, change, fields, previous, last_name, first_name, group_code, group_name, site_code,
/// site_name]`, `fields` and `previous` (or `null`) as JSON values. Every backend stores this
/// text as it is and reads it back with [`decode_change_chunk`].
pub fn encode_change_chunk(records: &[ChangeRecord<'_>]) -> String {
    let size: usize = records
        .iter()
        .map(|r| 64 + r.code.len() + r.fields.len() + r.previous.as_ref().map_or(4, |p| p.len()))
        .sum();
    let mut out = String::with_capacity(size + 2);
    out.push('[');
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        push_str(&mut out, &record.code);
        out.push_str(",\"");
        out.push_str(record.change.name());
        out.push_str("\",");
        out.push_str(&record.fields);
        out.push(',');
        out.push_str(record.previous.as_deref().unwrap_or("null"));
        for text in [
            &record.last_name,
            &record.first_name,
            &record.group_code,
            &record.group_name,
            &record.site_code,
            &record.site_name,
        ] {
            out.push(',');
            push_str(&mut out, text);
        }
        out.push(']');
    }
    out.push(']');
    out
}

/// A stored chunk of change records: its number (from 0), how many records it holds, and
/// its text ([`encode_change_chunk`]).
pub type EncodedChunk = (i64, i64, String);

/// The chunks of a run's change records, encoded on every core.
pub fn encode_change_chunks(records: &[ChangeRecord<'_>]) -> Vec<EncodedChunk> {
    records
        .par_chunks(CHANGE_CHUNK)
        .enumerate()
        .map(|(i, chunk)| (i as i64, chunk.len() as i64, encode_change_chunk(chunk)))
        .collect()
}

/// The records of a chunk's stored text ([`encode_change_chunk`]).
pub fn decode_change_chunk(text: &str) -> Result<Vec<ChangeRecord<'static>>> {
    type Stored<'a> = (
        String,
        String,
        &'a RawValue,
        Option<&'a RawValue>,
        String,
        String,
        String,
        String,
        String,
        String,
    );
    let stored: Vec<Stored<'_>> = serde_json::from_str(text)?;
    stored
        .into_iter()
        .map(
            |(code, change, fields, previous, last, first, gc, gn, sc, sn)| {
                let change = ChangeKind::from_name(&change).ok_or_else(|| StoreError::Corrupt {
                    source: format!("change record of kind {change:?}").into(),
                })?;
                Ok(ChangeRecord {
                    code: code.into(),
                    change,
                    fields: fields.get().to_owned().into(),
                    previous: previous.map(|p| p.get().to_owned().into()),
                    last_name: last.into(),
                    first_name: first.into(),
                    group_code: gc.into(),
                    group_name: gn.into(),
                    site_code: sc.into(),
                    site_name: sn.into(),
                })
            },
        )
        .collect()
}

/// A page of the records of stored chunks (in chunk order, each `(first position, text)`),
/// with `filter`: what [`crate::Store::run_changes`] answers. Without a filter, `total` is
/// given (the records of every chunk) and only the chunks that hold the page need be passed;
/// with one, every chunk of the run.
pub fn page_of_chunks<'t>(
    chunks: impl IntoIterator<Item = (usize, &'t str)>,
    total: usize,
    filter: Option<&str>,
    offset: usize,
    limit: usize,
) -> Result<ChangePage> {
    let filter = filter.map(str::to_lowercase).filter(|f| !f.is_empty());
    let chunks: Vec<(usize, &str)> = chunks.into_iter().collect();
    match filter {
        None => {
            let mut changes = Vec::new();
            for (first, text) in chunks {
                for (i, record) in decode_change_chunk(text)?.into_iter().enumerate() {
                    let position = first + i;
                    if position >= offset && changes.len() < limit {
                        changes.push(record);
                    }
                }
            }
            Ok(ChangePage { total, changes })
        }
        Some(filter) => {
            let matching: Vec<Vec<ChangeRecord<'static>>> = chunks
                .par_iter()
                .map(|(_, text)| {
                    Ok(decode_change_chunk(text)?
                        .into_iter()
                        .filter(|r| r.matches(&filter))
                        .collect())
                })
                .collect::<Result<_>>()?;
            let total = matching.iter().map(Vec::len).sum();
            let changes = matching
                .into_iter()
                .flatten()
                .skip(offset)
                .take(limit)
                .collect();
            Ok(ChangePage { total, changes })
        }
    }
}

/// A write whose run is no longer in the state it was decided from (decided or reverted
/// meanwhile, maybe by another process or instance): nothing is written.
pub(crate) fn stale_run() -> StoreError {
    StoreError::Stale {
        what: "runs",
        based_on: 0,
        stored: 0,
    }
}

/// A count as stored (a 64-bit integer column).
pub(crate) fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_encoded_as_serde_json_writes_them() {
        for text in [
            "",
            "plain",
            "Éloïse",
            "quote \" and \\",
            "tab\tnew\nline\r",
            "\u{1}\u{1f}x",
            "€𝄞",
        ] {
            let mut out = String::new();
            push_str(&mut out, text);
            assert_eq!(out, serde_json::to_string(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn chunks_round_trip() {
        let record = |code: &str, previous: Option<&str>| ChangeRecord {
            code: code.to_owned().into(),
            change: ChangeKind::Updated,
            fields: r#"[{"field":"nomSite","old":"A \"x\"","new":null}]"#.into(),
            previous: previous.map(|p| p.to_owned().into()),
            last_name: "Dupont \\ \"D\"".into(),
            first_name: "Éloïse".into(),
            group_code: "G1".into(),
            group_name: "Groupe\n1".into(),
            site_code: "".into(),
            site_name: "Lyon".into(),
        };
        let records = vec![
            record("C1", None),
            record("C\"2", Some(r#"{"codeContrat":"C\"2"}"#)),
        ];
        let text = encode_change_chunk(&records);
        assert_eq!(decode_change_chunk(&text).unwrap(), records);
        assert!(decode_change_chunk("[[1]]").is_err());
    }
}
