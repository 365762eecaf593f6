-- GET with a personal access token (PRIVATE-TOKEN from $BENCH_PAT when set).
local pat = os.getenv("BENCH_PAT")
if pat and pat ~= "" then
  wrk.headers["PRIVATE-TOKEN"] = pat
end
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
