-- Shared by the wrk scripts: prints one machine-readable line when a run ends.
-- errors = socket errors (connect, read, write, timeout) + responses with status >= 400
-- (wrk's own "Non-2xx or 3xx" counter; no 3xx is ever answered on these routes).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d status_errors=%d socket_errors=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout + e.status, e.status,
    e.connect + e.read + e.write + e.timeout))
end
