//! Schema versioning: `schema.sql` creates a new database; `PRAGMA user_version` records the
//! version, older databases run the ordered upgrade steps, newer ones are refused.

use rusqlite::{Connection, Transaction};

use super::OpenError;

/// The schema this binary writes and understands.
pub const SCHEMA_VERSION: i64 = 2;

/// The whole current schema, applied to a new file.
pub const SCHEMA: &str = include_str!("../../schema.sql");

/// Upgrade steps: `UPGRADES[i]` takes a database from version `i + 1` to `i + 2`.
type Upgrade = fn(&Transaction) -> rusqlite::Result<()>;
const UPGRADES: &[Upgrade] = &[add_commits_and_files];

/// The lines of `schema.sql` between the line `-- BEGIN <name> …` and `-- END <name>`: an upgrade step runs
/// the section that creates its tables, so a new and an upgraded database share one definition.
fn schema_section(name: &str) -> rusqlite::Result<&'static str> {
    let begin = format!("-- BEGIN {name}");
    let end = format!("-- END {name}");
    SCHEMA
        .split_once(begin.as_str())
        .and_then(|(_, rest)| rest.split_once('\n'))
        .and_then(|(_, rest)| rest.split_once(end.as_str()))
        .map(|(section, _)| section)
        .ok_or_else(|| rusqlite::Error::InvalidParameterName(format!("schema.sql has no section {name}")))
}

/// Commits, trees and blobs for the Repository Files API (tables `blobs`, `commits`,
/// `commit_files`, `commit_changes`).
fn add_commits_and_files(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(schema_section("add_commits_and_files")?)
}

/// Brings the database to [`SCHEMA_VERSION`], or refuses a database from a newer triggerd.
pub fn run(conn: &Connection) -> Result<(), OpenError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(OpenError::Schema(format!(
            "the database has schema version {version}, but this triggerd only knows versions up to \
             {SCHEMA_VERSION}: it was written by a newer triggerd; run that version or restore a backup"
        )));
    }
    let mut conn_tx = Connection::unchecked_transaction(conn)?;
    if version == 0 {
        conn_tx.execute_batch(SCHEMA)?;
        set_version(&conn_tx, SCHEMA_VERSION)?;
        conn_tx.commit()?;
        log::info!("created a new database with schema version {SCHEMA_VERSION}");
        return Ok(());
    }
    for (i, step) in UPGRADES.iter().enumerate().skip((version - 1) as usize) {
        step(&conn_tx)?;
        set_version(&conn_tx, i as i64 + 2)?;
        conn_tx.commit()?;
        conn_tx = Connection::unchecked_transaction(conn)?;
    }
    conn_tx.commit()?;
    Ok(())
}

fn set_version(tx: &Transaction, v: i64) -> rusqlite::Result<()> {
    tx.pragma_update(None, "user_version", v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_is_one_upgrade_step_per_version_after_the_first() {
        assert_eq!(UPGRADES.len() as i64, SCHEMA_VERSION - 1);
    }

    #[test]
    fn a_new_database_gets_the_current_version() {
        let conn = Connection::open_in_memory().unwrap();
        run(&conn).unwrap();
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        // Running again is a no-op.
        run(&conn).unwrap();
    }

    /// The tables every database of this version has, with their SQL.
    fn tables(conn: &Connection) -> Vec<(String, String)> {
        let mut stmt =
            conn.prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn an_upgraded_database_has_the_schema_of_a_new_one() {
        let fresh = Connection::open_in_memory().unwrap();
        run(&fresh).unwrap();
        // A version-1 database: schema.sql without the sections later steps add.
        let (v1, _) = SCHEMA.split_once("-- BEGIN add_commits_and_files").unwrap();
        let old = Connection::open_in_memory().unwrap();
        old.execute_batch(v1).unwrap();
        old.pragma_update(None, "user_version", 1).unwrap();
        run(&old).unwrap();
        let v: i64 = old.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        assert_eq!(tables(&old), tables(&fresh));
    }

    #[test]
    fn every_upgrade_section_is_in_schema_sql() {
        assert!(schema_section("add_commits_and_files").unwrap().contains("CREATE TABLE commits"));
        assert!(schema_section("no_such_step").is_err());
    }

    #[test]
    fn a_database_from_a_newer_binary_is_refused_with_a_clear_message() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        let err = run(&conn).unwrap_err().to_string();
        assert!(err.contains("newer triggerd"), "{err}");
    }
}
