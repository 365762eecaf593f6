//! Integration tests: each test starts the real server on 127.0.0.1:0 with a fresh database
//! directory and talks HTTP to it. One binary, so the crate links once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod authz_matrix;
mod bad_input;
mod bridges;
mod ci_pipelines;
mod commit_statuses;
mod commits;
mod external_jobs;
mod files;
mod groups;
mod hardening;
mod health;
mod hostile_params;
mod job_tokens;
mod jobs;
mod large_lists;
mod members;
mod namespaces;
mod one_read_auth;
mod openapi;
mod pipelines;
mod projects;
mod refs;
mod runner_executor;
mod runner_protocol;
mod runner_wakeups;
mod runners;
mod server;
mod storage;
mod tokens;
mod trigger_events;
mod trigger_idempotency;
mod trigger_lifetimes;
mod trigger_policies;
mod trigger_throttle;
mod triggers;
mod users;
mod web_hooks;
mod web_pats;
mod web_pipelines;
mod web_runners;
mod web_support;
mod web_trigger_events;
mod web_triggers;
mod web_ui;
mod webhook_receiver;
mod webhooks;
mod webhooks_api;
