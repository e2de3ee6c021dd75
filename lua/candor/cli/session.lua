-- candor session SUBCOMMAND: workspace sessions, their versions, edits, diffs
-- and exports (candor.workspace does the work; this file parses and prints).
local show = require "candor.cli.show"
local ws = require "candor.workspace"
local actions = require "candor.workspace.actions"

local M = {
  name = "session",
  summary = "Workspace sessions: create, generate, edit and diff versions, run actions, chat, export.",
  usage = "candor session new (--pain TEXT | --pain-file FILE | --pain-id ID) --assets LIST|all [--doc FILE ...]\n"
    .. "                    [--voice SLUG] [--voices LIST] [--pipeline NAME] [--focus TEXT] [--name NAME]\n"
    .. "                    [--priority SLUG] [--profile NAME] [--no-generate] [--force] [--json]\n"
    .. "       candor session list [--status S] [--search TEXT] [--archived] [--limit N] [--json]\n"
    .. "       candor session show ID [--full] [--json]\n"
    .. "       candor session generate ID [--profile NAME] [--force] [--json]\n"
    .. "       candor session rename ID NAME\n"
    .. "       candor session profile ID [NAME | --default]\n"
    .. "       candor session archive ID [--undo]\n"
    .. "       candor session delete ID [--yes]\n"
    .. "       candor session versions ID [--asset T] [--json]\n"
    .. "       candor session activate ID VERSION [--asset T]\n"
    .. "       candor session edit ID [--asset T] [< FILE]\n"
    .. "       candor session judge ID [--asset T] [--version N]\n"
    .. "       candor session diff ID A B [--asset T]\n"
    .. "       candor session export ID [--format md|json] [--output FILE]\n"
    .. "       candor session action NAME ID [--asset T] [--voice SLUG] [--rewrite] [--rounds N] [--json]\n"
    .. "       candor session actions ID [--json]\n"
    .. "       candor session chat ID [MESSAGE | -] [--asset T]\n"
    .. "       candor session chat ID --accept [MESSAGE_ID]\n"
    .. "       candor session chat ID --history\n"
    .. "       (every subcommand takes --user NAME)",
  description = "A session holds one pain point, its product documents (text, Markdown or PDF), asset types,\n"
    .. "a voice and a pipeline. Generation runs the pipeline as the session's job and stores each\n"
    .. "asset type's chosen draft as version 1; every edit, action or accepted chat reply adds a\n"
    .. "version. VERSION, A and B are version ids or numbers (numbers of the --asset type, which may\n"
    .. "be left out when the session has one asset type). 'edit' on a terminal opens $VISUAL, else\n"
    .. "$EDITOR, else vi on the active text; with standard input piped or redirected it reads the\n"
    .. "new text from there instead (empty input saves nothing). If another version became active\n"
    .. "while you edited, yours is saved but not made active, and edit says how to compare and\n"
    .. "activate. The new version is scored at once, then judged by the LLM judges; 'judge' runs\n"
    .. "them again on a version they never finished (default: every active version not judged).\n"
    .. "'profile' shows or sets the session's model profile. 'actions' lists the session's actions\n"
    .. "with what each made or why it failed. The actions ('action NAME'):\n  "
    .. table.concat(actions.names, ", ") .. ".\n"
    .. "Sessions belong to a user: the CLI acts as the local user ('local', made by 'candor init')\n"
    .. "unless --user NAME is given, and never sees another user's sessions.",
  options = {
    { "user", "u", arg = "NAME", help = "act as this workspace user (default: the local user)" },
    { "pain", arg = "TEXT", help = "new: the pain point, in words (first line is the title, the rest the text)" },
    { "pain-file", arg = "FILE", help = "new: the pain point from a file (first line is the title, the rest the text)" },
    { "pain-id", arg = "ID", help = "new: a discovered pain point by id" },
    { "doc", arg = "FILE", repeated = true, help = "new: a product document: text, Markdown or PDF (repeatable)" },
    { "assets", "a", arg = "LIST", help = "new: asset types, comma-separated, or all" },
    { "voice", arg = "SLUG", help = "new: the session's voice (default: default_voice); action (change-voice): the voice to use" },
    { "voices", arg = "LIST", help = "new: generate in these voices (comma-separated or all), keep the best" },
    { "pipeline", "p", arg = "NAME", help = "new: the pipeline (default: the default_pipeline setting)" },
    { "focus", arg = "TEXT", help = "new: focus instructions for every draft" },
    { "name", arg = "NAME", help = "new: the session's name (else one is generated after the first results)" },
    { "priority", arg = "SLUG", help = "new: the messaging priority of a manual pain point" },
    { "profile", arg = "NAME", help = "new: the session's model profile; generate: the profile for this run" },
    { "no-generate", help = "new: create the session only ('candor session generate ID' later)" },
    { "force", help = "new, generate: outside-in runs even when no community evidence is found" },
    { "status", "s", arg = "S", help = "list: only sessions with this status (pending, generating, completed, failed)" },
    { "search", arg = "TEXT", help = "list: only sessions whose name contains TEXT" },
    { "archived", help = "list: the archived sessions instead" },
    { "limit", "n", arg = "N", help = "list: at most N sessions (default 50)" },
    { "full", help = "show: print each active version's text too" },
    { "undo", help = "archive: take the session out of the archive" },
    { "default", help = "profile: drop the session's own profile, so each run uses the default" },
    { "yes", "y", help = "delete: do not ask" },
    { "asset", arg = "T", help = "versions, activate, edit, judge, diff, action, chat: the asset type" },
    { "version", arg = "N", help = "judge: the version to judge (an id, or a number of the --asset type)" },
    { "format", "f", arg = "md|json", help = "export: Markdown (default) or JSON" },
    { "output", "o", arg = "FILE", help = "export: write to FILE instead of standard output" },
    { "json", help = "new, generate, list, show, versions, action, actions: print JSON" },
    { "rewrite", help = "action (community-check): also write a version that answers what the action found" },
    { "rounds", arg = "N", help = "action (adversarial): how many rounds" },
    { "accept", help = "chat: accept the last proposal as a new version" },
    { "history", help = "chat: print the conversation" },
  },
  examples = {
    "candor session new --pain-file pain.md --doc product.pdf --assets battlecard,email_copy",
    "candor session list --search flaky",
    "candor session edit Yx3k... --asset battlecard",
    "candor session edit Yx3k... --asset battlecard < battlecard.md",
    "candor session judge Yx3k...",
    "candor session action deslop Yx3k... --asset battlecard",
    "candor session diff Yx3k... 1 2 --asset battlecard",
    "candor session export Yx3k... --format json --output session.json",
  },
}

