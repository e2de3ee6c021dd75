-- Opening Candor's database: pragmas, numbered migrations, transactions.
-- core.db (C) gives connections, statements and rows; the policy lives here.
local core = require "core.db"
local paths = require "candor.paths"
local host = require "core.host"

local M = { null = core.null }

-- Frames of WAL not yet copied into the database that start a background
-- checkpoint: the size of SQLite's own auto-checkpoint.
M.checkpoint_pages = 1000

local methods = core.methods
local savepoint_seq = 0

-- db:transaction(fn, ...) runs fn(...) in one transaction (BEGIN IMMEDIATE, so a
-- writer takes the lock up front) and returns its results; an error rolls it back
-- and is raised again unchanged. Nested calls become savepoints.
function methods:transaction(fn, ...)
  local nested = self:in_transaction()
  local sp
  if nested then
    savepoint_seq = savepoint_seq + 1
    sp = "candor_sp" .. savepoint_seq
    self:exec("SAVEPOINT " .. sp)
  else
    self:exec("BEGIN IMMEDIATE")
  end
  -- A task stopped by a limit never returns here: roll back when it ends.
  local remove = require("candor.async").on_exit(function()
    if self:is_open() and self:in_transaction() then
      if nested then pcall(self.exec, self, "ROLLBACK TO " .. sp .. "; RELEASE " .. sp)
      else pcall(self.exec, self, "ROLLBACK") end
    end
  end)
  local res = table.pack(pcall(fn, ...))
  remove()
  if res[1] then
    if nested then self:exec("RELEASE " .. sp) else self:exec("COMMIT") end
    return table.unpack(res, 2, res.n)
  end
  if nested then
    self:exec("ROLLBACK TO " .. sp)
    self:exec("RELEASE " .. sp)
  elseif self:in_transaction() then
    self:exec("ROLLBACK")
  end
  error(res[2], 0)
end

local function fail(fmt, ...)
  error(string.format(fmt, ...), 0)
end

-- Migrations are lua/candor/migrations/NNNN_name.sql in the built-in root, applied
-- in order, each in one transaction, and recorded in schema_migrations.
function M.migration_files()
  local uv = require "luv"
  local dir = paths.root .. "/lua/candor/migrations"
  local files = {}
  local it = uv.fs_scandir(dir)
  while it do
    local name = uv.fs_scandir_next(it)
    if not name then break end
    local num, label = name:match("^(%d+)_(.+)%.sql$")
    if num then files[#files + 1] = { version = tonumber(num), name = label, path = dir .. "/" .. name } end
  end
  table.sort(files, function(a, b) return a.version < b.version end)
  return files
end

-- Applies what is missing; returns the list of migrations applied now.
function M.migrate(db)
  db:exec([[CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL)]])
  local done = {}
  for _, r in ipairs(db:query("SELECT version FROM schema_migrations")) do done[r.version] = true end
  local applied = {}
  for _, m in ipairs(M.migration_files()) do
    if not done[m.version] then
      local sql = assert(paths.read_file(m.path))
      db:transaction(function()
        local ok, err = pcall(db.exec, db, sql)
        if not ok then fail("migration %04d_%s failed: %s", m.version, m.name, err) end
        db:run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
               m.version, m.name, host.now())
      end)
      applied[#applied + 1] = m
    end
  end
  return applied
end

-- quick_check(db) -> true | nil, problem: a full scan, so only init runs it.
function M.quick_check(db)
  local r = db:value("PRAGMA quick_check(1)")
  if r == "ok" then return true end
  return nil, tostring(r)
end

-- open(path [, {readonly = bool, migrate = bool, seed = bool}]) -> db, info
-- Raises a clear error for a directory, a read-only or corrupt file, or a path
-- that cannot be created. info.created is true for a new database, info.migrations
-- lists migrations applied now.
function M.open(path, opts)
  opts = opts or {}
  if paths.is_dir(path) then fail("cannot open database %s: it is a directory", path) end
  local existed = paths.exists(path)
  if opts.readonly and not existed then fail("no database at %s (run 'candor init')", path) end
  if not existed then
    local ok, err = paths.mkdir_p(paths.dirname(path))
    if not ok then fail("cannot create database %s: %s", path, err) end
  end
  local db, err = core.open(path, { readonly = opts.readonly })
  if not db then
    if not existed then err = err .. " (is the directory writable?)" end
    error(err, 0)
  end
  if not opts.readonly and db:readonly() then
    db:close()
    fail("database %s is read-only (check the file's permissions)", path)
  end
  local ok, perr = pcall(function()
    db:exec("PRAGMA foreign_keys = ON")
    if not opts.readonly then
      local mode = db:value("PRAGMA journal_mode = WAL")
      db:exec("PRAGMA synchronous = NORMAL")
      -- the log is copied into the database on a worker thread, not by
      -- whichever commit finds it long (a stop of the loop for milliseconds)
      if mode == "wal" then db:checkpoint_in_background(M.checkpoint_pages) end
      -- Big transactions (a pipeline's llm_calls, a discovery run) spill out of
      -- SQLite's default 2 MB page cache; memory is only taken as pages are used.
      db:exec("PRAGMA cache_size = -65536")
    end
  end)
  if not ok then
    db:close()
    if type(perr) == "string" and not perr:find(path, 1, true) then perr = "cannot use database " .. path .. ": " .. perr end
    error(perr, 0)
  end
  local fresh = db:value("SELECT count(*) FROM sqlite_schema WHERE name = 'schema_migrations'") == 0
  local info = { created = fresh, migrations = {} }
  if not opts.readonly and opts.migrate ~= false then
    info.migrations = M.migrate(db)
    if fresh and opts.seed ~= false then info.seeded = require("candor.seed").run(db) end
  end
  return db, info
end

return M
