-- candor session SUBCOMMAND: workspace sessions, their versions, edits, diffs
-- and exports (candor.workspace does the work; this file parses and prints).
local show = require "candor.cli.show"

local M = {
  name = "session",
  summary = "Workspace sessions: create, generate, edit and diff versions, run actions, chat, export.",
  usage = "candor session new (--pain TEXT | --pain-file FILE | --pain-id ID) --assets LIST|all [--doc FILE ...]\n"
    .. "                    [--voice SLUG] [--voices LIST] [--pipeline NAME] [--focus TEXT] [--name NAME] [--no-generate] [--force]\n"
    .. "       candor session list [--status S] [--search TEXT] [--archived] [--limit N] [--json]\n"
    .. "       candor session show ID [--full] [--json]\n"
    .. "       candor session generate ID [--force]\n"
    .. "       candor session rename ID NAME\n"
    .. "       candor session archive ID [--undo]\n"
    .. "       candor session delete ID [--yes]\n"
    .. "       candor session versions ID [--asset T] [--json]\n"
    .. "       candor session activate ID VERSION --asset T\n"
    .. "       candor session edit ID --asset T [< FILE]\n"
    .. "       candor session diff ID A B [--asset T]\n"
    .. "       candor session export ID [--format md|json] [--output FILE]\n"
    .. "       candor session action NAME ID [...]    candor session chat ID [...]\n"
    .. "       (every subcommand takes --user NAME)",
  description = "A session holds one pain point, its product documents (text, Markdown or PDF), asset types,\n"
    .. "a voice and a pipeline. Generation runs the pipeline as the session's job and stores each\n"
    .. "asset type's chosen draft as version 1; every edit, action or accepted chat reply adds a\n"
    .. "version. VERSION, A and B are version ids or numbers (numbers of the --asset type, which may\n"
    .. "be left out when the session has one asset type). 'edit' on a terminal opens $VISUAL, else\n"
    .. "$EDITOR, else vi on the active text; with standard input piped or redirected it reads the\n"
    .. "new text from there instead (empty input saves nothing). The new version is scored at once,\n"
    .. "then judged by the LLM judges.\n"
    .. "Sessions belong to a user: the CLI acts as the local user ('local', made by 'candor init')\n"
    .. "unless --user NAME is given, and never sees another user's sessions.",
  options = {
    { "user", "u", arg = "NAME", help = "act as this workspace user (default: the local user)" },
    { "pain", arg = "TEXT", help = "new: the pain point, in words (first line is the title)" },
    { "pain-file", arg = "FILE", help = "new: the pain point from a file (first line is the title)" },
    { "pain-id", arg = "ID", help = "new: a discovered pain point by id" },
    { "doc", arg = "FILE", repeated = true, help = "new: a product document: text, Markdown or PDF (repeatable)" },
    { "assets", "a", arg = "LIST", help = "new: asset types, comma-separated, or all" },
    { "voice", arg = "SLUG", help = "new: the session's voice (default: default_voice); action: the voice to use" },
    { "voices", arg = "LIST", help = "new: generate in these voices (comma-separated or all), keep the best" },
    { "pipeline", "p", arg = "NAME", help = "new: the pipeline (default: the default_pipeline setting)" },
    { "focus", arg = "TEXT", help = "new: focus instructions for every draft" },
    { "name", arg = "NAME", help = "new: the session's name (else one is generated after the first results)" },
    { "priority", arg = "SLUG", help = "new: the messaging priority of a manual pain point" },
    { "profile", arg = "NAME", help = "new, generate: the model profile for the session" },
    { "no-generate", help = "new: create the session only ('candor session generate ID' later)" },
    { "force", help = "new, generate: outside-in runs even when no community evidence is found" },
    { "status", "s", arg = "S", help = "list: only sessions with this status (pending, generating, completed, failed)" },
    { "search", arg = "TEXT", help = "list: only sessions whose name contains TEXT" },
    { "archived", help = "list: the archived sessions instead" },
    { "limit", "n", arg = "N", help = "list: at most N sessions (default 50)" },
    { "full", help = "show: print each active version's text too" },
    { "undo", help = "archive: take the session out of the archive" },
    { "yes", "y", help = "delete: do not ask" },
    { "asset", arg = "T", help = "versions, activate, edit, diff, action, chat: the asset type" },
    { "format", "f", arg = "md|json", help = "export: Markdown (default) or JSON" },
    { "output", "o", arg = "FILE", help = "export: write to FILE instead of standard output" },
    { "json", help = "new, list, show, versions: print JSON" },
    -- the lead's subcommands (candor.workspace.actions and .chat) read these
    { "rewrite", help = "action: also write a version that answers what the action found" },
    { "rounds", arg = "N", help = "action: rounds for the actions that repeat" },
    { "accept", help = "chat: accept the last proposal as a new version" },
    { "history", help = "chat: print the conversation" },
  },
  examples = {
    "candor session new --pain-file pain.md --doc product.pdf --assets battlecard,email_copy",
    "candor session list --search flaky",
    "candor session edit Yx3k... --asset battlecard",
    "candor session edit Yx3k... --asset battlecard < battlecard.md",
    "candor session diff Yx3k... 1 2 --asset battlecard",
    "candor session export Yx3k... --format json --output session.json",
  },
}

