//! Where reads run: [`Db::read_short`] in place when a pooled connection is free and on the
//! blocking pool when none is; both, like [`Db::read`], inside one read transaction.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::thread;
use std::time::Duration;

use super::{Db, OpenError};
use crate::config::DatabaseConfig;

/// A database in a fresh file whose read pool has `pool_size` connections.
fn fresh_db(pool_size: u32) -> (Db, std::path::PathBuf) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("triggerd-reads-{}-{nanos}", std::process::id()));
    let cfg = DatabaseConfig { path: dir.join("t.db"), pool_size, ..DatabaseConfig::default() };
    let db = Db::open(&cfg, |_| Ok::<(), OpenError>(())).unwrap();
    (db, dir)
}

#[test]
fn a_short_read_runs_on_the_calling_thread_inside_a_read_transaction() {
    let (db, dir) = fresh_db(2);
    actix_web::rt::System::new().block_on(async {
        let caller = thread::current().id();
        let (ran_on, in_transaction) =
            db.read_short(|c| Ok((thread::current().id(), !c.is_autocommit()))).await.unwrap();
        assert_eq!(ran_on, caller);
        assert!(in_transaction, "the closure runs inside one read transaction");
    });
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_short_read_waits_on_the_blocking_pool_while_every_connection_is_taken() {
    let (db, dir) = fresh_db(1);
    // The only connection is taken; it comes back a moment after the read below was asked for.
    let held = db.pool.get().unwrap();
    let giver = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        drop(held);
    });
    actix_web::rt::System::new().block_on(async {
        let caller = thread::current().id();
        let (ran_on, in_transaction) =
            db.read_short(|c| Ok((thread::current().id(), !c.is_autocommit()))).await.unwrap();
        assert_ne!(ran_on, caller, "with no free connection the read must not block the caller's thread");
        assert!(in_transaction);
    });
    giver.join().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_read_runs_on_the_blocking_pool_inside_a_read_transaction() {
    let (db, dir) = fresh_db(2);
    actix_web::rt::System::new().block_on(async {
        let caller = thread::current().id();
        let (ran_on, in_transaction) =
            db.read(|c| Ok((thread::current().id(), !c.is_autocommit()))).await.unwrap();
        assert_ne!(ran_on, caller);
        assert!(in_transaction);
    });
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_read_that_panics_ends_its_transaction_before_the_connection_goes_back_to_the_pool() {
    let (db, dir) = fresh_db(1);
    actix_web::rt::System::new().block_on(async {
        let panicked = std::panic::AssertUnwindSafe(
            db.read_short(|_| -> crate::error::ApiResult<()> { panic!("a bug in a read") }),
        );
        assert!(futures_util::FutureExt::catch_unwind(panicked).await.is_err());
        // The pool's only connection again: a transaction still open on it would refuse `BEGIN`.
        let in_transaction = db.read_short(|c| Ok(!c.is_autocommit())).await.unwrap();
        assert!(in_transaction);
        let after: bool = db.pool.get().unwrap().is_autocommit();
        assert!(after, "the connection is back in the pool with no transaction open");
    });
    let _ = std::fs::remove_dir_all(dir);
}
