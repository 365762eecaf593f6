//! Integration tests: each test starts the real server on 127.0.0.1:0 with a fresh database
//! directory and talks HTTP to it. One binary, so the crate links once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod authz_matrix;
mod bad_input;
mod bridges;
mod ci_pipelines;
mod commits;
mod files;
mod hardening;
mod health;
mod hostile_params;
mod job_tokens;
mod jobs;
mod members;
mod openapi;
mod pipelines;
mod projects;
mod refs;
mod runner_executor;
mod runner_protocol;
mod runners;
mod server;
mod storage;
mod tokens;
mod trigger_policies;
mod triggers;
mod users;
mod web_ui;
mod webhook_receiver;
mod webhooks;
mod webhooks_api;
