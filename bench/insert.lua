-- llm_calls-shaped inserts through the Lua repository in one transaction
-- (target >= 100,000 rows/s), against the same rows through core.db with one
-- hand-written prepared INSERT: the floor the repository layer adds to.
-- Each is run on tmpfs (/dev/shm: what the code costs) and on the disk under
-- /tmp (what this machine's block device adds); best of 3 runs, interleaved.
local dbm = require "candor.db"
local repo = require "candor.repo"
local host = require "core.host"
local crypto = require "core.crypto"
local uv = require "luv"

local rows = tonumber(arg[1]) or 200000
local tries = 3

local function prompt(i)
  return "Rewrite the battlecard for pain point " .. i .. " in the practitioner voice. Keep every number."
end

local RAW_SQL = [[INSERT INTO llm_calls (id, session_id, job_id, timestamp, model, purpose, system_prompt,
  user_prompt, response, input_tokens, output_tokens, total_tokens, cached_tokens, latency_ms, success,
  error_message, finish_reason, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)]]

local variants = {
  { name = "core.db prepared INSERT (reference)", run = function(db)
    for i = 1, rows do
      local now = host.now()
      db:run(RAW_SQL, crypto.nanoid(), nil, nil, now, "gemini-2.5-flash", "generate:battlecard",
        "You are a careful product marketer.", prompt(i), "Draft text " .. i, 812, 344, 1156, 0, 1840,
        1, nil, "STOP", now)
    end
  end },
  { name = "repository llm_calls.insert", run = function(db)
    local calls = repo.bind(db).llm_calls
    for i = 1, rows do
      calls.insert {
        model = "gemini-2.5-flash", purpose = "generate:battlecard",
        system_prompt = "You are a careful product marketer.", user_prompt = prompt(i),
        response = "Draft text " .. i, input_tokens = 812, output_tokens = 344, total_tokens = 1156,
        cached_tokens = 0, latency_ms = 1840, success = true, finish_reason = "STOP",
      }
    end
  end },
}

-- One timed run: inserts plus COMMIT (which writes the WAL and may checkpoint).
local function once(dir, v)
  local path = dir .. "/bench.db"
  for _, s in ipairs({ "", "-wal", "-shm" }) do os.remove(path .. s) end
  local db = dbm.open(path)
  collectgarbage()
  local t0 = host.clock()
  db:transaction(function() v.run(db) end)
  local secs = host.clock() - t0
  assert(db:value("SELECT count(*) FROM llm_calls") == rows)
  db:close()
  return rows / secs
end

local results = {}
for _, place in ipairs({ { label = "tmpfs", base = "/dev/shm" }, { label = "disk", base = "/tmp" } }) do
  local dir = assert(uv.fs_mkdtemp(place.base .. "/candor-bench-XXXXXX"))
  local best = {}
  for _ = 1, tries do
    for i, v in ipairs(variants) do best[i] = math.max(best[i] or 0, once(dir, v)) end
  end
  os.execute("rm -rf '" .. dir .. "'")
  for i, v in ipairs(variants) do
    print(string.format("%-6s %-40s %9.0f rows/s  (best of %d, %d rows)", place.label, v.name, best[i], tries, rows))
  end
  print(string.format("%-6s repository / reference: %.2f; target >= 100000 rows/s: %s", place.label,
    best[2] / best[1], best[2] >= 100000 and "met" or "NOT met"))
  results[place.label] = best
end
