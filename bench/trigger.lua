-- POST /projects/:id/trigger/pipeline with a JSON body: token, ref and three variables.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format(
  '{"token":"%s","ref":"main","variables":{"DEPLOY_ENV":"staging","SERVICE":"api","BUILD_NOTES":"triggered by the benchmark"}}',
  os.getenv("BENCH_TRIGGER_TOKEN"))
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
