-- Option parsing for every command, from the command's declared options:
--   options = { {"json", help = "..."}, {"param", "p", arg = "KEY=VALUE", repeated = true, help = "..."} }
-- --name value, --name=value, -x value, flags, "--" ends options. Unknown options
-- and missing values are usage errors.
local M = {}

-- Options every command accepts, so `candor sql --db x` works as well as `candor --db x sql`.
M.common = {
  { "db", arg = "PATH", help = "database file (default: $CANDOR_DB, else $XDG_DATA_HOME/candor/candor.db)" },
  { "verbose", "v", help = "show tracebacks and more detail" },
  { "help", "h", help = "show this help" },
}

function M.usage_error(msg) return { kind = "usage", message = msg } end

local function index(cmd)
  local by = {}
  for _, list in ipairs({ cmd.options or {}, M.common }) do
    for _, o in ipairs(list) do
      by["--" .. o[1]] = o
      if o[2] then by["-" .. o[2]] = o end
    end
  end
  return by
end

-- parse(cmd, argv, first) -> opts (keyed by long name), positionals
function M.parse(cmd, argv, first)
  local by = index(cmd)
  local opts, pos = {}, {}
  local i = first or 1
  local prog = cmd.name
  while i <= #argv do
    local a = argv[i]
    if a == "--" or (cmd.options_end_at and #pos >= cmd.options_end_at) then
      if a ~= "--" then i = i - 1 end
      for j = i + 1, #argv do pos[#pos + 1] = argv[j] end
      break
    elseif a:sub(1, 1) == "-" and #a > 1 and not tonumber(a) then
      local name, value = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      local o = by[name]
      if not o then error(M.usage_error(string.format("%s: unknown option %s", prog, name)), 0) end
      local key = o[1]
      if o.arg then
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then error(M.usage_error(string.format("%s: option --%s needs a value (%s)", prog, key, o.arg)), 0) end
        end
        if o.repeated then
          opts[key] = opts[key] or {}
          table.insert(opts[key], value)
        else
          opts[key] = value
        end
      else
        if value ~= nil then error(M.usage_error(string.format("%s: option --%s takes no value", prog, key)), 0) end
        opts[key] = true
      end
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  if not opts.help then
    local min, max = cmd.min_args or 0, cmd.max_args
    if #pos < min then
      error(M.usage_error(string.format("%s: missing %s", prog, cmd.args_name or "argument")), 0)
    end
    if max and #pos > max then
      error(M.usage_error(string.format("%s: unexpected argument '%s'", prog, pos[max + 1])), 0)
    end
  end
  return opts, pos
end

local function option_lines(list)
  local lines = {}
  for _, o in ipairs(list) do
    local flag = (o[2] and ("-" .. o[2] .. ", ") or "    ") .. "--" .. o[1] .. (o.arg and (" " .. o.arg) or "")
    lines[#lines + 1] = string.format("  %-28s %s", flag, o.help or "")
  end
  return table.concat(lines, "\n")
end

function M.help(cmd)
  local out = { "Usage: " .. cmd.usage, "", cmd.summary }
  if cmd.description then out[#out + 1] = "" out[#out + 1] = cmd.description end
  if cmd.options and #cmd.options > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "Options:"
    out[#out + 1] = option_lines(cmd.options)
  end
  out[#out + 1] = ""
  out[#out + 1] = "Common options:"
  out[#out + 1] = option_lines(M.common)
  if cmd.examples then
    out[#out + 1] = ""
    out[#out + 1] = "Examples:"
    for _, e in ipairs(cmd.examples) do out[#out + 1] = "  " .. e end
  end
  return table.concat(out, "\n") .. "\n"
end

return M
