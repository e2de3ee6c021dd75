-- candor repl
return {
  name = "repl",
  summary = "Interactive Lua with Candor loaded: query the database, try workflows, await tasks.",
  usage = "candor repl",
  description = "On a terminal: line editing and history ($XDG_STATE_HOME/candor/history).\n"
    .. "Piped: runs the chunks read from stdin without prompts; exits 1 if any failed.",
  max_args = 0,
  examples = { "echo 'return repo.voice_profiles.count()' | candor repl" },
  run = function(app) return require("candor.repl").run(app) end,
}