-- Which options each subcommand takes (the common ones aside; --user goes with
-- every one, below); false: the lead's subcommands, which read their own.
local ALLOWED = {
  new = { pain = true, ["pain-file"] = true, ["pain-id"] = true, doc = true, assets = true, voice = true, voices = true,
          pipeline = true, focus = true, name = true, priority = true, profile = true, ["no-generate"] = true, json = true,
          force = true },
  list = { status = true, search = true, archived = true, limit = true, json = true },
  show = { full = true, json = true },
  generate = { profile = true, force = true, json = true },
  rename = {}, archive = { undo = true }, delete = { yes = true },
  versions = { asset = true, json = true },
  activate = { asset = true }, edit = { asset = true }, diff = { asset = true },
  export = { format = true, output = true },
  action = false, chat = false,
}
for _, takes in pairs(ALLOWED) do if takes then takes.user = true end end
local ARGS = {   -- positionals after the subcommand: {min, max, names}
  new = { 0, 0 }, list = { 0, 0 }, show = { 1, 1, "ID" }, generate = { 1, 1, "ID" }, rename = { 2, 2, "ID NAME" },
  archive = { 1, 1, "ID" }, delete = { 1, 1, "ID" }, versions = { 1, 1, "ID" }, activate = { 2, 2, "ID VERSION" },
  edit = { 1, 1, "ID" }, diff = { 3, 3, "ID A B" }, export = { 1, 1, "ID" },
}
local ORDER = { "new", "list", "show", "generate", "rename", "archive", "delete", "versions", "activate", "edit", "diff",
                "export", "action", "chat" }

local STATUSES = { pending = true, generating = true, completed = true, failed = true }

local usage = show.usage

local function check_args(sub, pos)
  local spec = ARGS[sub]
  local n = #pos - 1
  if n < spec[1] then error(usage("session %s: missing %s", sub, spec[3] or "argument"), 0) end
  if n > spec[2] then error(usage("session %s: unexpected argument '%s'", sub, pos[spec[2] + 2]), 0) end
end

local function scores_cols(v)
  return string.format("%5s %6s %5s %5s %7s", show.score(v.slop_score), show.score(v.vendor_speak_score),
    show.score(v.specificity_score), show.score(v.authenticity_score), show.score(v.persona_avg_score))
end
local SCORES_HEAD = string.format("%5s %6s %5s %5s %7s", "slop", "vendor", "spec", "auth", "persona")