-- Which options each subcommand takes (the common ones aside; --user goes with
-- every one, below).
local ALLOWED = {
  new = { pain = true, ["pain-file"] = true, ["pain-id"] = true, doc = true, assets = true, voice = true, voices = true,
          pipeline = true, focus = true, name = true, priority = true, profile = true, ["no-generate"] = true, json = true,
          force = true },
  list = { status = true, search = true, archived = true, limit = true, json = true },
  show = { full = true, json = true },
  generate = { profile = true, force = true, json = true },
  rename = {}, profile = { default = true }, archive = { undo = true }, delete = { yes = true },
  versions = { asset = true, json = true },
  activate = { asset = true }, edit = { asset = true }, judge = { asset = true, version = true }, diff = { asset = true },
  export = { format = true, output = true },
  action = { asset = true, voice = true, rewrite = true, rounds = true, json = true }, actions = { json = true },
  chat = { asset = true, accept = true, history = true },
}
for _, takes in pairs(ALLOWED) do takes.user = true end
local ARGS = {   -- positionals after the subcommand: {min, max, names}
  new = { 0, 0 }, list = { 0, 0 }, show = { 1, 1, "ID" }, generate = { 1, 1, "ID" }, rename = { 2, 2, "ID NAME" },
  profile = { 1, 2, "ID" }, archive = { 1, 1, "ID" }, delete = { 1, 1, "ID" }, versions = { 1, 1, "ID" },
  activate = { 2, 2, "ID VERSION" }, edit = { 1, 1, "ID" }, judge = { 1, 1, "ID" }, diff = { 3, 3, "ID A B" },
  export = { 1, 1, "ID" }, action = { 2, 2, "NAME ID" }, actions = { 1, 1, "ID" }, chat = { 1, 2, "ID" },
}
local ORDER = { "new", "list", "show", "generate", "rename", "profile", "archive", "delete", "versions", "activate",
                "edit", "judge", "diff", "export", "action", "actions", "chat" }

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
  local sd = ws.detail(v)
  local w = v.passes_gates and "pass" or "FAIL"
  if sd.judged == false then w = w .. (sd.judge_error and " (judge failed)" or " *") end
  return w
