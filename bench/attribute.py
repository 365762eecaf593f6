#!/usr/bin/env python3
"""Attributes the samples of a perf profile to cost categories: each sample goes to the first
category (in the order below) that a frame of its call stack matches.

    python3 bench/attribute.py PERF_DATA

Needs a frame-pointer build for call stacks through triggerd and the bundled SQLite (CFLAGS:
without it, stacks end inside SQLite and its samples land in "actix/tokio" or "other"):
    CFLAGS="-fno-omit-frame-pointer" RUSTFLAGS="-C force-frame-pointers=yes" \\
        CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --target-dir target-prof
and `perf record -g` (PERF=1 bench/reads.sh, bench/profile.sh)."""
import re, subprocess, sys, collections
data = sys.argv[1]
cats = [
 ("access log (env_logger)", r"env_logger|Logger as log::Log|middleware::logger::StreamLog"),
 ("router (regex)", r"regex::regex|regex_automata|ResourceDef::capture_match_info"),
 ("read transaction: begin, WAL read lock, end", r"ReadTransaction.*::begin|ReadTransaction as core::ops::drop::Drop|sqlite3PagerSharedLock|sqlite3WalEndReadTransaction|pager_unlock"),
 ("credential (PAT + user)", r"triggerd::auth::resolve_in"),
 ("project + access level", r"triggerd::api::access::lookup|triggerd::db::access::"),
 ("writer: pipeline + variables insert", r"triggerd::db::pipelines::insert"),
 ("writer: jobs insert + advance", r"triggerd::db::jobs::progress::insert_plan"),
 ("writer: audit row", r"triggerd::db::trigger_events::insert"),
 ("writer: savepoints", r"subjournalPageIfRequired|pagerOpenSavepoint|sqlite3PagerSavepoint|releaseAllSavepoints|in_savepoint.*SAVEPOINT"),
 ("writer: WAL frame writes (commit)", r"walWriteOneFrame|pagerWalFrames|sqlite3WalFrames"),
 ("writer: fsync", r"\bfsync\b|do_fsync"),
 ("writer: reads inside the write (project, token, owner, ref, config)", r"trigger_call::credential|find_trigger_by_digest|db::projects::find|db::users::find|db::refs::resolve|db::files::blob_at|trigger_call::find_project"),
 ("writer: other", r"triggerd::db::writer::"),
 ("handler SQL (the rows asked for)", r"triggerd::db::(pipelines::(page|find)|triggers::(list|count|find))|pipeline_links::links_in"),
 ("JSON (entities, serialization)", r"serde_json|HttpResponseBuilder::json|pagination::respond|Paging::respond|TriggerJson|PipelineBasic::new|Pipeline::new|UserBasic"),
 ("request parsing (params, body)", r"triggerd::api::params|trigger_call::validate|trigger_payload"),
 ("bridge worker, sweeper", r"bridges::worker|runner_jobs::sweeper"),
 ("TCP send (kernel)", r"__send|tcp_sendmsg|__x64_sys_sendto|writev"),
 ("TCP receive, epoll (kernel)", r"__libc_recv|__x64_sys_recvfrom|epoll_wait|tcp_recvmsg|readv"),
 ("thread hand-offs (futex, scheduling)", r"futex|__schedule|finish_task_switch|try_to_wake_up"),
 ("actix/tokio (HTTP codec, dispatch)", r"actix|tokio"),
]
out = subprocess.run(["perf", "script", "-i", data, "-F", "comm,ip,sym"], capture_output=True, text=True).stdout
counts = collections.Counter(); total = 0; stack = []
def flush():
    global total
    if not stack: return
    total += 1
    s = "|".join(stack)
    for name, rx in cats:
        if re.search(rx, s):
            counts[name] += 1; return
    counts["other"] += 1
for line in out.splitlines():
    if not line.strip():
        flush(); stack = []; continue
    if not line.startswith((" ", "\t")):
        flush(); stack = []; continue
    parts = line.strip().split(None, 1)
    stack.append(parts[1] if len(parts) > 1 else parts[0])
flush()
for name, _ in cats + [("other", "")]:
    if counts[name]:
        print(f"{100 * counts[name] / total:5.1f} %  {name}")
print(f"({total} samples)")
