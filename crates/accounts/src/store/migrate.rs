//! The embedded migrations and what both backends share in running them.

use sqlx::migrate::{MigrateError, Migrator};

use crate::Error;

/// `migrations/sqlite`, embedded at compile time.
pub(crate) static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");

/// `migrations/postgres`, embedded at compile time.
pub(crate) static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// The first migration, which databases made before `sqlx::migrate!` recorded as version 1
/// in their own `schema_migrations` table.
pub(crate) const BASELINE_VERSION: i64 = 1;

/// The checksum sqlx records for the baseline migration of `migrator`.
pub(crate) fn baseline_checksum(migrator: &Migrator) -> Vec<u8> {
    migrator
        .iter()
        .find(|m| m.version == BASELINE_VERSION)
        .map(|m| m.checksum.to_vec())
        .unwrap_or_default()
}

/// A migrator's error as ours: driver errors sorted as everywhere, the rest (a changed or
/// missing migration, a dirty database) as [`Error::Store`].
pub(crate) fn from_migrate(error: MigrateError) -> Error {
    match error {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => Error::from_sqlx(e),
        other => Error::Store(sqlx::Error::Migrate(Box::new(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_versions_and_a_baseline() {
        let versions = |m: &Migrator| m.iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(versions(&SQLITE), versions(&POSTGRES));
        assert_eq!(versions(&SQLITE)[0], BASELINE_VERSION);
        assert_eq!(baseline_checksum(&SQLITE).len(), 48, "SHA-384");
        assert_ne!(baseline_checksum(&SQLITE), baseline_checksum(&POSTGRES));
    }
}
