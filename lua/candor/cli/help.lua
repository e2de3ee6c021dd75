-- candor help [COMMAND]
local M = {
  name = "help",
  summary = "List the commands, or show one command's help.",
  usage = "candor help [COMMAND]",
  max_args = 1,
}

function M.run(app, _, pos)
  local main = require "candor.cli.main"
  local args = require "candor.cli.args"
  if pos[1] then
    local ok, cmd = pcall(require, "candor.cli." .. pos[1])
    if not ok or type(cmd) ~= "table" or not cmd.run then
      error(args.usage_error("no command named '" .. pos[1] .. "'"), 0)
    end
    app.out(args.help(cmd))
    return 0
  end
  local lines = {
    "Usage: candor [--db PATH] [--verbose] COMMAND [ARGS...]",
    "",
    "Candor turns practitioner pain and product knowledge into scored, traceable",
    "marketing assets. Workflows, prompts and lexicons are files you can edit.",
    "",
    "Commands:",
  }
  for _, name in ipairs(main.commands) do
    local cmd = require("candor.cli." .. name)
    lines[#lines + 1] = string.format("  %-12s %s", name, cmd.summary)
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Run 'candor COMMAND --help' for a command's options."
  lines[#lines + 1] = "Environment: CANDOR_DB (database), CANDOR_PATH (your workflows/prompts first), NO_COLOR."
  app.out(table.concat(lines, "\n"), "\n")
  return 0
end

return M
