//! The background deliverer: picks the due deliveries (the oldest pending one of each hook that
//! is not busy or disabled), builds and stores each payload at its first pick-up, sends it, and
//! records the attempt, the hook's health and the next try in one write.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Notify;

use super::payload::{self, TimeStyle};
use super::schedule::{AfterFailure, Backoff};
use super::send::{self, Limits, Outcome, Request};
use crate::config::WebhooksConfig;
use crate::db::hook_deliveries::{self as outbox, DueDelivery, LogRow};
use crate::db::hooks::{self, Health, HookRow};
use crate::db::{Db, hook_data};
use crate::error::{ApiError, ApiResult};
use crate::model;

/// The deliverer's handle: started with the server, stopped with it.
pub struct Deliverer {
    db: Db,
    cfg: WebhooksConfig,
    instance: String,
    wake: Notify,
    stopping: AtomicBool,
    busy: Mutex<HashSet<i64>>,
}

/// An event to deliver: what happened and to which object.
#[derive(Debug, Clone)]
pub struct HookEvent {
    /// `pipeline` or `job`.
    pub kind: String,
    pub object_id: i64,
    pub status: String,
}

impl Deliverer {
    pub fn new(db: Db, cfg: WebhooksConfig, instance: String) -> Arc<Deliverer> {
        Arc::new(Deliverer {
            db,
            cfg,
            instance,
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
            busy: Mutex::new(HashSet::new()),
        })
    }

    /// Stops the loop (in-flight attempts that do not finish stay pending and are retried
    /// after the next start: at-least-once).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    fn limits(&self) -> Limits {
        Limits {
            allow_local_network: self.cfg.allow_local_network,
            timeout: Duration::from_secs(self.cfg.timeout_secs),
        }
    }

    /// Runs until [`Deliverer::stop`]. Spawn it on the server's runtime.
    pub async fn run(self: Arc<Self>) {
        // A commit that wrote outbox rows wakes the loop.
        let me = self.clone();
        actix_web::rt::spawn(async move {
            while !me.stopping.load(Ordering::SeqCst) {
                me.db.outbox_written().await;
                me.wake.notify_one();
            }
        });
        let mut last_prune: Option<std::time::Instant> = None;
        while !self.stopping.load(Ordering::SeqCst) {
            if last_prune.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                last_prune = Some(std::time::Instant::now());
                self.prune().await;
            }
            if let Err(e) = self.dispatch().await {
                log::warn!("webhook deliverer: {e}");
            }
            let poll = Duration::from_millis(self.cfg.poll_interval_ms);
            let _ = tokio::time::timeout(poll, self.wake.notified()).await;
        }
        log::debug!("webhook deliverer stopped");
    }

    async fn prune(&self) {
        let days = self.cfg.log_retention_days.min(36_500) as i64;
        let before = model::format_ts(OffsetDateTime::now_utc() - time::Duration::days(days));
        if let Err(e) = self.db.write(move |c| Ok(outbox::prune(c, &before)?)).await {
            log::warn!("webhook log pruning failed: {e}");
        }
    }

    /// Starts an attempt for every due delivery whose hook is not busy, up to the concurrency.
    async fn dispatch(self: &Arc<Self>) -> ApiResult<()> {
        let busy: Vec<i64> = self.busy_set().iter().copied().collect();
        let free = self.cfg.max_concurrency.saturating_sub(busy.len()) as i64;
        if free == 0 {
            return Ok(());
        }
        let now = model::now();
        let due = self.db.read(move |c| Ok(outbox::due(c, &now, free, &busy)?)).await?;
        for d in due {
            if !self.busy_set().insert(d.hook.id) {
                continue;
            }
            let me = self.clone();
            actix_web::rt::spawn(async move {
                let hook_id = d.hook.id;
                if let Err(e) = me.deliver(d).await {
                    log::warn!("webhook {hook_id}: {e}");
                }
                me.busy_set().remove(&hook_id);
                me.wake.notify_one();
            });
        }
        Ok(())
    }

    fn busy_set(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn deliver(&self, d: DueDelivery) -> ApiResult<()> {
        let body = match d.payload.clone() {
            Some(p) => p,
            None => {
                let event =
                    HookEvent { kind: d.kind.clone(), object_id: d.object_id, status: d.status.clone() };
                let Some(built) = payload_for(&self.db, &event, &self.instance, TimeStyle::Queued).await?
                else {
                    // The pipeline or job is gone (deleted): nothing left to describe.
                    let id = d.id;
                    let now = model::now();
                    return self.db.write(move |c| Ok(outbox::finish_attempt(c, id, "failed", &now)?)).await;
                };
                let id = d.id;
                self.db
                    .write(move |c| Ok(outbox::set_payload(c, id, &built)?))
                    .await?
                    .ok_or(ApiError::RecordNotFound)?
            }
        };
        let req = request_for(&d.hook, event_name(&d.kind), &d.event_uuid, body, &self.instance);
        attempt_and_record(
            &self.db,
            &self.cfg,
            &d.hook,
            &req,
            trigger_name(&d.kind),
            Some(d.id),
            self.limits(),
        )
        .await
        .map(|_| ())
    }
}

