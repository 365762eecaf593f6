//! Project webhooks: the SSRF guard, payloads, signatures, the retry/auto-disable schedule, one
//! delivery attempt, and the background deliverer that drains the outbox.
//!
//! Events are written by SQL triggers (schema.sql, `add_webhooks`) into `hook_deliveries` in the
//! same transaction as the status change that caused them, so every place in `db/` that changes
//! a pipeline's or a job's status emits them with no code of its own, a rollback emits nothing,
//! and a crash loses nothing. The writer thread wakes the deliverer after a commit that wrote
//! outbox rows; it also polls. Each hook gets its events one at a time, oldest first; hooks are
//! delivered to concurrently up to `webhooks.max_concurrency`.

pub mod payload;
pub mod schedule;
pub mod send;
pub mod signature;
pub mod ssrf;
mod worker;

pub use worker::{Deliverer, HookEvent, attempt_and_record, payload_for, request_for};
