-- Chat about a session's drafts: messages stored in session_messages, the
-- assistant sees the session's context (pain, documents, active versions and
-- their scores, recent messages) within a token budget, replies stream piece by
-- piece to a callback, and a revised asset it proposes between
-- "<<<proposal TYPE>>>" and "<<<end proposal>>>" lines can be accepted as a
-- new scored version.
local async = require "candor.async"
local json = require "candor.json"
local host = require "core.host"
local prompt = require "candor.prompt"
local text = require "candor.text"
local trim, tokens = text.trim, text.tokens

local M = { tier = "pro", default_budget = 12000 }

local usage = require("candor.workflow").usage   -- the error a command turns into exit code 2

local function fmt(x) return x and string.format("%.1f", x) or "-" end

-- The active versions as the assistant sees them, each with its scores and its
-- text; with room (bytes), the texts share it: an equal share each, what a
-- shorter one leaves going to the longer ones, and a cut one says so (why).
local function assets_text(active, room, why)
  local types = {}
  for t in pairs(active) do types[#types + 1] = t end
  table.sort(types)
  local research = require "candor.pipeline.research"
  local share
  if room then
    local sizes = {}
    for i, t in ipairs(types) do sizes[i] = #active[t].content end
    share = research.shares(sizes, room)
  end
  local out = {}
  for i, t in ipairs(types) do
    local v = active[t]
    local content = share and research.within(v.content, share[i], "the " .. t .. " draft", why) or v.content
    out[#out + 1] = string.format("## %s (version %d, %s)\nscores: slop %s, vendor-speak %s, specificity %s, authenticity %s, persona fit %s\n\n%s",
      t, v.version_number, v.passes_gates and "passes its gates" or "fails a gate", fmt(v.slop_score), fmt(v.vendor_speak_score),
      fmt(v.specificity_score), fmt(v.authenticity_score), fmt(v.persona_avg_score), content)
  end
  return #out > 0 and table.concat(out, "\n\n") or "(no versions yet)"
end

-- Each document's opening, up to per_doc bytes.
local function documents_text(docs, per_doc)
  local out = {}
  for _, d in ipairs(docs) do
    local shown, left_out = text.opening(d.content, per_doc)
    if left_out > 0 then shown = shown .. "\n[... the rest of " .. d.name .. " is not shown]" end
    out[#out + 1] = "### " .. d.name .. "\n" .. shown
  end
  return table.concat(out, "\n\n")
end

-- The chat_context_tokens setting, or the default.
local function budget_of(db)
  return require("candor.repo.settings"):whole_number(db, "chat_context_tokens", M.default_budget)
end

-- context(W, session, focus_asset, message) -> system prompt, earlier messages
-- ({role, content}, oldest first), the user part, and the active versions it
-- shows ({asset_type -> version}). Within the budget the drafts, the pain and
-- the message always go in; documents shrink first, then the oldest messages
-- are left out. Drafts too large for the budget are cut, each to its share,
-- with a note saying so.
function M.context(W, session, focus_asset, message)
  local db = W.db
  local budget = budget_of(db)
  local voice, pain = W:voice(session), W:pain(session)
  if pain then   -- cut to the pain_context_tokens budget, as the pipeline's prompts see it
    local research = require "candor.pipeline.research"
    pain = research.prompt_pain(pain, research.budgets(db).pain)
  end
  local quality = require "candor.quality"
  local banned = {}
  for i, p in ipairs(quality.banned_phrases(db, voice)) do if i <= 60 then banned[#banned + 1] = "- " .. p end end
  local active = W:active(session.id)
  local vars = { session_name = session.name, pain_title = pain and pain.title or "", pain_content = pain and pain.content or "",
    voice_name = voice.name, voice_guide = voice.voice_guide, banned = table.concat(banned, "\n"),
    assets = assets_text(active), focus_asset = focus_asset or "", history_note = "", message = message }
  local docs = W:documents(session)
  local function system_for(per_doc)
    vars.documents = documents_text(docs, per_doc)
    return prompt.render("chat/assistant", vars)
  end
  local function size(r) return tokens(r.system or "") + tokens(message) end
  local per_doc = 6000
  local rendered = system_for(per_doc)
  while size(rendered) > budget * 0.7 and per_doc > 500 do
    per_doc = per_doc // 2
    rendered = system_for(per_doc)
  end
  if size(rendered) > budget then
    -- the drafts do not fit whole: they share what the rest leaves of 70% of
    -- the budget (room for earlier messages), or beside a long message of all of it
    local why = string.format("the chat_context_tokens budget is %d tokens; do not propose this whole asset, "
      .. "as the part left out would be lost", budget)
    vars.assets = assets_text(active, 0, why)   -- the headings and notes, measured with the rest
    local fixed = size(system_for(per_doc))
    local room = math.floor(budget * 0.7) - fixed
    if room <= 0 then room = budget - fixed end
    vars.assets = assets_text(active, math.max(room, 0) * text.bytes_per_token, why)
    rendered = system_for(per_doc)
  end
  local left = budget - size(rendered)
  local rows = require("candor.repo.session_messages"):list(db, { session_id = session.id }, { order = "created_at DESC, rowid DESC" })
  local history, skipped = {}, 0
  for _, m in ipairs(rows) do
    local cost = tokens(m.content)
    if left - cost < 0 or skipped > 0 then skipped = skipped + 1
    else
      left = left - cost
      table.insert(history, 1, { role = m.role, content = m.content })
    end
  end
  if skipped > 0 then
    vars.history_note = string.format("%d earlier %s not shown", skipped, skipped == 1 and "message is" or "messages are")
    rendered = system_for(per_doc)
  end
  return rendered.system, history, rendered.user, active
end

-- The proposal in a reply, if any -> {asset_type, content}, the reply without it.
function M.proposal(text)
  local kind, body = text:match("<<<proposal%s+([%w_%-]+)%s*>>>[ \t]*\r?\n(.-)\r?\n?<<<end proposal>>>")
  if not kind then return nil end
  return { asset_type = kind:gsub("%-", "_"), content = trim(body) }
end

-- send(W, session_id, message, {asset_type, on_chunk = fn(piece), retry}) -> the
-- assistant's message row (metadata.proposal when it proposed an asset;
-- metadata.drafts_seen, the id of each active version it was shown, by asset
-- type). The user's message is stored first, so a failed reply still keeps it;
-- a message larger than the whole chat_context_tokens budget, a chat tier with
-- no key, or a request over that tier's input limit is refused before that.
function M.send(W, session_id, message, opts)
  opts = opts or {}
  if type(message) ~= "string" or not message:match("%S") then error(usage("the message is empty"), 0) end
  text.check_utf8(message, "the message")
  local session = W:get(session_id)
  local db = W.db
  local budget = budget_of(db)
  if tokens(message) > budget then
    error(usage(string.format("the message is about %d tokens, more than the chat_context_tokens budget of %d; "
      .. "nothing was sent or stored: send a shorter message, or raise that setting", tokens(message), budget)), 0)
  end
  local M_repo = require "candor.repo.session_messages"
  local profile = (session.metadata or {}).modelProfile
  local target = require("candor.llm.profiles").resolve(M.tier, { db = db, profile = profile })   -- no key: raises here
  local system, history, user, shown = M.context(W, session, opts.asset_type, message)
  -- what the budget cannot cut (the prompt, the voice guide) may still be over the tier's input limit
  local size = tokens(system) + tokens(user)
  for _, m in ipairs(history) do size = size + tokens(m.content) end
  if size > target.max_input_tokens then
    error(string.format("the chat request is about %d tokens, over the input limit of %d for %s:%s; nothing was sent "
      .. "or stored: lower the chat_context_tokens setting, or raise %s", size, target.max_input_tokens, target.provider,
      target.model or "", target.max_input_tokens_from or "the llm_max_input_tokens setting"), 0)
  end
  local drafts_seen = {}
  for t, v in pairs(shown) do drafts_seen[t] = v.id end
  M_repo:insert(db, { session_id = session.id, role = "user", content = message, asset_type = opts.asset_type or json.null,
    metadata = {} })
  local messages = {}
  for _, m in ipairs(history) do messages[#messages + 1] = m end
  messages[#messages + 1] = { role = "user", content = user }
  local llm = require "candor.llm"
  local r, err = async.run(function()
    return llm.call(M.tier, { system = system, messages = messages, stream = true, on_text = opts.on_chunk,
      purpose = "workspace:chat" }, { db = db, retry = opts.retry, profile = profile })
  end, { ctx = { session_id = session.id } })
  if not r then error(string.format("the assistant did not answer: %s", err.message), 0) end
  local proposal = M.proposal(r.text)
  local meta = { model = (r.provider or "?") .. ":" .. (r.model or "?"), input_tokens = r.input_tokens,
                 output_tokens = r.output_tokens, latency_ms = r.latency_ms, proposal = proposal, drafts_seen = drafts_seen }
  return M_repo:insert(db, { session_id = session.id, role = "assistant", content = r.text,
    asset_type = (proposal and proposal.asset_type) or opts.asset_type or json.null, metadata = meta })
end

-- history(W, session_id, {limit}) -> messages, oldest first.
function M.history(W, session_id, opts)
  local session = W:get(session_id)
  local rows = require("candor.repo.session_messages"):list(W.db, { session_id = session.id },
    { order = "created_at DESC, rowid DESC", limit = opts and opts.limit or 50 })
  local out = {}
  for i = #rows, 1, -1 do out[#out + 1] = rows[i] end
  return out
end

-- accept(W, session_id [, message_id]) -> version, and the version that became
-- active meanwhile (nil when none did): the proposal of that message (default:
-- the latest assistant message with one) as a new scored version, made from
-- the version the assistant was shown (drafts_seen). It is made active unless
-- another version became active since (an edit made after the reply, say):
-- then it is stored all the same, not active (workspace add_version_since).
function M.accept(W, session_id, message_id, opts)
  local session = W:get(session_id)
  local db = W.db
  local R = require "candor.repo.session_messages"
  local msg
  if message_id then
    msg = R:get(db, message_id)
    if not msg or msg.session_id ~= session.id then error(string.format("no message '%s' in session %s", message_id, session.id), 0) end
  else
    msg = R:decode(db:first([[SELECT * FROM session_messages WHERE session_id = ? AND role = 'assistant'
      AND json_extract(metadata, '$.proposal') IS NOT NULL ORDER BY created_at DESC, rowid DESC LIMIT 1]], session.id))
    if not msg then error(usage("nothing to accept: the assistant has not proposed a revised asset in this session"), 0) end
  end
  local proposal = type(msg.metadata) == "table" and msg.metadata.proposal
  if type(proposal) ~= "table" then error(usage("message " .. msg.id .. " proposes no revised asset"), 0) end
  if msg.version_created then
    local v = require("candor.repo.session_versions"):get(db, msg.version_created)
    error(usage(string.format("message %s was already accepted as %s version %s", msg.id, proposal.asset_type,
      v and v.version_number or "?")), 0)
  end
  local valid = require("candor.pipeline.draft").asset_names[proposal.asset_type]
  if not valid then error(string.format("the proposal names an unknown asset type '%s'", tostring(proposal.asset_type)), 0) end
  -- the version the proposal revises; a message from before drafts_seen was kept: the active one now
  local seen = type(msg.metadata.drafts_seen) == "table" and msg.metadata.drafts_seen
  local from
  if seen then from = seen[proposal.asset_type] and require("candor.repo.session_versions"):get(db, seen[proposal.asset_type])
  else from = W:active(session.id)[proposal.asset_type] end
  local pipeline = require "candor.pipeline"
  local voice = W:asset_voice(session, proposal.asset_type)
  local run = pipeline.new_run(db, { pipeline = "chat", pain = W:pain(session), documents = W:documents(session),
    assets = { proposal.asset_type }, voices = { voice }, judges = true, retry = opts and opts.retry,
    profile = (session.metadata or {}).modelProfile })
  local s = async.run(function()
    return require("candor.pipeline.judge").score(run, { asset = proposal.asset_type, voice = voice,
      content = proposal.content, title = proposal.asset_type })
  end, { ctx = { session_id = session.id } })
  local sc = s.scores
  -- checked again, stored and marked in one transaction: two accepts at once
  -- make one version
  return db:transaction(function()
    local now = R:get(db, msg.id)
    if now.version_created then
      error(usage(string.format("message %s was already accepted as %s", msg.id, proposal.asset_type)), 0)
    end
    local v, meanwhile = W:add_version_since(session.id, proposal.asset_type, from, {
      content = proposal.content, source = "chat",
      source_detail = require("candor.workspace").from_version(from, {
        message_id = msg.id, voice = voice.slug, source = s.source, gates = s.gates, judged = s.judged,
        accepted_at = host.now() }),
      scores = { slop = sc.slop, vendor_speak = sc.vendor_speak, authenticity = sc.authenticity,
                 specificity = sc.specificity, persona_avg = sc.persona_avg },
      passes_gates = s.pass,
    })
    R:update(db, msg.id, { version_created = v.id })
    return v, meanwhile
  end)
end

---------------------------------------------------------------- candor session chat

local show = require "candor.cli.show"

local function show_accepted(app, v, meanwhile)
  app.out(string.format("accepted: %s version %d%s (%s)\n", v.asset_type, v.version_number,
    meanwhile and " but not made active" or "", v.passes_gates and "passes its gates" or "fails a gate"))
  if meanwhile then
    for _, line in ipairs(require("candor.workspace").kept_note(v.session_id, v, meanwhile,
      "since the assistant wrote this proposal")) do app.out(line, "\n") end
  end
end

-- One exchange: the reply printed as it streams; a proposal pointed out.
local function exchange(app, W, id, text, opts)
  local streamed = false
  local msg = M.send(W, id, text, { asset_type = opts.asset, on_chunk = function(piece)
    streamed = true
    io.stdout:write(show.for_terminal(piece))
    io.stdout:flush()
  end })
  if not streamed then io.stdout:write(show.for_terminal(msg.content)) end
  io.stdout:write(msg.content:sub(-1) == "\n" and "" or "\n")
  local p = type(msg.metadata) == "table" and msg.metadata.proposal
  if p then
    io.stderr:write(string.format("(a revised %s is proposed: /accept here, or 'candor session chat %s --accept %s')\n",
      p.asset_type, id, msg.id))
  end
  return msg
end

-- candor session chat SESSION_ID [MESSAGE|-] [--asset T] | --accept [MESSAGE_ID] | --history
-- On a terminal with no message: a conversation (libedit), /accept, /history, /quit.
function M.cli(app, opts, pos)
  local id = pos[2]
  if not id then error(usage("session chat: give the session id"), 0) end
  local W = require("candor.workspace").for_user(app.db(), opts.user)
  if opts.accept then
    show_accepted(app, M.accept(W, id, pos[3]))
    return 0
  end
  if opts.history then
    for _, m in ipairs(M.history(W, id, { limit = 50 })) do
      app.out(string.format("[%s] %s:\n%s\n\n", m.created_at, m.role, show.for_terminal(m.content)))
    end
    return 0
  end
  local text = pos[3]
  if text == "-" or (not text and not host.isatty(0)) then text = io.stdin:read("a") end
  if text then
    exchange(app, W, id, text, opts)
    return 0
  end
  local edit = require "core.edit"
  local session = W:get(id)
  io.stdout:write(string.format("chat about %s (%s). /accept takes the last proposal, /history, /quit or Ctrl-D.\n",
    session.name, session.id))
  while true do
    local line = edit.readline("you> ")
    if not line or line == "/quit" then break end
    if line:match("%S") then
      edit.add_history(line)
      local ok, err = pcall(function()
        if line == "/accept" then show_accepted(app, M.accept(W, id))
        elseif line:match("^/%a+$") and line ~= "/history" then
          io.stderr:write("candor: unknown command ", line, " (/accept, /history, /quit)\n")
        elseif line == "/history" then
          for _, m in ipairs(M.history(W, id, { limit = 20 })) do
            io.stdout:write(m.role, ": ", show.for_terminal(m.content), "\n\n")
          end
        else exchange(app, W, id, line, opts) end
      end)
      if not ok then io.stderr:write("candor: ", type(err) == "table" and err.message or tostring(err), "\n") end
    end
  end
  return 0
end

return M
