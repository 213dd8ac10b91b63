//! Where a store lives, as a server or a tool names it (`--data DIR` or `--database-url URL`),
//! and [`open`], which opens the backend it names behind `Arc<dyn Store>`.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::{Result, SqliteStore, Store};

/// The database a store opens.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// SQLite: one file in this directory, created if missing (the embedded default).
    Directory(PathBuf),
    /// PostgreSQL at this URL (`postgres://user:password@host:port/database`), shared by
    /// every server instance; `pool_size` connections at most (`None`: the backend's default).
    Postgres {
        /// The connection URL; shown only without its password ([`fmt::Display`]).
        url: String,
        /// Most connections open at once.
        pool_size: Option<usize>,
    },
}

impl StoreLocation {
    /// The backend's name, for messages: `SQLite` or `PostgreSQL`.
    pub fn backend(&self) -> &'static str {
        match self {
            StoreLocation::Directory(_) => "SQLite",
            StoreLocation::Postgres { .. } => "PostgreSQL",
        }
    }
}

/// The directory, or the URL without its password ([`redact_password`]).
impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Directory(dir) => write!(f, "{}", dir.display()),
            StoreLocation::Postgres { url, .. } => f.write_str(&redact_password(url)),
        }
    }
}

/// Like [`fmt::Display`]: never shows a password.
impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Directory(dir) => f.debug_tuple("Directory").field(dir).finish(),
            StoreLocation::Postgres { url, pool_size } => f
                .debug_struct("Postgres")
                .field("url", &redact_password(url))
                .field("pool_size", pool_size)
                .finish(),
        }
    }
}

/// `url` without its password (in the URL's user info, a `password` parameter of the query,
/// or a `password=` pair of the key-value form), for messages and logs.
pub fn redact_password(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut out = match head.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(end);
            let authority = match authority.rsplit_once('@') {
                Some((user_info, host)) => {
                    let user = user_info.split_once(':').map_or(user_info, |(u, _)| u);
                    format!("{user}@{host}")
                }
                None => authority.to_owned(),
            };
            format!("{scheme}://{authority}{path}")
        }
        // Key-value form: `host=... password=...`.
        None => head
            .split_whitespace()
            .filter(|pair| !pair.starts_with("password="))
            .collect::<Vec<_>>()
            .join(" "),
    };
    if let Some(query) = query {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.starts_with("password="))
            .collect();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    out
}

/// Opens the store at `location` with an active-set cache of at most `cache_bytes`, applying
/// the migrations this build needs. For PostgreSQL the pool connects once here, so a wrong URL
/// or an unreachable database is an error now rather than at the first request.
pub fn open(location: &StoreLocation, cache_bytes: u64) -> Result<Arc<dyn Store>> {
    match location {
        StoreLocation::Directory(dir) => Ok(Arc::new(
            SqliteStore::open(dir)?.with_cache_bytes(cache_bytes),
        )),
        StoreLocation::Postgres { url, pool_size } => open_postgres(url, *pool_size, cache_bytes),
    }
}

#[cfg(feature = "postgres")]
fn open_postgres(url: &str, pool_size: Option<usize>, cache_bytes: u64) -> Result<Arc<dyn Store>> {
    let defaults = crate::PostgresOptions::default();
    let options = crate::PostgresOptions {
        pool_size: pool_size.unwrap_or(defaults.pool_size),
        cache_bytes,
        ..defaults
    };
    Ok(Arc::new(crate::PostgresStore::connect(url, options)?))
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(
    _url: &str,
    _pool_size: Option<usize>,
    _cache_bytes: u64,
) -> Result<Arc<dyn Store>> {
    Err(crate::StoreError::Database {
        source: "this build has no PostgreSQL backend (cargo feature `postgres` of sync-store)"
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, expected: &str) {
        assert_eq!(redact_password(url), expected, "for {url}");
    }

    #[test]
    fn passwords_are_hidden() {
        check(
            "postgres://campus:s3cret@db.internal:5432/campus",
            "postgres://campus@db.internal:5432/campus",
        );
        check(
            "postgresql://campus:p@ss:w@rd@127.0.0.1/campus?sslmode=disable",
            "postgresql://campus@127.0.0.1/campus?sslmode=disable",
        );
        check(
            "postgres://campus@127.0.0.1/campus",
            "postgres://campus@127.0.0.1/campus",
        );
        check(
            "postgres://127.0.0.1/campus?user=campus&password=s3cret&sslmode=disable",
            "postgres://127.0.0.1/campus?user=campus&sslmode=disable",
        );
        check(
            "host=127.0.0.1 user=campus password=s3cret dbname=campus",
            "host=127.0.0.1 user=campus dbname=campus",
        );
        check("", "");
    }

    #[test]
    fn shown_without_the_password() {
        let location = StoreLocation::Postgres {
            url: "postgres://u:s3cret@h/db".into(),
            pool_size: Some(4),
        };
        assert_eq!(location.to_string(), "postgres://u@h/db");
        assert!(!format!("{location:?}").contains("s3cret"));
        assert_eq!(location.backend(), "PostgreSQL");
    }

    #[test]
    fn opens_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let location = StoreLocation::Directory(dir.path().join("data"));
        let store = open(&location, 1 << 20).unwrap();
        store.ping().unwrap();
        assert!(dir
            .path()
            .join("data")
            .join(crate::sqlite::DATABASE_FILE)
            .exists());
    }
}
