//! The writer's group commit: a write that fails at the SQL level inside a batch rolls back
//! alone, and every other write of that batch is committed and answered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc as std_mpsc;
use std::task::{Context, Poll, Waker};

use rusqlite::params;

use super::{Db, OpenError};
use crate::config::DatabaseConfig;
use crate::error::{ApiError, ApiResult};

type Reply = Pin<Box<dyn Future<Output = ApiResult<(i64, bool)>>>>;

/// A database in a fresh file with one probe table whose primary key the failing write violates.
fn probe_db(max_batch: usize) -> (Db, std::path::PathBuf) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("triggerd-batch-{}-{nanos}", std::process::id()));
    let cfg = DatabaseConfig { path: dir.join("t.db"), max_batch, ..DatabaseConfig::default() };
    let db = Db::open(&cfg, |c| {
        c.execute_batch("CREATE TABLE batch_probe (k INTEGER PRIMARY KEY)").map_err(OpenError::from)
    })
    .unwrap();
    (db, dir)
}

/// Polls a future once, so that it queues its job on the writer.
fn poll_once<T>(f: &mut Pin<Box<dyn Future<Output = T>>>) -> Poll<T> {
    f.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn one_failing_write_in_a_batch_of_200_leaves_the_other_199_committed_and_answered() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let (db, dir) = probe_db(256);
    const FAILING: i64 = 100;

    // Hold the writer inside a write so that the 200 writes below queue up behind it and the
    // writer then takes them as one batch (max_batch is 256).
    let (started_tx, started_rx) = std_mpsc::channel::<()>();
    let (release_tx, release_rx) = std_mpsc::channel::<()>();
    let holder = db.clone();
    let mut hold: Pin<Box<dyn Future<Output = ApiResult<()>>>> = Box::pin(async move {
        holder
            .write(move |_| {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                Ok(())
            })
            .await
    });
    assert!(poll_once(&mut hold).is_pending());
    started_rx.recv().unwrap();

    let mut writes: Vec<Reply> = (0..200i64)
        .map(|i| {
            let db = db.clone();
            Box::pin(async move {
                db.write(move |c| {
                    let in_batch = !c.is_autocommit();
                    if i == FAILING {
                        // A row of its own first, then a key job 0 already took: the constraint
                        // fails and this job's savepoint must take its first row back too.
                        c.execute("INSERT INTO batch_probe (k) VALUES (?1)", params![10_000])?;
                        c.execute("INSERT INTO batch_probe (k) VALUES (?1)", params![0])?;
                    } else {
                        c.execute("INSERT INTO batch_probe (k) VALUES (?1)", params![i])?;
                    }
                    Ok((i, in_batch))
                })
                .await
            }) as Reply
        })
        .collect();
    for w in &mut writes {
        assert!(poll_once(w).is_pending(), "every write waits for its batch's commit");
    }
    release_tx.send(()).unwrap();

    let replies = rt.block_on(async {
        hold.await.unwrap();
        futures_util::future::join_all(writes).await
    });

    let mut answered = Vec::new();
    for (i, reply) in (0i64..).zip(replies) {
        match reply {
            Ok((k, in_batch)) => {
                assert_eq!(k, i);
                assert!(in_batch, "write {i} ran inside the batch transaction");
                answered.push(k);
            }
            Err(e) => {
                assert_eq!(i, FAILING, "only the failing write is refused, not write {i}: {e:?}");
                assert!(matches!(e, ApiError::Internal(ref m) if m.contains("UNIQUE")), "{e:?}");
            }
        }
    }
    let expected: Vec<i64> = (0..200).filter(|&i| i != FAILING).collect();
    assert_eq!(answered, expected, "199 writes answered Ok");

    let committed: Vec<i64> = rt
        .block_on(db.read(|c| {
            let mut st = c.prepare("SELECT k FROM batch_probe ORDER BY k")?;
            let rows = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
            Ok(rows)
        }))
        .unwrap();
    assert_eq!(committed, expected, "the 199 rows are committed, nothing of the failing write is");
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
}