local function gate_word(v)
  local sd = type(v.source_detail) == "table" and v.source_detail or {}
  local w = v.passes_gates and "pass" or "FAIL"
  if sd.judged == false then w = w .. (sd.judge_error and " (judge failed)" or " *") end
  return w
end

local function workspace(app, opts)
  return require("candor.workspace").for_user(app.db(), opts.user)
end

local function versions_table(app, rows, active_only)
  app.out(string.format("%-19s %4s  %-17s %-19s %s  %s\n", "asset", "v", "source", "created", SCORES_HEAD, "gates"))
  for _, v in ipairs(rows) do
    if not active_only or v.is_active then
      app.out(string.format("%-19s %4s  %s %-19s %s  %s%s\n", v.asset_type, v.version_number, show.fit(v.source, 17),
        show.time(v.created_at), scores_cols(v), gate_word(v), v.is_active and "  (active)" or ""))
    end
  end
end

local function judge_note(app, rows)
  for _, v in ipairs(rows) do
    local sd = type(v.source_detail) == "table" and v.source_detail or {}
    if sd.judged == false and not sd.judge_error then
      app.out("* deterministic scores only: not judged by an LLM (yet)\n")
      return
    end
  end
end

local function plain_version(v)
  local out = {}
  for k, x in pairs(v) do out[k] = x end
  return out
end

---------------------------------------------------------------- subcommands