end

local function workspace(app, opts)
  return ws.for_user(app.db(), opts.user)
end

-- The commands this one suggests act as the same user: with --user NAME they
-- say so, or they would answer "no session".
local as_user = ""

-- again(fmt, ...) -> "candor session <fmt filled in>[ --user NAME]"
local function again(fmt, ...)
  return "candor session " .. string.format(fmt, ...) .. as_user
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
    if ws.judge_status(v) == "unjudged" then
      app.out(string.format("* deterministic scores only: not judged by an LLM (yet); judge one with: "
        .. "%s\n", again("judge %s --asset T --version N", v.session_id)))
      return
    end
  end
end

-- For a version the LLM judges have not scored: a line saying why, and how to
-- judge it; nil for a judged one.
local function judge_hint(v)
  local status, runner = ws.judge_status(v)
  local judge = again("judge %s --asset %s", v.session_id, v.asset_type)
  local what = string.format("%s v%d", v.asset_type, v.version_number)
  local pid = runner and string.format("pid %s", tostring(runner.pid))
  if status == "judging" then return string.format("%s: being judged now (%s)", what, pid) end
  if status == "interrupted" then
    return string.format("%s: judging interrupted (its process, %s, stopped); judge it: %s", what, pid, judge)
  end
  if status == "failed" then
    return string.format("%s: the LLM judges failed (%s); judge it again: %s", what,
      show.one_line(ws.detail(v).judge_error, 80), judge)
  end
  if status == "unjudged" then return string.format("%s: not judged by an LLM; judge it: %s", what, judge) end
  local last = ws.detail(v).last_judge_error
  if status == "judged" and last then
    return string.format("%s: judging it again failed (%s); its earlier judgement stands; try again: %s", what,
      show.one_line(last, 80), judge)
  end
end

-- What made a version, in words: "the deslop action", "an edit", ...
local function made_by(v)
  local sd = ws.detail(v)
  if sd.action then return "the " .. sd.action .. " action" end
  if v.source == "generation" then return "generation" .. (sd.job_id and (" (job " .. sd.job_id .. ")") or "") end
  if v.source == "edit" then return "an edit" end
  if v.source == "chat" then return "an accepted chat reply" end
  return tostring(v.source)
end

-- The judges' outcome for v once they have answered, after label (which
-- version, when it needs saying) -> true when they judged it; their failure
-- goes to standard error.
local function report_judges(app, W, v, label)
  local after = W:version(v.session_id, v.id)
  local sd = ws.detail(after)
  if sd.judged and sd.last_judge_error then   -- a re-judge failed; the judgement before it is kept
    io.stderr:write("candor: ", label and (label .. ": ") or "", "the LLM judges failed; its earlier judgement stands: ",
      tostring(sd.last_judge_error), "\n")
    return false
  end
  if sd.judged then
    app.out(string.format("%sjudged: authenticity %s, persona fit %s; gates %s\n", label and (label .. " ") or "",
      show.score(after.authenticity_score), show.score(after.persona_avg_score), after.passes_gates and "pass" or "fail"))
    return true
  end
  io.stderr:write("candor: ", label and (label .. ": ") or "", "the LLM judges failed, the deterministic scores stand: ",
    tostring(sd.judge_error), "\n")
  return false
