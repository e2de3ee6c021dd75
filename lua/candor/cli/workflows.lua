-- candor workflows

-- " [--rounds N] [--voice SLUG]": an action's own options, spelled as the
-- session command declares them (its option table says which take a value).
local function action_flags(names)
  local declared = {}
  for _, o in ipairs(require("candor.cli.session").options) do declared[o[1]] = o end
  local out = {}
  for _, name in ipairs(names or {}) do
    local o = declared[name]
    out[#out + 1] = " [--" .. name .. (o and o.arg and (" " .. o.arg) or "") .. "]"
  end
  return table.concat(out)
end

return {
  name = "workflows",
  summary = "List workflows with their description and parameters.",
  usage = "candor workflows [--json]",
  options = { { "json", help = "print as JSON" } },
  max_args = 0,
  run = function(app, opts)
    local paths = require "candor.paths"
    local workflow = require "candor.workflow"
    local list = {}
    for _, f in ipairs(paths.list("workflows", "%.lua$")) do
      local name = f.name:gsub("%.lua$", "")
      local ok, wf = pcall(workflow.load, name)
      local e = { name = name, path = f.path, user = f.user, overrides_builtin = (f.shadows or 0) > 0 }
      if ok then
        e.description = wf.description
        e.kind = wf.kind
        e.options = wf.options
        e.params = {}
        for k, spec in pairs(wf.params) do
          local s = workflow.param_spec(spec)
          e.params[#e.params + 1] = { name = k, description = s.description, required = s.required, default = s.default }
        end
        table.sort(e.params, function(a, b) return a.name < b.name end)
      else
        e.error = type(wf) == "table" and wf.message or tostring(wf)
      end
      list[#list + 1] = e
    end
    if opts.json then
      app.out(require("candor.json").encode(list), "\n")
      return 0
    end
    for _, e in ipairs(list) do
      local mark = e.overrides_builtin and " (yours, overrides built-in)" or (e.user and " (yours)" or "")
      app.out(e.name, mark, "\n")
      if e.error then app.out("    cannot load: ", e.error, "\n")
      else
        if e.description ~= "" then app.out("    ", e.description, "\n") end
        if e.kind == "pipeline" then
          app.out("    run: candor generate --pipeline ", (e.name:gsub("^pipelines/", "")),
            " --pain TEXT --assets LIST --voices LIST\n")
        end
        if e.kind == "action" then
          app.out("    run: candor session action ", (e.name:gsub("^actions/", "")), " SESSION_ID [--asset TYPE]",
            action_flags(e.options), "\n")
        end
        for _, p in ipairs((e.kind == "pipeline" or e.kind == "action") and {} or e.params) do
          local default = p.default ~= nil and tostring(p.default) or nil
          if default and #default > 40 then default = default:sub(1, 37) .. "..." end
          local extra = p.required and "" or (default and (" [default: " .. default .. "]") or " [optional]")
          app.out(string.format("    --param %s=...  %s%s\n", p.name, p.description, extra))
        end
      end
    end
    if #list == 0 then app.out("no workflows found\n") end
    return 0
  end,
}