local function generate(app, opts, W, id)
  local on_progress, clear, log = show.pipeline_progress()
  local ok, job = pcall(W.generate, W, id, {
    on_progress = not opts.json and on_progress or nil, profile = opts.profile, force = opts.force, on_log = log,
  })
  clear()
  if not ok then error(job, 0) end
  local s = W:get(id)
  local active = W:active(s.id)
  if opts.json then
    local vs = require("candor.json").array {}
    for _, a in ipairs(s.asset_types) do if active[a] then vs[#vs + 1] = plain_version(active[a]) end end
    show.json(app, { session = { id = s.id, name = s.name, status = s.status }, job = job.id, versions = vs })
    return 0
  end
  local rows = {}
  for _, a in ipairs(s.asset_types) do rows[#rows + 1] = active[a] end
  versions_table(app, rows)
  judge_note(app, rows)
  app.out(string.format("session %s \"%s\": generated by job %s\n", s.id, s.name, job.id))
  app.out(string.format("see: candor session show %s · candor session edit %s --asset %s\n", s.id, s.id, s.asset_types[1]))
  return 0
end

local function cmd_new(app, opts, W)
  show.one_of("session new", opts, { "pain", "pain-file", "pain-id" })
  local pain
  if opts["pain-id"] then pain = { id = opts["pain-id"] }
  elseif opts.pain then pain = show.pain_from_text(opts.pain)
  else pain = require("candor.pipeline").read_pain_file(opts["pain-file"]) end
  local s = W:create {
    pain = pain, documents = opts.doc, asset_types = show.list(opts.assets), voice = opts.voice,
    voices = show.list(opts.voices),
    pipeline = opts.pipeline, focus = opts.focus, name = opts.name, priority = opts.priority, profile = opts.profile,
  }
  if opts["no-generate"] then
    if opts.json then
      show.json(app, { session = { id = s.id, name = s.name, status = s.status } })
    else
      app.out(string.format("session %s \"%s\" created; generate it with: candor session generate %s\n", s.id, s.name, s.id))
    end
    return 0
  end
  if not opts.json then io.stderr:write(string.format("candor: session %s created; generating\n", s.id)) end
  local ok, code = pcall(generate, app, opts, W, s.id)
  if ok then return code end
  -- the session is kept: say how to go on once the cause (a key, a provider) is mended
  local msg = type(code) == "table" and code.message or tostring(code)
  error({ message = string.format("%s\nthe session is saved; generate it later with: candor session generate %s", msg, s.id),
          kind = type(code) == "table" and code.kind or nil }, 0)
end

local function cmd_list(app, opts, W)
  if opts.status and not STATUSES[opts.status] then
    error(usage("session list: --status must be pending, generating, completed or failed"), 0)
  end
  local limit = show.whole("session list", opts, "limit", 50)
  local rows = W:list { status = opts.status, search = opts.search, archived = opts.archived == true, limit = limit }
  if opts.json then
    local json = require "candor.json"
    show.json_rows(app, rows, function(s)
      return { id = s.id, name = s.name, status = s.status, pipeline = s.pipeline,
               asset_types = json.array(s.asset_types or {}), archived = s.is_archived, job_id = s.job_id,
               created_at = s.created_at, updated_at = s.updated_at }
    end)
    return 0
  end
  if #rows == 0 then
    app.out(opts.archived and "no archived sessions\n" or (opts.status or opts.search) and "no sessions match\n"
      or "no sessions yet (candor session new ...)\n")
    return 0
  end
  app.out(string.format("%-21s  %-10s %-19s  %-30s  %s\n", "id", "status", "updated", "assets", "name"))
  for _, s in ipairs(rows) do
    app.out(string.format("%-21s  %-10s %-19s  %s  %s\n", s.id, s.status, show.time(s.updated_at),
      show.fit(table.concat(s.asset_types or {}, ","), 30), show.one_line(s.name, 60)))
  end
  return 0
end

local function cmd_show(app, opts, W, id)
  local s = W:get(id)
  local data = W:summary(s)
  if opts.json then
    app.out(require("candor.workspace.export").json(data))
    return 0
  end
  app.out(string.format("session %s  \"%s\"\n", s.id, s.name))
  local field = show.fields(app, 11)
  field("status", s.status .. (s.is_archived and " (archived)" or ""))
  field("pipeline", s.pipeline)
  field("voice", data.session.voice .. (#data.session.voices > 1 and (" (generated in " .. table.concat(data.session.voices, ", ") .. ")") or ""))
  if data.pain then
    field("pain", show.one_line(data.pain.title, 70) .. "  (" .. tostring(data.pain.id or "manual") .. ")")
  end
  local docs = {}
  for _, d in ipairs(data.documents) do docs[#docs + 1] = string.format("%s (%s)", d.name, d.document_type) end
  field("documents", #docs > 0 and table.concat(docs, ", ") or nil)
  field("focus", s.focus_instructions and show.one_line(s.focus_instructions, 70))
  if data.job then
    field("job", data.job.id .. " (" .. data.job.status .. ")"
      .. (data.job.error_message and (": " .. show.one_line(data.job.error_message, 80)) or ""))
  end
  field("naming", data.session.naming_error and ("failed: " .. show.one_line(data.session.naming_error, 80)))
  field("created", show.time(s.created_at))
  field("updated", show.time(s.updated_at))
  app.out("\nactive versions:\n")
  local rows, none = {}, {}
  local active = W:active(s.id)
  for _, a in ipairs(s.asset_types or {}) do
    if active[a] then rows[#rows + 1] = active[a] else none[#none + 1] = a end
  end
  if #rows > 0 then
    app.out(string.format("  %-19s %4s %9s  %-17s %s  %s\n", "asset", "v", "versions", "source", SCORES_HEAD, "gates"))
    for _, v in ipairs(rows) do
      local count
      for _, x in ipairs(data.assets) do if x.asset_type == v.asset_type then count = x.versions end end
      app.out(string.format("  %-19s %4d %9d  %s %s  %s\n", v.asset_type, v.version_number, count or 0,
        show.fit(v.source, 17), scores_cols(v), gate_word(v)))
    end
  end
  if #none > 0 then app.out("  no version yet: ", table.concat(none, ", "), "\n") end
  if opts.full then
    for _, v in ipairs(rows) do
      app.out(string.format("\n== %s v%d ==\n%s\n", v.asset_type, v.version_number, (v.content:gsub("%s+$", ""))))
    end
  end
  return 0
end

local function cmd_delete(app, opts, W, id)
  local s = W:get(id)
  if not opts.yes then
    local host = require "core.host"
    if not (host.isatty(0) and host.isatty(1)) then
      error(usage("session delete: not on a terminal, so nothing can ask: give --yes to delete"), 0)
    end
    local n = require("candor.repo.session_versions"):count_for_session(app.db(), s.id)
    local answer = require("core.edit").readline(string.format("Delete session %s \"%s\" and its %d version%s? [y/N] ",
      s.id, s.name, n, n == 1 and "" or "s"))
    if not answer or not answer:match("^%s*[yY]") then
      app.out("not deleted\n")
      return 1
    end
  end
  W:delete(s.id)
  app.out(string.format("deleted session %s\n", s.id))
  return 0
end

local function cmd_versions(app, opts, W, id)
  local rows = W:versions(id, opts.asset)
  if opts.json then
    show.json_rows(app, rows, plain_version)
    return 0
  end
  if #rows == 0 then app.out("no versions yet\n") return 0 end
  versions_table(app, rows)
  judge_note(app, rows)
  return 0
end

-- The editor as git picks and runs it: $VISUAL, then $EDITOR, then vi, through
-- the shell, so either may carry arguments.
local function run_editor(path)
  local uv = require "luv"
  local async = require "candor.async"
  local editor
  for _, name in ipairs { "VISUAL", "EDITOR" } do
    local v = os.getenv(name)
    if v and v ~= "" then editor = v break end
  end
  editor = editor or "vi"
  local code, signal_or_err = async.run(function()
    return async.suspend(function(wake)
      local handle, err
      handle, err = uv.spawn("/bin/sh", { args = { "-c", editor .. ' "$@"', editor, path }, stdio = { 0, 1, 2 } },
        function(code, signal)
          handle:close()
          wake(code, signal)
        end)
      if not handle then wake(nil, err) end
    end)
  end, { name = "editor" })
  return code, signal_or_err, editor
end

-- edit_in_editor(s, asset, original) -> the text as the editor left the file
-- it was given original in; raises (nothing saved) when the editor fails.
local function edit_in_editor(s, asset, original)
  local uv = require "luv"
  local dir = assert(uv.fs_mkdtemp((os.getenv("TMPDIR") or "/tmp") .. "/candor-edit-XXXXXX"))
  local path = string.format("%s/%s-%s.md", dir, s.id, asset)
  if original ~= "" and original:sub(-1) ~= "\n" then original = original .. "\n" end
  local f = assert(io.open(path, "wb"))
  f:write(original)
  f:close()
  local code, signal_or_err, editor = run_editor(path)
  local text = require("candor.paths").read_file(path)
  os.remove(path)
  uv.fs_rmdir(dir)
  if code == nil then error(string.format("cannot run the editor '%s': %s", editor, tostring(signal_or_err)), 0) end
  if code ~= 0 or (signal_or_err or 0) ~= 0 then
    error(string.format("the editor '%s' exited with status %d; nothing was saved", editor, code), 0)
  end
  if not text then error("the edited file is gone; nothing was saved", 0) end
  return text
end

local function cmd_edit(app, opts, W, id)
  local s = W:get(id)
  local asset = opts.asset
  if not asset then
    if #s.asset_types ~= 1 then
      error(usage("session edit: which asset? give --asset (%s)", table.concat(s.asset_types, ", ")), 0)
    end
    asset = s.asset_types[1]
  end
  W:versions(s.id, asset)   -- checks the asset type
  local active = W:active(s.id)[asset]
  local original = active and active.content or ""
  local text
  if not require("core.host").isatty(0) then
    -- piped or redirected: that input is the new text (a script has no terminal an editor could use)
    text = io.stdin:read("a") or ""
    if not text:match("%S") then
      error(usage("session edit: the text read from standard input is empty; nothing was saved "
        .. "(pipe in the new text, or run on a terminal to open $VISUAL or $EDITOR)"), 0)
    end
  else
    text = edit_in_editor(s, asset, original)
  end
  if text:gsub("%s+$", "") == original:gsub("%s+$", "") then
    app.out("no change\n")
    return 0
  end
  local v, why = W:edit(s.id, asset, text)
  if not v then app.out(why, "\n") return 0 end
  app.out(string.format("%s v%d saved: slop %s, vendor-speak %s, specificity %s, authenticity %s (deterministic gates %s)\n",
    asset, v.version_number, show.score(v.slop_score), show.score(v.vendor_speak_score),
    show.score(v.specificity_score), show.score(v.authenticity_score), v.passes_gates and "pass" or "fail"))
  io.stdout:flush()
  io.stderr:write("candor: judging with the LLM judges...\n")
  W:wait_background()
  local after = require("candor.repo.session_versions"):get(app.db(), v.id)
  local sd = type(after.source_detail) == "table" and after.source_detail or {}
  if sd.judged then
    app.out(string.format("judged: authenticity %s, persona fit %s; gates %s\n", show.score(after.authenticity_score),
      show.score(after.persona_avg_score), after.passes_gates and "pass" or "fail"))
  else
    io.stderr:write("candor: the LLM judges failed, the deterministic scores stand: ", tostring(sd.judge_error), "\n")
  end
  return 0
end

local function cmd_export(app, opts, W, id)
  local format = opts.format or "md"
  if format == "markdown" then format = "md" end
  if format ~= "md" and format ~= "json" then error(usage("session export: --format must be md or json"), 0) end
  show.output(app, opts.output, W:export(id, format))
  return 0
end

local function lead_module(name, sub)
  local ok, mod = pcall(require, "candor.workspace." .. name)
  if not ok or type(mod) ~= "table" or not mod.cli then
    if type(mod) == "string" and not mod:find("module 'candor.workspace." .. name .. "' not found", 1, true) then
      error(mod, 0)   -- the module exists but failed to load: say why
    end
    error(string.format("session %s is not available yet (candor.workspace.%s is not built)", sub, name), 0)
  end
  return mod
end

function M.run(app, opts, pos)
  local sub = pos[1]
  if not sub then error(usage("session: give a subcommand (%s)", table.concat(ORDER, ", ")), 0) end
  show.check_subcommand(M, sub, opts, ALLOWED, table.concat(ORDER, ", "))
  if sub == "action" then return lead_module("actions", sub).cli(app, opts, pos) end
  if sub == "chat" then return lead_module("chat", sub).cli(app, opts, pos) end
  check_args(sub, pos)
  local W = workspace(app, opts)
  local id = pos[2]
  if sub == "new" then return cmd_new(app, opts, W)
  elseif sub == "list" then return cmd_list(app, opts, W)
  elseif sub == "show" then return cmd_show(app, opts, W, id)
  elseif sub == "generate" then W:get(id) return generate(app, opts, W, id)
  elseif sub == "rename" then
    local s = W:rename(id, pos[3])
    app.out(string.format("renamed session %s: %s\n", s.id, s.name))
  elseif sub == "archive" then
    local s = W:archive(id, not opts.undo)
    app.out(string.format("%s session %s\n", s.is_archived and "archived" or "unarchived", s.id))
  elseif sub == "delete" then return cmd_delete(app, opts, W, id)
  elseif sub == "versions" then return cmd_versions(app, opts, W, id)
  elseif sub == "activate" then
    local v = W:activate(id, pos[3], opts.asset)
    app.out(string.format("%s v%d is active\n", v.asset_type, v.version_number))
  elseif sub == "edit" then return cmd_edit(app, opts, W, id)
  elseif sub == "diff" then app.out(W:diff(id, pos[3], pos[4], opts.asset))
  elseif sub == "export" then return cmd_export(app, opts, W, id)
  end
  return 0
end

return M