end

-- err with one more line of message, keeping its kind (a usage error stays one).
local function with_note(err, note)
  local msg = type(err) == "table" and err.message or tostring(err)
  return { message = msg .. "\n" .. note, kind = type(err) == "table" and err.kind or nil }
end

local function plain_version(v)
  local out = {}
  for k, x in pairs(v) do out[k] = x end
  if type(out.source_detail) == "table" then out.source_detail = ws.detail(v) end
  return out
end

---------------------------------------------------------------- subcommands

local function generate(app, opts, W, id)
  local on_progress, clear, log = show.pipeline_progress()
  local ok, job = pcall(W.generate, W, id, {
    on_progress = not opts.json and on_progress or nil, profile = opts.profile, force = opts.force, on_log = log,
  })
  clear()
  if not ok then
    if opts.json then   -- the session exists: a script gets its id on standard output, with the error
      local s = W:get(id)
      show.json(app, { session = { id = s.id, name = s.name, status = s.status },
                       error = type(job) == "table" and job.message or tostring(job) })
    end
    error(job, 0)
  end
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
  app.out(string.format("session %s \"%s\": generated by job %s\n", s.id, show.printable(s.name), job.id))
  app.out(string.format("see: %s · %s\n", again("show %s", s.id), again("edit %s --asset %s", s.id, s.asset_types[1])))
  return 0
end

