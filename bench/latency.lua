-- wrk script: at the end of a run, print one machine-readable line with the latency
-- percentiles (microseconds) that wrk's own --latency summary lacks (p95), and the errors.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d mean_us=%d max_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    math.floor(latency.mean), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
