//! Integration tests of sync-store: the conformance suite on SQLite and on PostgreSQL (with
//! `SYNC_TEST_DATABASE_URL`), and the migration of a database written before numbered
//! migrations.

mod conformance;
mod migrations;
mod postgres;
