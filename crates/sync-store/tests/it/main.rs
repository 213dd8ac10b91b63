//! Integration tests of sync-store: the conformance suite on SQLite, and the migration of a
//! database written before numbered migrations.

mod conformance;
mod migrations;
