-- core.db and candor.db: statements, parameters, NULLs, transactions, migrations, errors.
local T = require "candor.testing"
local core = require "core.db"
local dbm = require "candor.db"
local cjson = require "cjson"

local function mem()
  local db = assert(core.open(":memory:"))
  db:exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, note TEXT, data BLOB)")
  return db
end

T.test("query returns rows keyed by column, with column names in order", function()
  local db = mem()
  db:run("INSERT INTO t (name, score) VALUES (?, ?)", "a", 1.5)
  db:run("INSERT INTO t (name, score) VALUES (?, ?)", "b", 2)
  local rows, cols = db:query("SELECT id, name, score FROM t ORDER BY id")
  T.eq(cols, { "id", "name", "score" })
  T.eq(#rows, 2)
  T.eq(rows[1].name, "a")
  T.eq(rows[1].score, 1.5)
  T.eq(math.type(rows[2].score), "float", "REAL stays a float")
  T.eq(math.type(rows[1].id), "integer", "INTEGER is a Lua integer")
end)

T.test("named parameters with : @ $ and positional ?NNN", function()
  local db = mem()
  db:run("INSERT INTO t (name, note) VALUES (:name, @note)", { name = "x", note = "n" })
  T.eq(db:value("SELECT note FROM t WHERE name = $n", { n = "x" }), "n")
  T.eq(db:value("SELECT ?2 || ?1", "a", "b"), "ba")
end)

T.test("NULL survives a round trip: read rows lack the key, writing them back keeps NULL", function()
  local db = mem()
  db:run("INSERT INTO t (name, note) VALUES (?, ?)", "a", nil)
  local row = db:first("SELECT * FROM t")
  T.eq(row.note, nil)
  db:run("INSERT INTO t (name, note, score) VALUES (:name, :note, :score)", row)
  T.eq(db:value("SELECT count(*) FROM t WHERE note IS NULL AND score IS NULL"), 2)
  db:run("INSERT INTO t (name, note) VALUES (?, ?)", "c", core.null)
  db:run("INSERT INTO t (name, note) VALUES (?, ?)", "d", cjson.null)
  T.eq(db:value("SELECT count(*) FROM t WHERE note IS NULL"), 4)
  T.ok(core.null == cjson.null, "core.db.null is cjson.null")
end)

T.test("booleans bind as 0/1, binary strings survive", function()
  local db = mem()
  local bin = "a\0b\255c"
  db:run("INSERT INTO t (name, score, data) VALUES (?, ?, ?)", "b", true, bin)
  local row = db:first("SELECT score, data FROM t")
  T.eq(row.score, 1.0)
  T.eq(row.data, bin)
end)

T.test("binding a table is an error that names the parameter and the SQL", function()
  local db = mem()
  local msg = T.raises(function() db:run("INSERT INTO t (name) VALUES (:name)", { name = { 1 } }) end, "cannot bind a table")
  T.contains(msg, ":name")
  T.contains(msg, "INSERT INTO t")
end)

T.test("errors carry SQLite's message and the SQL", function()
  local db = mem()
  local msg = T.raises(function() db:query("SELECT nope FROM t") end, "no such column: nope")
  T.contains(msg, "in: SELECT nope FROM t")
  T.raises(function() db:query("SELECT 1; SELECT 2") end, "one statement")
  T.raises(function() db:run("SELECT ?", 1, 2) end, "2 values given for 1 parameters")
end)

T.test("a statement that failed can run again (cache resets it)", function()
  local db = mem()
  db:exec("CREATE TABLE u (k TEXT UNIQUE)")
  db:run("INSERT INTO u VALUES (?)", "a")
  T.raises(function() db:run("INSERT INTO u VALUES (?)", "a") end, "UNIQUE")
  db:run("INSERT INTO u VALUES (?)", "b")
  T.eq(db:value("SELECT count(*) FROM u"), 2)
end)

T.test("rows() iterates lazily and can be left early", function()
  local db = mem()
  for i = 1, 100 do db:run("INSERT INTO t (name) VALUES (?)", "n" .. i) end
  local n = 0
  for row in db:rows("SELECT name FROM t WHERE id > ? ORDER BY id", 90) do
    n = n + 1
    T.eq(row.name, "n" .. (90 + n))
  end
  T.eq(n, 10)
  for _ in db:rows("SELECT * FROM t") do break end
  T.eq(db:value("SELECT count(*) FROM t"), 100)
end)

T.test("close is idempotent; __close closes; use after close is a clear error", function()
  local db = mem()
  db:close()
  db:close()
  T.raises(function() db:query("SELECT 1") end, "database is closed")
  local kept
  do
    local d <close> = mem()
    kept = d
  end
  T.eq(kept:is_open(), false)
end)

T.test("transaction commits, rolls back on error and re-raises the same error", function()
  local db = mem()
  db:transaction(function() db:run("INSERT INTO t (name) VALUES ('ok')") end)
  local err = { code = 42 }
  local ok, got = pcall(db.transaction, db, function()
    db:run("INSERT INTO t (name) VALUES ('lost')")
    error(err)
  end)
  T.eq(ok, false)
  T.ok(got == err, "the error object passes through unchanged")
  T.eq(db:value("SELECT group_concat(name) FROM t"), "ok")
  T.eq(db:in_transaction(), false)
end)

T.test("nested transactions are savepoints: an inner failure keeps the outer work", function()
  local db = mem()
  local a, b = db:transaction(function()
    db:run("INSERT INTO t (name) VALUES ('outer')")
    pcall(db.transaction, db, function()
      db:run("INSERT INTO t (name) VALUES ('inner')")
      error("inner fails")
    end)
    db:transaction(function() db:run("INSERT INTO t (name) VALUES ('inner2')") end)
    return 1, 2
  end)
  T.eq({ a, b }, { 1, 2 }, "results pass through")
  T.eq(db:value("SELECT group_concat(name, ',') FROM (SELECT name FROM t ORDER BY id)"), "outer,inner2")
end)

T.test("statement cache stays correct past its size limit", function()
  local db = mem()
  for i = 1, 600 do
    T.eq(db:value("SELECT " .. i .. " + ?", 1), i + 1)
  end
  T.eq(db:value("SELECT 1 + ?", 1), 2)
end)

T.test("open: WAL, foreign keys on, migrations recorded, second open changes nothing", function()
  local path = T.tmpdir() .. "/sub/dir/c.db"
  local db, info = dbm.open(path)
  T.eq(info.created, true)
  T.eq(#info.migrations >= 1, true)
  T.eq(db:value("PRAGMA journal_mode"), "wal")
  T.eq(db:value("PRAGMA foreign_keys"), 1)
  local n = db:value("SELECT count(*) FROM schema_migrations")
  local schema = db:value("SELECT group_concat(sql) FROM sqlite_schema")
  db:close()
  local db2, info2 = dbm.open(path)
  T.eq(info2.created, false)
  T.eq(#info2.migrations, 0)
  T.eq(db2:value("SELECT count(*) FROM schema_migrations"), n)
  T.eq(db2:value("SELECT group_concat(sql) FROM sqlite_schema"), schema)
  db2:close()
end)

T.test("a newer migration applies on the next open, and a broken one rolls back whole", function()
  local dir = T.tmpdir()
  local path = dir .. "/c.db"
  local db = dbm.open(path)
  db:close()
  local real = dbm.migration_files
  local extra = {}
  dbm.migration_files = function()
    local list = real()
    for _, m in ipairs(extra) do list[#list + 1] = m end
    return list
  end
  local ok, err = pcall(function()
    extra[1] = { version = 9001, name = "add_notes", path = T.write_file(dir .. "/9001.sql",
      "CREATE TABLE test_notes (id TEXT PRIMARY KEY, body TEXT NOT NULL);") }
    local d2, info = dbm.open(path)
    T.eq(#info.migrations, 1)
    T.eq(info.migrations[1].version, 9001)
    T.eq(d2:value("SELECT count(*) FROM sqlite_schema WHERE name = 'test_notes'"), 1)
    d2:close()
    extra[2] = { version = 9002, name = "broken", path = T.write_file(dir .. "/9002.sql",
      "CREATE TABLE half_done (x);\nCREATE TABLE test_notes (id);") }
    local msg = T.raises(function() dbm.open(path) end, "migration 9002_broken failed")
    T.contains(msg, "already exists")
    local d3 = dbm.open(path, { migrate = false })
    T.eq(d3:value("SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'"), 0, "no half-applied migration")
    T.eq(d3:value("SELECT max(version) FROM schema_migrations"), 9001)
    d3:close()
  end)
  dbm.migration_files = real
  if not ok then error(err, 0) end
end)

T.test("open errors: a directory, a corrupt file, an uncreatable path", function()
  local dir = T.tmpdir()
  T.raises(function() dbm.open(dir) end, "is a directory")
  local bad = T.write_file(dir .. "/bad.db", string.rep("this is not a database\n", 200))
  T.raises(function() dbm.open(bad) end, "not a database")
  T.raises(function() dbm.open("/proc/candor-nope/x.db") end, "cannot create database /proc/candor%-nope/x.db")
  T.raises(function() dbm.open(dir .. "/missing.db", { readonly = true }) end, "no database at")
end)

T.test("readonly connections refuse writes", function()
  local path = T.tmpdir() .. "/r.db"
  dbm.open(path):close()
  local ro = dbm.open(path, { readonly = true })
  T.raises(function() ro:run("DELETE FROM settings") end, "readonly")
  ro:close()
end)

T.test("query hands out its own column list; rows() takes one statement; run counts only its own changes", function()
  local db = mem()
  local _, cols = db:query("SELECT 1 AS a")
  cols[1] = "changed"
  local rows = db:query("SELECT 1 AS a")
  T.eq(rows[1].a, 1, "the cached names are untouched")
  T.raises(function() db:rows("SELECT 1; SELECT 2") end, "rows takes one statement")
  db:run("INSERT INTO t (name) VALUES ('x')")
  T.eq(db:run("PRAGMA user_version = 3"), 0, "a pragma changes no rows")
  T.eq(db:run("UPDATE t SET name = 'y'"), 1)
end)

T.test("paths.dirname of a file at the root is /", function()
  local paths = require "candor.paths"
  T.eq(paths.dirname("/c.db"), "/")
  T.eq(paths.dirname("c.db"), ".")
  T.eq(paths.dirname("/a/b/c.db"), "/a/b")
end)

-- Background checkpoints: the log is copied on a worker thread, not by a commit.
local function wal_db(pages)
  local path = T.tmpdir() .. "/ck.db"
  local db = assert(core.open(path))
  T.eq(db:value("PRAGMA journal_mode = WAL"), "wal")
  db:exec("PRAGMA synchronous = NORMAL")
  db:exec("CREATE TABLE b (id INTEGER PRIMARY KEY, data BLOB)")
  db:checkpoint_in_background(pages)
  return db, path
end

local function wait_checkpoints(db, n)
  local async = require "candor.async"
  for _ = 1, 400 do
    local c = db:checkpoints()
    if c.background >= n and not c.running then return c end
    async.sleep(5)
  end
  error("no background checkpoint finished within 2 s")
end

local function file_size(path)
  local st = require("luv").fs_stat(path)
  return st and st.size or 0
end

T.test("background checkpoints copy the log off the loop thread and keep it from growing", function()
  local async = require "candor.async"
  local db, path = wal_db(20)
  T.eq(db:checkpoints().background, 0)
  local blob = string.rep("x", 3000)   -- a few pages a row
  for i = 1, 60 do db:run("INSERT INTO b (data) VALUES (?)", blob .. i) end
  local c = wait_checkpoints(db, 1)
  T.ok(c.last_copied > 0 and c.last_copied <= c.last_log, "copied " .. tostring(c.last_copied) .. " of " .. tostring(c.last_log))
  T.eq(c.last_error, nil)
  T.eq(c.inline, 0, "no commit had to copy the log itself")
  -- copied frames are reused: the log starts again from its beginning instead
  -- of growing like one that is never checkpointed (the same writes, measured)
  local function rounds(d, wait)
    for round = 1, 20 do
      for i = 1, 30 do d:run("INSERT INTO b (data) VALUES (?)", blob .. round .. ":" .. i) end
      if wait then wait(round) else async.sleep(1) end
    end
  end
  rounds(db, function(round) wait_checkpoints(db, c.background + round) end)
  local never, never_path = wal_db(0)
  never:exec("PRAGMA wal_autocheckpoint = 0")
  rounds(never)
  local ours, unbounded = file_size(path .. "-wal"), file_size(never_path .. "-wal")
  T.ok(ours < unbounded / 2, string.format("the log is %d bytes; never checkpointed it is %d", ours, unbounded))
  never:close()
  db:close()
  local again = assert(core.open(path))
  T.eq(again:value("SELECT count(*) FROM b"), 660, "every row is there after reopening")
  again:close()
end)

T.test("closing a database while its checkpoint runs is safe; 0 turns them off; in-memory is refused", function()
  local async = require "candor.async"
  local db, path = wal_db(5)
  local blob = string.rep("y", 3000)
  db:exec("BEGIN")
  for i = 1, 400 do db:run("INSERT INTO b (data) VALUES (?)", blob .. i) end
  db:exec("COMMIT")   -- starts a checkpoint of ~400 pages
  T.eq(db:checkpoints().running, true)
  db:close()          -- the worker's end frees what the connection shared with it
  async.sleep(50)
  local again = assert(core.open(path))
  T.eq(again:value("SELECT count(*) FROM b"), 400)
  again:exec("PRAGMA journal_mode = WAL")
  again:checkpoint_in_background(10)
  T.ok(again:checkpoints(), "on")
  again:checkpoint_in_background(0)
  T.eq(again:checkpoints(), nil, "off: SQLite's own auto-checkpoint is back")
  again:close()
  T.raises(function() assert(core.open(":memory:")):checkpoint_in_background(10) end, "need a database file")
  T.raises(function() mem():checkpoint_in_background(-1) end, "between 0 and 1000000")
end)

T.test("candor.db turns background checkpoints on for its file databases", function()
  local db = dbm.open(T.tmpdir() .. "/c.db")
  local c = db:checkpoints()
  T.ok(c, "on")
  T.eq(c.background, 0)
  db:close()
end)
