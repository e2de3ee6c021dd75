-- candor init
return {
  name = "init",
  summary = "Create or upgrade the database: apply migrations and seed default data.",
  usage = "candor init [--db PATH] [--json]",
  description = "Safe to run again: existing rows and your edits are left as they are.",
  options = { { "json", help = "print what was done as JSON" } },
  max_args = 0,
  run = function(app, opts)
    local dbm = require "candor.db"
    local db = app.db()
    local seeded = require("candor.seed").run(db)
    require("candor.workspace").local_user(db)   -- the CLI's workspace user ('candor session')
    local ok, problem = dbm.quick_check(db)
    if not ok then error("database " .. app.db_path() .. " is damaged: " .. problem, 0) end
    local info = app.db_info
    local json = require "candor.json"
    local applied = json.array()
    for k, n in pairs(info.seeded or {}) do seeded[k] = seeded[k] + n end
    for _, m in ipairs(info.migrations) do applied[#applied + 1] = string.format("%04d_%s", m.version, m.name) end
    local tables = db:value([[SELECT count(*) FROM sqlite_schema WHERE type = 'table'
      AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations']])
    if opts.json then
      app.out(json.encode({ path = app.db_path(), created = info.created, migrations = applied,
        tables = tables, seeded = seeded }), "\n")
      return 0
    end
    app.out(string.format("%s %s\n", info.created and "Created" or "Checked", app.db_path()))
    if #applied > 0 then app.out("  migrations applied: ", table.concat(applied, ", "), "\n")
    else app.out("  schema up to date\n") end
    local contract = #require("candor.repo").tables
    app.out(string.format("  %d tables: the %d of the storage contract%s\n", tables, contract,
      tables > contract and string.format(" and %d for schedules and their runs", tables - contract) or ""))
    local parts = {}
    for _, k in ipairs({ "settings", "voice_profiles", "persona_critics", "messaging_priorities" }) do
      local n = seeded[k]
      if n > 0 then parts[#parts + 1] = string.format("%d %s", n, k) end
    end
    app.out("  seeded: ", #parts > 0 and table.concat(parts, ", ") or "nothing new", "\n")
    return 0
  end,
}
