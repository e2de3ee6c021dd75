-- Every LLM call attempt becomes an llm_calls row, written in batches off the
-- caller's path: rows queue, a timer flushes them in one transaction, and a
-- failure to write is reported once and never fails a call.
local uv = require "luv"

local M = { flush_ms = 100, batch = 200 }

-- An error as the user sees it: its first line, not the SQL statement after it.
local function first_line(err) return (tostring(err):match("^[^\n]*")) end

local queues = setmetatable({}, { __mode = "k" })   -- db -> {rows = {}, timer =, reported =}

-- prune(db) -> rows removed: llm_calls older than the llm_call_retention_days
-- setting ("0", unset or not a whole number keeps them forever). Done once per database per process,
-- at its first flush.
function M.prune(db)
  local days = require("candor.repo.settings"):whole_number(db, "llm_call_retention_days", nil, 0)
  if not days or days == 0 then return 0 end
  local cutoff = os.date("!%Y-%m-%dT%H:%M:%S", os.time() - days * 86400) .. ".000Z"
  return db:run("DELETE FROM llm_calls WHERE timestamp < ?", cutoff)
end

-- A row's session or generation job may be gone by the time it is written
-- (deleted meanwhile, perhaps by another process): the call is still logged,
-- with that reference NULL. Checked inside the write transaction, so nothing
-- can be deleted between the check and the insert. known caches the answers.
local REFERENCES = { session_id = "sessions", job_id = "generation_jobs" }

local function drop_dangling(db, row, known)
  for column, table_name in pairs(REFERENCES) do
    local id = row[column]
    if id ~= nil then
      local key = table_name .. "\0" .. id
      if known[key] == nil then
        known[key] = db:value("SELECT 1 FROM " .. table_name .. " WHERE id = ?", id) ~= nil
      end
      if not known[key] then row[column] = nil end
    end
  end
end

local function flush_queue(db, q)
  if not q.pruned and db:is_open() then
    q.pruned = true
    local ok, err = pcall(M.prune, db)
    if not ok then io.stderr:write("candor: could not prune old LLM calls: ", first_line(err), "\n") end
  end
  if #q.rows == 0 then return end
  local rows = q.rows
  q.rows = {}
  if not db:is_open() then return end
  local calls = require "candor.repo.llm_calls"
  local ok, err = pcall(db.transaction, db, function()
    local known = {}
    for _, row in ipairs(rows) do
      drop_dangling(db, row, known)
      calls:insert(db, row)
    end
  end)
  if not ok and not q.reported then
    q.reported = true
    io.stderr:write("candor: could not log LLM calls (further failures are not reported): ", first_line(err), "\n")
  end
end

-- add(db, row): queue a row for db; written within flush_ms, or at once past batch rows.
function M.add(db, row)
  local q = queues[db]
  if not q then
    q = { rows = {} }
    queues[db] = q
  end
  q.rows[#q.rows + 1] = row
  if #q.rows >= M.batch then return flush_queue(db, q) end
  if not q.timer then
    q.timer = uv.new_timer()
    q.timer:unref()                   -- a pending log never keeps the process alive
  end
  if not q.timer:is_active() then
    q.timer:start(M.flush_ms, 0, function() flush_queue(db, q) end)
  end
end

-- flush([db]): write what is queued now (for db, or for every db).
function M.flush(db)
  for d, q in pairs(queues) do
    if not db or d == db then
      if q.timer and q.timer:is_active() then q.timer:stop() end
      flush_queue(d, q)
    end
  end
end

return M