local function cmd_new(app, opts, W)
  show.one_of("session new", opts, { "pain", "pain-file", "pain-id" })
  local pain
  if opts["pain-id"] then pain = { id = opts["pain-id"] }
  elseif opts.pain then pain = require("candor.pipeline").pain_from_text(opts.pain, "--pain")
  else pain = require("candor.pipeline").read_pain_file(opts["pain-file"]) end
  local s = W:create {
    pain = pain, documents = opts.doc, asset_types = show.list(opts.assets), voice = opts.voice,
    voices = show.list(opts.voices),
    pipeline = opts.pipeline, focus = opts.focus, name = opts.name, priority = opts.priority, profile = opts.profile,
    check_keys = not opts["no-generate"],
  }
  if opts["no-generate"] then
    if opts.json then
      show.json(app, { session = { id = s.id, name = s.name, status = s.status } })
    else
      app.out(string.format("session %s \"%s\" created; generate it with: %s\n", s.id, show.printable(s.name),
        again("generate %s", s.id)))
    end
    return 0
  end
  if not opts.json then io.stderr:write(string.format("candor: session %s created; generating\n", s.id)) end
  local ok, code = pcall(generate, app, opts, W, s.id)
  if ok then return code end
  -- the session is kept: say how to go on once the cause (a key, a provider) is mended
  error(with_note(code, "the session is saved; generate it later with: " .. again("generate %s", s.id)), 0)
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
    if opts.archived then app.out("no archived sessions\n")
    elseif opts.status or opts.search then app.out("no sessions match\n")
    elseif #W:list { archived = true, limit = 1 } > 0 then
      app.out("no sessions but archived ones (list them with: candor session list --archived)\n")
    else app.out("no sessions yet (candor session new ...)\n") end
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
  app.out(string.format("session %s  \"%s\"\n", s.id, show.printable(s.name)))
  local field = show.fields(app, 11)
  field("status", s.status .. (s.is_archived and " (archived)" or ""))
  field("pipeline", s.pipeline)
  field("voice", data.session.voice .. (#data.session.voices > 1 and (" (generated in " .. table.concat(data.session.voices, ", ") .. ")") or ""))
  if data.pain then
    field("pain", show.one_line(data.pain.title, 70) .. "  (" .. tostring(data.pain.id or "manual") .. ")")
  end
  local docs = {}
  for _, d in ipairs(data.documents) do docs[#docs + 1] = string.format("%s (%s)", show.printable(d.name), d.document_type) end
  field("documents", #docs > 0 and table.concat(docs, ", ") or nil)
  field("focus", s.focus_instructions and show.one_line(s.focus_instructions, 70))
  field("profile", data.session.profile)
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
  for _, v in ipairs(rows) do
    local hint = judge_hint(v)
    if hint then app.out("  ", hint, "\n") end
  end
  if opts.full then
    for _, v in ipairs(rows) do
      app.out(string.format("\n== %s v%d ==\n%s\n", v.asset_type, v.version_number,
        show.for_terminal((v.content:gsub("%s+$", "")))))
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
      s.id, show.printable(s.name), n, n == 1 and "" or "s"))
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

-- 9 -> "SIGKILL" (the first name in order where a number has two); nil for no signal.
local function signal_name(n)
  local found
  for name, v in pairs(require("luv").constants) do
    if v == n and name:match("^SIG") and (not found or name < found) then found = name end
  end
  return found
end

-- edit_in_editor(s, asset, original) -> the text as the editor left the file it
-- was given original in, that file's path, and discard() to remove it once the
-- text is saved (until then it stays, so a failed save loses nothing typed).
-- Raises, the file removed and nothing saved, when the editor fails.
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
  local function discard()
    os.remove(path)
    uv.fs_rmdir(dir)
  end
  if code == nil then
    discard()
    error(string.format("cannot run the editor '%s': %s", editor, tostring(signal_or_err)), 0)
  end
  -- the shell the editor runs under reports an editor killed by signal N as status 128 + N
  local signal = (signal_or_err or 0) ~= 0 and signal_or_err or (code > 128 and signal_name(code - 128) and code - 128)
  if signal then
    discard()
    error(string.format("the editor '%s' was killed by signal %d (%s); nothing was saved", editor, signal,
      signal_name(signal) or "unknown"), 0)
  end
  if code ~= 0 then
    discard()
    error(string.format("the editor '%s' exited with status %d; nothing was saved", editor, code), 0)
  end
  if not text then
    discard()
    error("the edited file is gone; nothing was saved", 0)
  end
  return text, path, discard
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
  W:check_asset(s, asset)
  -- the version this edit starts from, whatever becomes active while it is being written
  local from = W:active(s.id)[asset]
  local text, kept, discard
  if not require("core.host").isatty(0) then
    -- piped or redirected: that input is the new text (a script has no terminal an editor could use)
    text = io.stdin:read("a") or ""
    if not text:match("%S") then
      error(usage("session edit: the text read from standard input is empty; nothing was saved "
        .. "(pipe in the new text, or run on a terminal to open $VISUAL or $EDITOR)"), 0)
    end
  else
    text, kept, discard = edit_in_editor(s, asset, from and from.content or "")
  end
  local ok, v, meanwhile = pcall(W.edit, W, s.id, asset, text, { from = from or false })
  if not ok then
    if kept and text:match("%S") then error(with_note(v, "nothing was saved; your text is kept in " .. kept), 0) end
    if discard then discard() end
    error(v, 0)
  end
  if discard then discard() end
  if not v then app.out(meanwhile, "\n") return 0 end   -- nil, "no change"
  app.out(string.format("%s v%d saved%s: slop %s, vendor-speak %s, specificity %s, authenticity %s (deterministic gates %s)\n",
    asset, v.version_number, meanwhile and " but not made active" or "", show.score(v.slop_score),
    show.score(v.vendor_speak_score), show.score(v.specificity_score), show.score(v.authenticity_score),
    v.passes_gates and "pass" or "fail"))
  if meanwhile then
    app.out(string.format("while you edited, %s v%d (made by %s) became the active version; yours is v%d, from v%s\n",
      asset, meanwhile.version_number, made_by(meanwhile), v.version_number, from and from.version_number or "-"))
    app.out("compare them:      ", again("diff %s %d %d --asset %s", s.id, meanwhile.version_number, v.version_number, asset),
      "\n")
    app.out("make yours active: ", again("activate %s %d --asset %s", s.id, v.version_number, asset), "\n")
  end
  io.stdout:flush()
  io.stderr:write("candor: judging with the LLM judges...\n")
  W:wait_background()
  -- the version is saved either way; judges that fail are still a failure to report
  return report_judges(app, W, v) and 0 or 1
end

local function cmd_judge(app, opts, W, id)
  local started = W:judge(id, { asset_type = opts.asset, version = opts.version })
  if #started == 0 then
    app.out(string.format("nothing to judge: every active version is judged (or being judged); to judge one again: "
      .. "%s\n", again("judge %s --asset T [--version N]", W:get(id).id)))
    return 0
  end
  io.stderr:write("candor: judging with the LLM judges...\n")
  W:wait_background()
  local all = true
  for _, v in ipairs(started) do
    all = report_judges(app, W, v, string.format("%s v%d", v.asset_type, v.version_number)) and all
  end
  return all and 0 or 1
end

local function cmd_profile(app, W, id, name, to_default)
  if name and to_default then error(usage("session profile: give a NAME or --default, not both"), 0) end
  if to_default then
    local s = W:set_profile(id, nil)
    app.out(string.format("session %s has no model profile of its own now: each run uses the default\n", s.id))
    return 0
  end
  if name then
    local s = W:set_profile(id, name)
    app.out(string.format("session %s uses model profile %s\n", s.id, name))
    return 0
  end
  local s = W:get(id)
  local own = type(s.metadata) == "table" and s.metadata.modelProfile
  if own then
    app.out(string.format("session %s uses model profile %s (its own; change it with: %s)\n",
      s.id, own, again("profile %s NAME", s.id)))
  else
    local active, _, source = require("candor.llm.profiles").active { db = app.db() }
    app.out(string.format("session %s has no model profile of its own: each run uses the default, now %s (from %s); "
      .. "give it one with: %s\n", s.id, active, source, again("profile %s NAME", s.id)))
  end
  return 0
end

-- What an action job ended with, in a few words.
local function action_outcome(r)
  local res = type(r.result) == "table" and r.result or {}
  if r.status == "failed" then return "failed: " .. show.one_line(r.error_message or "(no message)", 100) end
  if r.status ~= "completed" then return show.one_line(r.current_step or r.status, 100) end
  local out = {}
  if res.version_number then
    out[#out + 1] = string.format("v%d%s", res.version_number,
      res.passes_gates == true and " (passes its gates)" or res.passes_gates == false and " (fails a gate)" or "")
  end
  if type(res.report) == "table" and type(res.report.claims) == "table" then
    out[#out + 1] = string.format("report: %d of %d claims disputed or unverifiable", tonumber(res.disputed) or 0,
      #res.report.claims)
  end
  if res.activated == false then
    out[#out + 1] = string.format("not made active: v%s stayed active", tostring(res.active_version_number or "?"))
  end
  if res.recovered then out[#out + 1] = "(recovered after its process stopped)" end
  return #out > 0 and table.concat(out, "; ") or "done"
end

local function cmd_actions(app, opts, W, id)
  local rows = W:action_jobs(id)
  if opts.json then
    local json = require "candor.json"
    show.json_rows(app, rows, function(r)
      local result = type(r.result) == "table" and r.result or nil
      if result and type(result.steps) == "table" then json.array(result.steps) end
      return { id = r.id, action = r.action_name, asset_type = r.asset_type, status = r.status, progress = r.progress,
               current_step = r.current_step, result = result, error_message = r.error_message,
               created_at = r.created_at, updated_at = r.updated_at }
    end)
    return 0
  end
  if #rows == 0 then
    app.out(string.format("no actions yet (%s; actions: %s)\n", again("action NAME %s", W:get(id).id),
      table.concat(actions.names, ", ")))
    return 0
  end
  app.out(string.format("%-21s  %-17s %-19s %-9s %4s  %-19s  %s\n", "id", "action", "asset", "status", "pct", "created",
    "made or found"))
  for _, r in ipairs(rows) do
    app.out(string.format("%-21s  %s %s %s %3d%%  %-19s  %s\n", r.id, show.fit(r.action_name, 17), show.fit(r.asset_type, 19),
      show.fit(r.status, 9), r.progress or 0, show.time(r.created_at), action_outcome(r)))
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

local function is_action(name)
  for _, n in ipairs(actions.names) do if n == name then return true end end
  -- an action of the user's own: a workflow file on the search path
  return name ~= nil and require("candor.workflow").find("actions/" .. name) ~= nil
end

-- The action's name comes before the session: a name that is no action is a
-- usage error before any session is looked up (and the two swapped say so).
local function check_action(pos)
  local name, id = pos[2], pos[3]
  if is_action(name) then return end
  if is_action(id) then
    error(usage("session action: the action comes first: candor session action %s %s", id, name), 0)
  end
  error(usage("session action: no action '%s' (actions: %s)", name, table.concat(actions.names, ", ")), 0)
end

local function check_chat(opts, pos)
  if opts.accept and opts.history then error(usage("session chat: give --accept or --history, not both"), 0) end
  if opts.history and pos[3] then error(usage("session chat --history: unexpected argument '%s'", pos[3]), 0) end
end

function M.run(app, opts, pos)
  local sub = pos[1]
  if not sub then error(usage("session: give a subcommand (%s)", table.concat(ORDER, ", ")), 0) end
  show.check_subcommand(M, sub, opts, ALLOWED, table.concat(ORDER, ", "))
  check_args(sub, pos)
  if sub == "action" then check_action(pos) end
  if sub == "chat" then check_chat(opts, pos) end
  local W = workspace(app, opts)
  as_user = W.user.username ~= ws.LOCAL and (" --user " .. W.user.username) or ""
  local id = pos[2]
  if (sub == "chat" or sub == "action") and opts.asset then
    W:check_asset(sub == "action" and pos[3] or id, opts.asset)   -- before a message is read or an action started
  end
  if sub == "new" then return cmd_new(app, opts, W)
  elseif sub == "list" then return cmd_list(app, opts, W)
  elseif sub == "show" then return cmd_show(app, opts, W, id)
  elseif sub == "generate" then W:get(id) return generate(app, opts, W, id)
  elseif sub == "rename" then
    local s = W:rename(id, pos[3])
    app.out(string.format("renamed session %s: %s\n", s.id, show.printable(s.name)))
  elseif sub == "profile" then return cmd_profile(app, W, id, pos[3], opts.default)
  elseif sub == "archive" then
    local was = W:get(id).is_archived
    local s = W:archive(id, not opts.undo)
    local said = s.is_archived and (was and "was archived already:" or "archived")
      or (was and "unarchived" or "was not archived:")
    app.out(string.format("%s session %s\n", said, s.id))
  elseif sub == "delete" then return cmd_delete(app, opts, W, id)
  elseif sub == "versions" then return cmd_versions(app, opts, W, id)
  elseif sub == "activate" then
    local v = W:activate(id, pos[3], opts.asset)
    app.out(string.format("%s v%d is active\n", v.asset_type, v.version_number))
  elseif sub == "edit" then return cmd_edit(app, opts, W, id)
  elseif sub == "judge" then return cmd_judge(app, opts, W, id)
  elseif sub == "diff" then app.out(W:diff(id, pos[3], pos[4], opts.asset))
  elseif sub == "export" then return cmd_export(app, opts, W, id)
  elseif sub == "action" then return actions.cli(app, opts, pos)
  elseif sub == "actions" then return cmd_actions(app, opts, W, id)
  elseif sub == "chat" then return require("candor.workspace.chat").cli(app, opts, pos)
  end
  return 0
end

return M
