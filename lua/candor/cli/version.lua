-- candor version
return {
  name = "version",
  summary = "Print Candor's version and the versions of its parts.",
  usage = "candor version",
  max_args = 0,
  run = function(app)
    local host = require "core.host"
    app.out(string.format("candor %s (Lua %s, SQLite %s)\n", require "candor.version",
      host.lua_version, require("core.db").sqlite_version()))
  end,
}