/// `X-Gitlab-Event` of an event kind.
pub fn event_name(kind: &str) -> &'static str {
    if kind == "job" { "Job Hook" } else { "Pipeline Hook" }
}

/// The log's `trigger` of an event kind.
pub fn trigger_name(kind: &str) -> &'static str {
    if kind == "job" { "job_hooks" } else { "pipeline_hooks" }
}

/// Builds the JSON body of an event from the current rows (with the recorded status), or
/// `None` when its object no longer exists.
pub async fn payload_for(db: &Db, e: &HookEvent, base: &str, style: TimeStyle) -> ApiResult<Option<String>> {
    let (kind, id, status, base) = (e.kind.clone(), e.object_id, e.status.clone(), base.to_string());
    db.read(move |c| {
        let value = if kind == "job" {
            hook_data::job_data(c, id)?.map(|d| payload::job_hook(&d, &status, &base, style))
        } else {
            hook_data::pipeline_data(c, id)?.map(|d| payload::pipeline_hook(&d, &status, &base, style))
        };
        Ok(value.map(|v| v.to_string()))
    })
    .await
}

/// The request for one hook.
pub fn request_for(hook: &HookRow, event: &str, event_uuid: &str, body: String, instance: &str) -> Request {
    let custom: Vec<(String, String)> =
        serde_json::from_str::<Vec<serde_json::Value>>(&hook.settings.custom_headers)
            .unwrap_or_default()
            .iter()
            .filter_map(|h| {
                Some((h.get("key")?.as_str()?.to_string(), h.get("value")?.as_str()?.to_string()))
            })
            .collect();
    Request {
        url: hook.settings.url.clone(),
        body,
        event_name: event.to_string(),
        event_uuid: event_uuid.to_string(),
        token: hook.settings.token.clone(),
        signing_secret: hook.settings.signing_secret.clone(),
        custom_headers: custom,
        verify_tls: hook.settings.enable_ssl_verification,
        instance: instance.to_string(),
    }
}

fn after(d: Duration) -> String {
    let d = time::Duration::try_from(d).unwrap_or(time::Duration::days(1));
    model::format_ts(OffsetDateTime::now_utc().saturating_add(d))
}

/// Sends one attempt and records it in one write: the log row, the hook's health (GitLab's
/// auto-disabling) and, for an outbox delivery, its state and next try. A success re-enables a
/// disabled hook (the test call relies on it).
pub async fn attempt_and_record(
    db: &Db,
    cfg: &WebhooksConfig,
    hook: &HookRow,
    req: &Request,
    trigger: &str,
    delivery_id: Option<i64>,
    limits: Limits,
) -> ApiResult<Outcome> {
    let outcome = send::send(req, limits).await;
    let backoff = Backoff {
        retry_delay: Duration::from_millis(cfg.retry_delay_ms),
        disable_backoff: Duration::from_millis(cfg.disable_backoff_ms),
        max_disable_backoff: Duration::from_millis(cfg.max_disable_backoff_ms),
    };
    let log = LogRow {
        hook_id: hook.id,
        delivery_id,
        url: req.url.clone(),
        trigger: trigger.to_string(),
        event_uuid: req.event_uuid.clone(),
        request_headers: json_object(&outcome.request_headers),
        request_data: req.body.clone(),
        response_headers: json_object(&outcome.response_headers),
        response_body: outcome.response_body.clone(),
        response_status: outcome.status_text(),
        execution_duration: outcome.duration,
        internal_error_message: outcome.error.clone(),
        created_at: model::now(),
        ..LogRow::default()
    };
    let ok = outcome.ok();
    let hook_id = hook.id;
    db.write(move |c| {
        let Some(mut health) = hooks::health(c, hook_id)? else { return Ok(()) };
        let mut state = "delivered";
        let mut next = model::now();
        if ok {
            health = Health { recent_failures: 0, disabled_until: None, permanently_disabled: false };
        } else {
            health.recent_failures += 1;
            state = "pending";
            match backoff.after_failure(health.recent_failures) {
                AfterFailure::RetryIn(d) => next = after(d),
                AfterFailure::DisabledFor(d) => {
                    next = after(d);
                    health.disabled_until = Some(next.clone());
                }
                AfterFailure::Disabled => {
                    health.permanently_disabled = true;
                    health.disabled_until = None;
                    state = "failed";
                }
            }
        }
        hooks::set_health(c, hook_id, &health)?;
        if let Some(id) = delivery_id {
            outbox::finish_attempt(c, id, state, &next)?;
        }
        if health.permanently_disabled {
            outbox::fail_pending(c, hook_id)?;
        }
        outbox::insert_log(c, &log)?;
        Ok(())
    })
    .await?;
    Ok(outcome)
}

fn json_object(pairs: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        pairs.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    serde_json::Value::Object(map).to_string()
}
