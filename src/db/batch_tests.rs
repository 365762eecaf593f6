//! The writer's group commit: a write that fails inside a batch is undone alone, and every other
//! write of that batch is committed and answered. A batch runs bare first; only a write that
//! failed after it had written makes the writer replay the batch with a savepoint per write.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::task::{Context, Poll, Waker};

use rusqlite::{Connection, params};

use super::{Db, OpenError};
use crate::config::DatabaseConfig;
use crate::error::{ApiError, ApiResult};

type Reply = Pin<Box<dyn Future<Output = ApiResult<(i64, bool)>>>>;

const BATCH: i64 = 200;
const FAILING: i64 = 100;

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

/// What a batch of [`BATCH`] writes did: each write's reply, how often each write's closure
/// ran, and the probe rows committed.
struct Batch {
    replies: Vec<ApiResult<(i64, bool)>>,
    runs: Vec<usize>,
    committed: Vec<i64>,
}

/// Queues [`BATCH`] writes as ONE batch — the writer is held inside an earlier write while they
/// queue (max_batch is 256) — each running `write(i, conn)`, and reports what happened.
fn one_batch(write: fn(i64, &Connection) -> ApiResult<()>) -> Batch {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let (db, dir) = probe_db(256);

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

    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..BATCH).map(|_| AtomicUsize::new(0)).collect());
    let mut writes: Vec<Reply> = (0..BATCH)
        .map(|i| {
            let (db, runs) = (db.clone(), runs.clone());
            Box::pin(async move {
                db.write(move |c| {
                    runs[usize::try_from(i).unwrap()].fetch_add(1, Ordering::SeqCst);
                    let in_batch = !c.is_autocommit();
                    write(i, c)?;
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
    let committed: Vec<i64> = rt
        .block_on(db.read(|c| {
            let mut st = c.prepare("SELECT k FROM batch_probe ORDER BY k")?;
            let rows = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
            Ok(rows)
        }))
        .unwrap();
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
    let runs = runs.iter().map(|r| r.load(Ordering::SeqCst)).collect();
    Batch { replies, runs, committed }
}

fn is_unique_violation(e: &ApiError) -> bool {
    matches!(e, ApiError::Internal(m) if m.contains("UNIQUE"))
}

fn insert(c: &Connection, k: i64) -> ApiResult<()> {
    c.execute("INSERT INTO batch_probe (k) VALUES (?1)", params![k])?;
    Ok(())
}

/// Checks that every write but [`FAILING`] was answered `Ok` from inside the batch and committed
/// its row, and that the failing one was refused as `refused` says and left no row.
fn assert_all_but_the_failing_write_committed(batch: &Batch, refused: impl Fn(&ApiError) -> bool) {
    let mut answered = Vec::new();
    for (i, reply) in (0i64..).zip(&batch.replies) {
        match reply {
            Ok((k, in_batch)) => {
                assert_eq!(*k, i);
                assert!(in_batch, "write {i} ran inside the batch transaction");
                answered.push(*k);
            }
            Err(e) => {
                assert_eq!(i, FAILING, "only the failing write is refused, not write {i}: {e:?}");
                assert!(refused(e), "{e:?}");
            }
        }
    }
    let expected: Vec<i64> = (0..BATCH).filter(|&i| i != FAILING).collect();
    assert_eq!(answered, expected, "199 writes answered Ok");
    assert_eq!(batch.committed, expected, "the 199 rows are committed, nothing of the failing write is");
}

#[test]
fn one_write_failing_after_it_wrote_in_a_batch_of_200_is_undone_alone_by_a_replay() {
    let batch = one_batch(|i, c| {
        if i == FAILING {
            // A row of its own first, then a key write 0 already took: the constraint fails after
            // this write changed a row, so the batch is replayed and its first row undone too.
            insert(c, 10_000)?;
            insert(c, 0)
        } else {
            insert(c, i)
        }
    });
    assert_all_but_the_failing_write_committed(&batch, is_unique_violation);
    // The writes up to the failing one ran bare and then again in the replay; the later ones
    // ran once, in the replay.
    let expected_runs: Vec<usize> = (0..BATCH).map(|i| if i <= FAILING { 2 } else { 1 }).collect();
    assert_eq!(batch.runs, expected_runs);
}

#[test]
fn a_write_refused_before_it_wrote_anything_costs_the_batch_no_replay() {
    let batch = one_batch(|i, c| {
        if i == FAILING {
            // Write 0's key at once: the statement fails and SQLite undoes it by itself, so
            // nothing of this write is in the batch and the batch goes on.
            insert(c, 0)
        } else {
            insert(c, i)
        }
    });
    assert_all_but_the_failing_write_committed(&batch, is_unique_violation);
    assert_eq!(batch.runs, vec![1; BATCH as usize], "every write ran once");

    let batch = one_batch(|i, c| {
        if i == FAILING {
            return Err(ApiError::BadRequest("refused by validation".into()));
        }
        insert(c, i)
    });
    assert_all_but_the_failing_write_committed(&batch, |e| matches!(e, ApiError::BadRequest(_)));
    assert_eq!(batch.runs, vec![1; BATCH as usize], "every write ran once");
}

#[test]
fn a_write_that_panics_after_writing_is_refused_alone_and_the_rest_commit() {
    let batch = one_batch(|i, c| {
        insert(c, if i == FAILING { 10_000 } else { i })?;
        if i == FAILING {
            panic!("a bug in a write");
        }
        Ok(())
    });
    assert_all_but_the_failing_write_committed(
        &batch,
        |e| matches!(e, ApiError::Internal(m) if m.contains("panicked")),
    );
    assert_eq!(batch.runs[usize::try_from(FAILING).unwrap()], 2, "it ran bare, then in its savepoint");
}
