-- The workspace: sessions owned by a user, their versions per asset type, edits,
-- diffs and exports. One implementation for the CLI now and the HTTP API later:
-- every read and write goes through the owner's handle (for_user), so a session
-- of another user reads as missing.
--   local W = require("candor.workspace").for_user(db, "local")
--   local s = W:create{pain = {title = "...", content = "..."}, asset_types = {"battlecard"}}
--   W:generate(s.id) ; W:edit(s.id, "battlecard", text) ; print(W:diff(s.id, 1, 2, "battlecard"))
local async = require "candor.async"
local jobs = require "candor.jobs"
local json = require "candor.json"
local trim, tokens = require("candor.text").trim, require("candor.text").tokens

local M = {}

M.LOCAL = "local"   -- the CLI's default user, created at 'candor init' or on first use
M.name_tier = "flash"

local null = json.null

local usage = require("candor.workflow").usage   -- the error a command turns into exit code 2

local check_utf8 = require("candor.text").check_utf8

-- s cut to at most max characters at a word boundary, with "..." when cut.
local function shorten(s, max)
  s = trim((s or ""):gsub("%s+", " "))
  if (utf8.len(s) or #s) <= max then return s end
  local cut = utf8.offset(s, max - 2) or (max - 2)
  return (s:sub(1, cut - 1):gsub("%s+%S*$", "")) .. "..."
end

-- A name a user gave: one line, not empty, at most 200 characters.
local function check_name(name)
  if type(name) ~= "string" then error(usage("a session name must be text"), 0) end
  check_utf8(name, "the session name")
  name = trim(name:gsub("%s+", " "))
  if name == "" then error(usage("the session name is empty"), 0) end
  if (utf8.len(name) or #name) > 200 then error(usage("the session name is longer than 200 characters"), 0) end
  return name
end

local function bind(db) return require("candor.repo").bind(db) end

---------------------------------------------------------------- users

-- local_user(db) -> the local default user ("local"), created when missing.
function M.local_user(db)
  return (require("candor.repo.users"):ensure(db, { username = M.LOCAL, email = "local@localhost",
    password_hash = "!", display_name = "Local user" }))
end

local W = {}
W.__index = W

-- for_user(db, user_row_or_name) -> the workspace of that user; nil is the local user.
function M.for_user(db, user)
  local users = require "candor.repo.users"
  local row
  if user == nil then row = M.local_user(db)
  elseif type(user) == "string" then
    if user == M.LOCAL then row = M.local_user(db)
    else
      row = users:by_username(db, user)
      if not row then
        error(string.format("no user '%s' (the CLI's own user is '%s', made by 'candor init'; leave out --user to use it)",
          user, M.LOCAL), 0)
      end
    end
  elseif type(user) == "table" and type(user.id) == "string" then
    row = users:get(db, user.id)
    if not row then error(string.format("no user '%s'", tostring(user.username or user.id)), 0) end
  else
    error("workspace.for_user: a user row or username expected", 2)
  end
  if row.is_active == false then error(string.format("user '%s' is deactivated", row.username), 0) end
  return setmetatable({ db = db, user = row, R = bind(db), background = {} }, W)
end

---------------------------------------------------------------- sessions

local function meta(s) return type(s.metadata) == "table" and s.metadata or {} end

local generating = {}   -- ids of the sessions this process is generating

-- generating_now(R, s) -> true when a live process generates session s: the one
-- whose claim it holds (metadata.generation_claim, see W:generate). A session
-- an older Candor made generating has no claim: it generates while its job
-- runs (candor.jobs.recover fails the job of a process that stopped).
local function generating_now(R, s)
  if s.status ~= "generating" then return false end
  local claim = meta(s).generation_claim
  if type(claim) == "table" then return jobs.runner_alive(claim.runner, generating[s.id] == true) end
  local job = s.job_id and R.generation_jobs.get(s.job_id)
  return job ~= nil and job.status == "running"
end

-- The status of a session whose generation ended without storing its results
-- (it failed, or its process stopped): completed when it has versions, which a
-- failed regeneration leaves as they were; else failed. A session an older
-- Candor left generating (no claim) is failed, as it was then.
local function settled_status(R, s)
  if type(meta(s).generation_claim) ~= "table" then return "failed" end
  return R.session_versions.count({ session_id = s.id }) > 0 and "completed" or "failed"
end

-- settle(db, R, id [, fields]) -> the session's status, after a generation
-- that stored nothing: its settled status, the claim dropped, fields written
-- too. Read again inside the transaction, so a claim made meanwhile is kept.
local function settle(db, R, id, fields)
  return db:transaction(function()
    local s = R.sessions.get(id)
    if not s then return nil end
    if s.status ~= "generating" or generating_now(R, s) then return s.status end
    local m = meta(s)
    local out = { status = settled_status(R, s), metadata = m }
    m.generation_claim = nil
    for k, v in pairs(fields or {}) do out[k] = v end
    R.sessions.update(s.id, out)
    return out.status
  end)
end

-- recover(db) -> failed, restored: the sessions left generating by a process
-- that stopped (see candor.jobs.recover), marked failed, or given back
-- 'completed' when they have versions (a killed regeneration harms none).
function M.recover(db)
  local R = bind(db)
  local failed, restored = 0, 0
  for _, row in ipairs(db:query("SELECT id FROM sessions WHERE status = 'generating'")) do
    local status = settle(db, R, row.id)   -- one still generating stays so
    if status == "failed" then failed = failed + 1 elseif status == "completed" then restored = restored + 1 end
  end
  return failed, restored
end

local function missing(id) error(string.format("no session '%s'", tostring(id)), 0) end

-- get(id) -> the session row when this user owns it; raises "no session 'ID'"
-- for a missing id and for another user's alike. A session left generating by a
-- process that stopped reads as what recover makes of it.
function W:get(id)
  if type(id) == "table" then id = id.id end
  if type(id) ~= "string" then missing(id) end
  local s = self.R.sessions.owned(id, self.user.id)
  if not s then missing(id) end
  if s.status == "generating" and not generating_now(self.R, s) then
    settle(self.db, self.R, s.id)
    s = self.R.sessions.get(s.id)
  end
  return s
end

local function pain_of_opts(p)
  if type(p) ~= "table" then error(usage("give the pain point: {id = ...} or {title =, content =}"), 0) end
  return p
end

-- The default name: the pain's title, short enough for a list.
local function default_name(pain) return shorten(pain.title ~= "" and pain.title or pain.content, 60) end

-- A model profile a session may keep: nil (the default choice at each run), or a
-- name the profiles know; any other is a usage error that names the known ones.
local function check_profile(db, name)
  if name == nil then return nil end
  if type(name) ~= "string" or not name:match("%S") then error(usage("a model profile name must be text"), 0) end
  local names = require("candor.llm.profiles").names { db = db }
  for _, n in ipairs(names) do if n == name then return name end end
  error(usage(string.format("no model profile '%s'; known: %s", name, table.concat(names, ", "))), 0)
end

-- create{pain = {id=} | {title, content, author, source_url}, documents = {paths},
--   asset_types = {...}|{"all"}, voice = slug, voices = {slugs}, pipeline = name,
--   focus = text, name = text, priority = slug, profile = name, check_keys = bool}
--   -> session row.
-- Every input is checked (and every document read) before anything is written,
-- the profile name included; check_keys (for a session generated at once) also
-- resolves the pipeline's model tiers, so a missing API key leaves no session
-- behind. Then the pain point, the documents and the session are one transaction.
function W:create(o)
  o = o or {}
  local db, R = self.db, self.R
  local pipeline = require "candor.pipeline"
  local pain_in = pain_of_opts(o.pain)
  local assets = pipeline.resolve_assets(o.asset_types)
  local primary = o.voice ~= nil and self:voice_named(o.voice, "several go in --voices") or nil
  local voices = o.voices and #o.voices > 0 and pipeline.resolve_voices(db, R, o.voices) or primary and { primary }
    or pipeline.resolve_voices(db, R, nil)
  primary = primary or voices[1]
  local name = o.name and check_name(o.name)
  local pname = o.pipeline or require("candor.repo.settings"):get_value(db, "default_pipeline") or "standard"
  local wf = require("candor.workflow").load("pipelines/" .. pname)
  if wf.needs_text then error(usage(string.format("pipeline '%s' scores supplied text; a session generates its own", pname)), 0) end
  if wf.single_asset and #assets ~= 1 then
    error(usage(string.format("pipeline '%s' stores one asset type: give exactly one", pname)), 0)
  end
  local focus = o.focus and trim(pipeline.check_focus(o.focus, "the focus text")) or nil
  if focus == "" then focus = nil end
  local docs = pipeline.read_documents(o.documents)   -- each document once
  if pain_in.id then
    if not R.discovered_pain_points.get(pain_in.id) then
      error(usage(string.format("no pain point '%s' (see 'candor pain list')", tostring(pain_in.id))), 0)
    end
  else
    check_utf8((pain_in.title or "") .. (pain_in.content or ""), "the pain point")
    if not ((pain_in.title or "") .. (pain_in.content or "")):match("%S") then error(usage("the pain point is empty"), 0) end
  end
  local profile = check_profile(db, o.profile)
  if o.check_keys then require("candor.llm").check(wf.tiers or {}, { db = db, profile = profile }) end
  local voice_ids = {}
  for i, v in ipairs(voices) do voice_ids[i] = v.id end
  return db:transaction(function()
    local pain = pipeline.resolve_pain(db, R, pain_in, o.priority)
    local doc_ids = {}
    for i, d in ipairs(pipeline.store_documents(R, docs)) do doc_ids[i] = d.id end
    local row = R.sessions.insert {
      user_id = self.user.id, name = name or default_name(pain), pain_point_id = pain.id,
      voice_profile_id = primary.id, asset_types = json.array(assets), status = "pending",
      manual_pain_point = not pain_in.id and { title = pain.title, description = pain.content,
        author = pain_in.author, source_url = pain_in.source_url } or null,
      product_doc_ids = json.array(doc_ids), focus_instructions = focus or null, pipeline = wf.name:gsub("^pipelines/", ""),
      metadata = { voiceProfileIds = json.array(voice_ids), modelProfile = profile, named_by_user = name ~= nil },
      is_archived = false,
    }
    return R.sessions.get(row.id)
  end)
end

-- list{status =, search =, archived = bool|"all", limit =} -> this user's sessions.
function W:list(o)
  o = o or {}
  return self.R.sessions.search(self.user.id, { status = o.status, search = o.search, archived = o.archived, limit = o.limit })
end

-- rename(id, name) -> row: the user's name, kept from then on (generation no longer names it).
function W:rename(id, name)
  local s = self:get(id)
  name = check_name(name)
  local m = meta(s)
  m.named_by_user = true
  self.R.sessions.update(s.id, { name = name, metadata = m })
  return self.R.sessions.get(s.id)
end

-- set_profile(id, name) -> row: the model profile the session's generation,
-- judges, actions and chat use from now on (checked as create checks it); nil
-- leaves the choice to each run (CANDOR_PROFILE, the config file, the
-- model_profile setting).
function W:set_profile(id, name)
  local s = self:get(id)
  local m = meta(s)
  m.modelProfile = check_profile(self.db, name)
  self.R.sessions.update(s.id, { metadata = m })
  return self.R.sessions.get(s.id)
end

-- archive(id [, bool = true]) -> row
function W:archive(id, on)
  local s = self:get(id)
  self.R.sessions.update(s.id, { is_archived = on ~= false })
  return self.R.sessions.get(s.id)
end

-- delete(id) -> true: the session with its versions, messages, action jobs and
-- LLM call log (ON DELETE CASCADE); the pain point, documents and job stay.
function W:delete(id)
  local s = self:get(id)
  return self.R.sessions.delete(s.id)
end

-- The session a method was handed (row or id), checked as get does.
function W:own(s)
  if type(s) == "table" and s.id and s.user_id == self.user.id then return s end
  return self:get(s)
end

-- voice(session) -> the session's voice row (its primary voice, else the default).
function W:voice(s)
  s = self:own(s)
  local v = s.voice_profile_id and self.R.voice_profiles.get(s.voice_profile_id)
  if not v then v = require("candor.pipeline").resolve_voices(self.db, self.R, nil)[1] end
  return v
end

-- voice_named(name [, hint]) -> the voice profile of that slug or name, where
-- exactly one voice is meant (a session's voice, an action's --voice): 'all'
-- or a list is a usage error, not its first voice; hint says where several go.
function W:voice_named(name, hint)
  local function known()
    local slugs = {}
    for _, v in ipairs(self.R.voice_profiles.list({ is_active = true }, { order = "slug" })) do slugs[#slugs + 1] = v.slug end
    return table.concat(slugs, ", ")
  end
  local function refuse(what)
    error(usage(string.format("--voice names one voice, not %s%s (known: %s)", what, hint and ("; " .. hint) or "", known())), 0)
  end
  if type(name) ~= "string" then refuse("a list") end
  if name == "all" then refuse("'all'") end
  local v = self.R.voice_profiles.lookup(name)
  if v then return v end
  if name:find(",", 1, true) then refuse(string.format("a list ('%s')", name)) end
  error(usage(string.format("no voice profile '%s' (known: %s)", name, known())), 0)
end

-- voices(session) -> the voice rows generation uses (metadata.voiceProfileIds, else the primary).
function W:voices(s)
  s = self:own(s)
  local out = {}
  for _, id in ipairs(type(meta(s).voiceProfileIds) == "table" and meta(s).voiceProfileIds or {}) do
    local v = self.R.voice_profiles.get(id)
    if v then out[#out + 1] = v end
  end
  if #out == 0 then out[1] = self:voice(s) end
  return out
end

-- pain(session) -> the discovered pain point row, or (when that row is gone) the
-- manual pain as {title, content, author, source_url, source_type = "manual"}.
function W:pain(s)
  s = self:own(s)
  local p = s.pain_point_id and self.R.discovered_pain_points.get(s.pain_point_id)
  if p then return p end
  local m = type(s.manual_pain_point) == "table" and s.manual_pain_point
  if m then
    return { title = m.title or "", content = m.description or m.title or "", author = m.author or "",
             source_url = m.source_url or "", source_type = "manual" }
  end
  error(string.format("session '%s' has lost its pain point (it was deleted)", s.id), 0)
end

-- documents(session) -> the product_documents rows, in the order they were given.
function W:documents(s)
  s = self:own(s)
  return self.R.product_documents.by_ids(type(s.product_doc_ids) == "table" and s.product_doc_ids or {})
end

-- action_jobs(session_id) -> the session's action jobs (candor.workspace.actions),
-- oldest first: what each did, failed or found.
function W:action_jobs(session_id)
  local s = self:get(session_id)
  return self.R.action_jobs.for_session(s.id)
end

---------------------------------------------------------------- versions

local SCORE_COLUMNS = {
  { "slop", "slop_score" }, { "vendor_speak", "vendor_speak_score" }, { "authenticity", "authenticity_score" },
  { "specificity", "specificity_score" }, { "persona_avg", "persona_avg_score" },
}
M.score_columns = SCORE_COLUMNS

-- version row -> {slop =, vendor_speak =, authenticity =, specificity =, persona_avg =}
function M.scores_of(v)
  local out = {}
  for _, c in ipairs(SCORE_COLUMNS) do out[c[1]] = v[c[2]] end
  return out
end

local function check_asset(s, asset_type)
  for _, a in ipairs(s.asset_types or {}) do if a == asset_type then return asset_type end end
  local list = table.concat(s.asset_types or {}, ", ")
  error(usage(string.format("session '%s' has no asset type '%s' (it has: %s)", s.id, tostring(asset_type), list)), 0)
end

-- check_asset(session, asset_type) -> asset_type, or a usage error naming the session's.
function W:check_asset(s, asset_type) return check_asset(self:own(s), asset_type) end

-- detail(version) -> its source_detail as a table ({} when it has none), with
-- failing marked as an array: decoding loses the difference between [] and {},
-- and failing is a list however often the detail is written back or printed.
function M.detail(v)
  local sd = type(v.source_detail) == "table" and v.source_detail or {}
  if type(sd.failing) == "table" then json.array(sd.failing) end
  return sd
end

-- from_version(parent, detail) -> detail with the version it was made from, the
-- same way for every derived version (edit, action, accepted chat): from_version
-- the parent's id, from_version_number its number. No parent, no fields.
function M.from_version(parent, detail)
  if parent then detail.from_version, detail.from_version_number = parent.id, parent.version_number end
  return detail
end

-- check_size(db, text, what): a usage error when text is over the LLM input
-- limit (the llm_max_input_tokens setting, as candor.llm.profiles reads it): a
-- version that large could be neither judged nor sent to a model in a chat.
local function check_size(db, text, what)
  local profiles = require "candor.llm.profiles"
  local limit = profiles.max_input_tokens(profiles.settings(db))
  local n = tokens(text)
  if n > limit then
    error(usage(string.format("%s is about %d tokens, over the LLM input limit of %d (the llm_max_input_tokens setting): "
      .. "no model could judge it or be sent it, so it is not saved; shorten it, or raise that setting", what, n, limit)), 0)
  end
end

-- kept_note(session_id, version, active, during) -> lines telling a user that
-- version was stored but not made active, because active became the active
-- version during ("while the action ran"), and how to compare and choose.
function M.kept_note(session_id, v, active, during)
  local from = M.detail(v).from_version_number
  return {
    string.format("%s, %s v%d (%s) became the active version and stays so; this one is v%d%s", during, v.asset_type,
      active.version_number, active.source, v.version_number, from and (", from v" .. from) or ""),
    string.format("compare them:         candor session diff %s %d %d --asset %s", session_id, active.version_number,
      v.version_number, v.asset_type),
    string.format("make this one active: candor session activate %s %d --asset %s", session_id, v.version_number,
      v.asset_type),
  }
end

-- add_version(session_id, asset_type, {content, source, source_detail, scores =
--   {slop, vendor_speak, authenticity, specificity, persona_avg}, passes_gates,
--   activate = true}) -> the version row. The number is max + 1 for the session
-- and asset type, assigned in one BEGIN IMMEDIATE transaction with the insert and
-- the active switch (see repo.session_versions.add): unique and gap-free. A
-- text over the LLM input limit is refused (check_size). A pending or failed
-- session with a version reads as completed: it has something to show.
function W:add_version(session_id, asset_type, o)
  local s = self:get(session_id)
  check_asset(s, asset_type)
  o = o or {}
  if type(o.content) ~= "string" then error(usage("a version needs its content (text)"), 0) end
  check_utf8(o.content, "the version's text")
  if not o.content:match("%S") then error(usage("a version's text cannot be empty"), 0) end
  check_size(self.db, o.content, "the version's text")
  local fields = { session_id = s.id, asset_type = asset_type, content = o.content, source = o.source or "edit",
                   source_detail = o.source_detail or null, passes_gates = o.passes_gates == true }
  local sc = o.scores or {}
  for _, c in ipairs(SCORE_COLUMNS) do
    local v = sc[c[1]]
    if v ~= nil and v ~= null then fields[c[2]] = tonumber(v) end
  end
  local db = self.db
  local v = db:transaction(function()
    local row = self.R.session_versions.add(fields, o.activate ~= false)
    local status = self.R.sessions.get(s.id).status
    -- updated_at either way: the session changed
    self.R.sessions.update(s.id, (status == "pending" or status == "failed") and { status = "completed" } or {})
    return row
  end)
  return self.R.session_versions.get(v.id)
end

-- add_version_since(session_id, asset_type, since, o) -> the version, and the
-- version that became active meanwhile (nil when none did). since is the
-- version that was active when the work on o began (nil or false: none was).
-- o is stored as add_version stores it, active unless the active version is no
-- longer since: then it is stored all the same but not activated, so work that
-- ran for a while (an edit, an action, a chat proposal, a generation) never
-- hides a change made while it ran, and the caller can say which. The check and
-- the insert are one transaction, so no version can become active in between.
function W:add_version_since(session_id, asset_type, since, o)
  local fields = {}
  for k, v in pairs(o or {}) do fields[k] = v end
  return self.db:transaction(function()
    local active = self:active(session_id)[asset_type]
    local moved = active and (not since or active.id ~= since.id) and active or nil
    fields.activate = not moved
    return self:add_version(session_id, asset_type, fields), moved
  end)
end

-- version(session_id, ref [, asset_type]) -> the session's version with that id,
-- or that number of asset_type (which may be left out when the session has one).
function W:version(session_id, ref, asset_type)
  local s = self:get(session_id)
  if asset_type then check_asset(s, asset_type) end
  local R = self.R.session_versions
  if type(ref) == "table" then ref = ref.id end
  local n = math.tointeger(tonumber(ref))
  if n and tostring(n) == tostring(ref) then
    if not asset_type then
      if #(s.asset_types or {}) ~= 1 then
        error(usage(string.format("version %d of which asset type? (session '%s' has %s)", n, s.id,
          table.concat(s.asset_types or {}, ", "))), 0)
      end
      asset_type = s.asset_types[1]
    end
    local v = R.by_number(s.id, asset_type, n)
    if not v then error(string.format("session '%s' has no version %d of %s", s.id, n, asset_type), 0) end
    return v
  end
  local v = type(ref) == "string" and R.get(ref)
  if not v or v.session_id ~= s.id then error(string.format("no version '%s' in session '%s'", tostring(ref), s.id), 0) end
  if asset_type and v.asset_type ~= asset_type then
    error(string.format("version '%s' is of %s, not %s", ref, v.asset_type, asset_type), 0)
  end
  return v
end

-- versions(session_id [, asset_type]) -> rows by asset type and number.
function W:versions(session_id, asset_type)
  local s = self:get(session_id)
  if asset_type then check_asset(s, asset_type) end
  return self.R.session_versions.for_session(s.id, asset_type)
end

-- active(session_id) -> {asset_type -> active version}
function W:active(session_id)
  local s = self:own(session_id)   -- a row this user owns is not read again
  local out = {}
  for _, v in ipairs(self.R.session_versions.active(s.id)) do out[v.asset_type] = v end
  return out
end

-- activate(session_id, version_id) -> the version, now its asset type's active one.
function W:activate(session_id, version_id, asset_type)
  local v = self:version(session_id, version_id, asset_type)
  self.R.session_versions.activate(v)
  self.R.sessions.update(v.session_id, {})
  return self.R.session_versions.get(v.id)
end

---------------------------------------------------------------- scoring

-- A run as candor.pipeline.judge needs it, for one session: its pain, the LLM
-- tiers through the session's profile, calls logged with the session id.
function W:judge_run(s)
  -- the pipeline's own run: the pain cut to its budget, the voices' lexicons and
  -- the critics as a generation has them
  return require("candor.pipeline").new_run(self.db, { pipeline = "judge", pain = self:pain(s),
    profile = meta(s).modelProfile, judges = true, retry = self.retry })
end

-- version_voice(session, version) -> the voice a version is in: the one its
-- source_detail names (an action may have moved it to another voice), else the
-- session's.
function W:version_voice(s, v)
  local slug = v and M.detail(v).voice
  local row = slug and self.R.voice_profiles.by_slug(slug)
  return row or self:voice(s)
end

-- The voice a session's asset is in now: its active version's, else the session's.
function W:asset_voice(s, asset_type)
  return self:version_voice(s, asset_type and self:active(s.id)[asset_type])
end

-- quick_score(session, text, asset_type [, voice]) -> the deterministic scores
-- of a text (no LLM call), against voice or else the asset's voice now; the voice.
function W:quick_score(s, text, asset_type, voice)
  local quality = require "candor.quality"
  voice = voice or self:asset_voice(s, asset_type)
  local r = quality.score(text, { voice = voice, db = self.db })
  return r, voice
end

local function spawn_background(self, name, fn, ctx)
  local task = async.spawn(fn, { name = name, ctx = ctx })
  self.background[#self.background + 1] = task
  return task
end

-- edit(session_id, asset_type, text [, {from = version | id | number | false}])
-- -> the new version, and the version that became active while the text was
-- being edited (nil when none did).
-- from is the version the text was edited from (false: the asset had none);
-- left out, it is the active version now. The new version records from as its
-- parent and is made active unless another became active since from (see
-- add_version_since). A text over the LLM input limit is refused before it is
-- scored. It is scored at once by the
-- deterministic scorers (in from's voice); the LLM judges run after in a
-- background task (see judge_later). Returns nil, "no change" when the text is
-- from's, or the active version's. wait_background() waits for the judges.
function W:edit(session_id, asset_type, text, opts)
  opts = opts or {}
  local s = self:get(session_id)
  check_asset(s, asset_type)
  if type(text) ~= "string" then error(usage("edit: the new text expected"), 0) end
  check_utf8(text, "the edited text")
  text = text:gsub("%s+$", "")
  if not text:match("%S") then error(usage("the edited text is empty"), 0) end
  local from
  if opts.from == nil then from = self:active(s.id)[asset_type]
  elseif opts.from then from = self:version(s.id, opts.from, asset_type) end
  local function same(v) return v and v.content:gsub("%s+$", "") == text end
  if same(from) or same(self:active(s.id)[asset_type]) then return nil, "no change" end
  check_size(self.db, text, "the edited text")   -- before scoring all of a text that cannot be kept
  local det, voice = self:quick_score(s, text, asset_type, self:version_voice(s, from))
  local detail = M.from_version(from, { judged = false, voice = voice.slug, scored = "deterministic" })
  local v, meanwhile = self:add_version_since(s.id, asset_type, from, { content = text, source = "edit",
    source_detail = detail, scores = det.scores, passes_gates = det.pass })
  self:judge_later(v)
  return v, meanwhile
end

local judging = {}   -- ids of the versions this process is judging

-- judge_status(version) -> "judged", "judging" (its judges are running),
-- "interrupted" (the process running them stopped before they answered),
-- "failed" (they failed: source_detail.judge_error), or "unjudged"
-- (deterministic scores only); for the two middle ones, also the runner record
-- ({pid, host, started_at}) of the process that judges or judged it.
function M.judge_status(v)
  local sd = M.detail(v)
  if type(sd.judging) == "table" then
    if jobs.runner_alive(sd.judging, judging[v.id] == true) then return "judging", sd.judging end
    return "interrupted", sd.judging
  end
  if sd.judge_error then return "failed" end
  if sd.judged == false then return "unjudged" end
  return "judged"
end

-- judge_later(version) -> task: the LLM judges on a version in the background.
-- The version is marked first (source_detail.judging, this process's runner
-- record), so a reader can tell judges still running from judges whose process
-- stopped (judge_status). When they finish the version gets authenticity and
-- persona scores, the gates over every score, and source_detail.judged = true;
-- a failure is kept in source_detail.judge_error and the deterministic scores
-- stand, except on a version judged before: its judgement stands (judged stays
-- true) and the failure goes in source_detail.last_judge_error.
function W:judge_later(v)
  local s = self:get(v.session_id)
  local judge = require "candor.pipeline.judge"
  local db, R = self.db, self.R
  local marked = M.detail(R.session_versions.get(v.id) or v)
  marked.judging = jobs.this_runner()
  R.session_versions.update(v.id, { source_detail = marked })
  judging[v.id] = true
  return spawn_background(self, "judge " .. v.asset_type .. " v" .. v.version_number, function()
    local ok, res = pcall(function()
      local run = self:judge_run(s)
      return judge.score(run, { asset = v.asset_type, voice = self:version_voice(s, v), content = v.content })
    end)
    judging[v.id] = nil
    local now = R.session_versions.get(v.id)
    if not now then return end   -- deleted meanwhile
    local detail = M.detail(now)
    detail.judging = nil
    local fields = {}
    if ok then
      local sc = res.scores
      detail.judged, detail.judge_error, detail.last_judge_error = true, nil, nil
      detail.scored = "deterministic + judge"
      detail.narrative_arc = sc.narrative_arc
      detail.source = res.source
      local failing = {}
      for _, f in ipairs(res.failing) do failing[#failing + 1] = f.dimension end
      detail.failing = json.array(failing)
      fields.authenticity_score = sc.authenticity
      fields.persona_avg_score = sc.persona_avg or null
      fields.passes_gates = res.pass
    else
      local message = type(res) == "table" and (res.message or json.encode(res)) or tostring(res)
      if detail.judged == true then detail.last_judge_error = message
      else detail.judged, detail.judge_error = false, message end
    end
    fields.source_detail = detail
    R.session_versions.update(v.id, fields)
    require("candor.llm.log").flush(db)
  end, { session_id = s.id, purpose = "workspace:judge" })
end

-- judge(session_id, {asset_type =, version = id | number}) -> the versions whose
-- LLM judges were started (judge_later; wait_background() waits for them).
-- Without a version: the active version of asset_type, or when no asset_type
-- is given, the active version of each asset type that is not judged (unjudged,
-- failed or interrupted). A version whose judges are running now is refused,
-- and so is any when the judge tier cannot be reached (no key): before a
-- version is marked, so none reads as failed for it.
function W:judge(session_id, o)
  o = o or {}
  local s = self:get(session_id)
  local targets = {}
  if o.version then targets[1] = self:version(s.id, o.version, o.asset_type)
  elseif o.asset_type then
    check_asset(s, o.asset_type)
    targets[1] = self:active(s.id)[o.asset_type]
      or error(usage(string.format("session '%s' has no %s version yet", s.id, o.asset_type)), 0)
  else
    local active = self:active(s.id)
    for _, a in ipairs(s.asset_types or {}) do
      local status = active[a] and M.judge_status(active[a])
      if status and status ~= "judged" and status ~= "judging" then targets[#targets + 1] = active[a] end
    end
  end
  for _, v in ipairs(targets) do
    local status, runner = M.judge_status(v)
    if status == "judging" then
      error(string.format("%s v%d is being judged now (pid %s on %s); wait for it", v.asset_type, v.version_number,
        tostring(runner.pid), tostring(runner.host)), 0)
    end
  end
  if #targets > 0 then
    require("candor.llm").check({ require("candor.pipeline.judge").tier }, { db = self.db, profile = meta(s).modelProfile })
  end
  for _, v in ipairs(targets) do self:judge_later(v) end
  return targets
end

-- wait_background() -> the tasks' errors (a list, empty when all went well).
function W:wait_background()
  local errs = {}
  while #self.background > 0 do
    local task = table.remove(self.background, 1)
    async.join(task)
    if task.status ~= "done" then errs[#errs + 1] = tostring(task.error) end
  end
  return errs
end

---------------------------------------------------------------- generation

M.name_pain_tokens = 500   -- of the pain's text in the naming prompt

-- The session's short name from one flash-tier call, or nil, error.
function W:name_from_results(s, stored, profile)
  local titles = {}
  for _, st in ipairs(stored) do titles[#titles + 1] = "- " .. st.asset_type .. ": " .. (st.title or "") end
  -- a name needs the pain's opening, not all of it
  local pain = require("candor.pipeline.research").prompt_pain(self:pain(s), M.name_pain_tokens)
  local ok, r = pcall(function()
    local p = require("candor.prompt").render("workspace/session_name", { pain_title = pain.title,
      pain_content = pain.content, assets = table.concat(titles, "\n"), focus = s.focus_instructions or "" })
    local res, err = require("candor.llm").call(M.name_tier, { system = p.system, prompt = p.user or p.text,
      purpose = "workspace:name" }, { db = self.db, profile = profile, retry = self.retry })
    if not res then error(err.message, 0) end
    return res.text
  end)
  if not ok then return nil, type(r) == "table" and (r.message or json.encode(r)) or tostring(r) end
  local name = trim((r or ""):match("^%s*([^\n]*)") or "")
  name = name:gsub("^#+%s*", ""):gsub("^[%*_\"'`“”]+", ""):gsub("[%*_\"'`“”]+$", ""):gsub("^[Nn]ame:%s*", "")
  name = trim(name:gsub("%.$", ""))
  if name == "" or not utf8.len(name) then return nil, "the model's answer held no name" end
  return shorten(name, 80)
end

-- The "is generating already" usage error for s, naming its job or, before
-- the job exists, the process that claimed the session.
local function generating_already(R, s)
  local job = s.job_id and R.generation_jobs.get(s.job_id)
  local runner = type(meta(s).generation_claim) == "table" and meta(s).generation_claim.runner
  local by = job and job.status == "running" and ("job " .. job.id)
    or type(runner) == "table" and string.format("pid %s on %s, starting", tostring(runner.pid), tostring(runner.host))
    or "no job yet"
  return usage(string.format("session '%s' is generating already (%s)", s.id, by))
end

-- claim(W, s) -> the active versions ({asset_type -> version}) when session s
-- became generating by this process (metadata.generation_claim holds its runner
-- record). The check that nobody generates it and the claim are one BEGIN
-- IMMEDIATE transaction: of two generates started at once, in one process or
-- two, one claims the session and the other gets "is generating already"
-- before it spends anything.
local function claim(self, s)
  local R, claimed = self.R, false
  local ok, active = pcall(self.db.transaction, self.db, function()
    local now = R.sessions.get(s.id)
    if generating_now(R, now) then error(generating_already(R, now), 0) end
    generating[s.id], claimed = true, true   -- before the write: this process's claim is alive from then on
    local m = meta(now)
    m.generation_claim = { runner = jobs.this_runner() }
    R.sessions.update(s.id, { status = "generating", metadata = m })
    return self:active(s.id)
  end)
  if not ok then
    if claimed then generating[s.id] = nil end
    error(active, 0)
  end
  return active
end

-- generate(id, {on_progress = fn(info), on_log = fn(msg), retry = policy, cache,
-- max_iterations, profile, timeout_s}) -> the job row, and the versions it
-- stored but did not make active ({version =, active =}, see below). Claims the
-- session (status generating; one generate at a time, see claim), runs its
-- pipeline as its job (job_id set as soon as the job exists), stores each asset
-- type's selected variant as its next version (source 'generation'), then
-- names the session with one flash call unless the user named it. A
-- generation runs for minutes: an asset type whose active version changed
-- meanwhile (an edit, an action) keeps it, and the generated one is stored
-- beside it, not active (add_version_since; reported through on_log). The
-- session ends completed; when the run fails it ends failed, or completed when
-- it has versions (they are as they were). A failed naming call keeps the
-- default name and is reported through on_log (and metadata.naming_error); it
-- never fails the session.
function W:generate(id, o)
  o = o or {}
  local s = self:get(id)
  local db, R = self.db, self.R
  if generating_now(R, s) then error(generating_already(R, s), 0) end   -- before anything is prepared
  local pipeline = require "candor.pipeline"
  local pain = self:pain(s)
  local pain_ref = pain.id and { id = pain.id } or { title = pain.title, content = pain.content,
    author = pain.author, source_url = pain.source_url }
  local slugs = {}
  for i, v in ipairs(self:voices(s)) do slugs[i] = v.slug end
  local run = pipeline.prepare(db, { pipeline = s.pipeline, pain = pain_ref, assets = s.asset_types, voices = slugs,
    focus = s.focus_instructions, profile = o.profile or meta(s).modelProfile, max_iterations = o.max_iterations,
    cache = o.cache, force = o.force })
  run.documents = self:documents(s)
  if not pain.id and run.pain.id ~= s.pain_point_id then R.sessions.update(s.id, { pain_point_id = run.pain.id }) end
  self.retry = o.retry
  local log = o.on_log or function() end
  local started_on = claim(self, s)
  local job_seen
  local function on_progress(info)
    if not job_seen and info.job_id then
      job_seen = info.job_id
      R.sessions.update(s.id, { job_id = info.job_id })
    end
    if o.on_progress then o.on_progress(info) end
  end
  local kept = {}
  local ok, job, stored = pcall(function()
    local job, stored = async.run(function()
      return pipeline.start(run, { on_progress = on_progress, on_log = o.on_log, retry = o.retry, timeout_s = o.timeout_s })
    end, { name = "session " .. s.id, ctx = { session_id = s.id } })
    -- each asset type's selected variant becomes its next version, all in one transaction
    db:transaction(function()
      for _, st in ipairs(stored) do
        local asset = R.messaging_assets.get(st.id)
        local am = type(asset.metadata) == "table" and asset.metadata or {}
        local chosen = st.variants[1]
        for _, v in ipairs(st.variants) do if v.voice.slug == am.voice then chosen = v end end
        local sc = chosen.scores
        local v, meanwhile = self:add_version_since(s.id, st.asset_type, started_on[st.asset_type], {
          content = asset.content, source = "generation",
          source_detail = { job_id = job.id, asset_id = asset.id, voice = chosen.voice.slug, pipeline = run.pipeline,
            judged = sc.judged, narrative_arc = sc.scores.narrative_arc, source = sc.source },
          scores = sc.scores, passes_gates = sc.pass })
        if meanwhile then kept[#kept + 1] = { version = v, active = meanwhile } end
      end
      local m = meta(R.sessions.get(s.id))
      m.generation_claim = nil
      R.sessions.update(s.id, { status = "completed", job_id = job.id, metadata = m })
    end)
    return job, stored
  end)
  generating[s.id] = nil
  if not ok then
    local e = job
    settle(db, R, s.id, { job_id = type(e) == "table" and e.job_id or job_seen })
    error(e, 0)
  end
  for _, k in ipairs(kept) do
    log(string.format("%s v%d stored but not made active:", k.version.asset_type, k.version.version_number))
    for _, line in ipairs(M.kept_note(s.id, k.version, k.active, "while it was generated")) do log(line) end
  end
  local m = meta(self.R.sessions.get(s.id))
  if not m.named_by_user then
    local name, err = async.run(function() return table.pack(self:name_from_results(s, stored, run.profile)) end,
      { name = "name session", ctx = { session_id = s.id, job_id = job.id } })
    name, err = name[1], name[2]
    require("candor.llm.log").flush(db)
    if name then
      m.naming_error = nil
      R.sessions.update(s.id, { name = name, metadata = m })
    else
      m.naming_error = err
      R.sessions.update(s.id, { metadata = m })
      log("could not name the session (kept '" .. s.name .. "'): " .. tostring(err))
    end
  end
  return R.generation_jobs.get(job.id), kept
end

---------------------------------------------------------------- diff and export

-- diff(session_id, a, b [, asset_type]) -> text: a unified diff of the two
-- versions' texts (3 lines of context) and their scores with the deltas. a and b
-- are version rows, ids, or numbers (of asset_type).
function W:diff(session_id, a, b, asset_type)
  local va = self:version(session_id, a, asset_type)
  local vb = self:version(session_id, b, asset_type or (math.tointeger(tonumber(b)) and va.asset_type) or nil)
  return require("candor.workspace.diff").versions(va, vb)
end

-- export(session_id, "md" | "json") -> text: the active versions with their
-- scores and traceability (pain point, documents, job).
function W:export(session_id, format)
  local s = self:get(session_id)
  format = format or "md"
  if format ~= "md" and format ~= "json" then error(usage("export: the format is md or json"), 0) end
  local data = self:summary(s)
  return require("candor.workspace.export")[format](data)
end

-- summary(session) -> a plain table of everything show and export print.
function W:summary(s)
  s = self:own(s)
  local R = self.R
  local pain_ok, pain = pcall(self.pain, self, s)
  local voice = self:voice(s)
  local docs = {}
  for _, d in ipairs(self:documents(s)) do
    docs[#docs + 1] = { id = d.id, name = d.name, document_type = d.document_type, characters = utf8.len(d.content) or #d.content }
  end
  local job = s.job_id and R.generation_jobs.get(s.job_id)
  local active = self:active(s.id)
  local assets = {}
  for _, a in ipairs(s.asset_types or {}) do
    local v = active[a]
    if v then
      assets[#assets + 1] = { asset_type = a, version_id = v.id, version_number = v.version_number, source = v.source,
        content = v.content, scores = M.scores_of(v), passes_gates = v.passes_gates, created_at = v.created_at,
        source_detail = type(v.source_detail) == "table" and M.detail(v) or nil,
        versions = R.session_versions.count({ session_id = s.id, asset_type = a }) }
    else
      assets[#assets + 1] = { asset_type = a, versions = 0 }
    end
  end
  local m = meta(s)
  local voices = {}
  for i, v in ipairs(self:voices(s)) do voices[i] = v.slug end
  return {
    session = { id = s.id, name = s.name, status = s.status, pipeline = s.pipeline, voice = voice and voice.slug,
      voices = voices, asset_types = s.asset_types, focus = s.focus_instructions, archived = s.is_archived,
      created_at = s.created_at, updated_at = s.updated_at, naming_error = m.naming_error, user = self.user.username,
      profile = m.modelProfile },
    pain = pain_ok and { id = pain.id, title = pain.title, content = pain.content, source_type = pain.source_type,
      source_url = pain.source_url ~= "" and pain.source_url or nil, author = pain.author ~= "" and pain.author or nil } or nil,
    documents = docs,
    job = job and { id = job.id, status = job.status, pipeline = type(job.product_context) == "table" and job.product_context.pipeline or nil,
      completed_at = job.completed_at, error_message = job.error_message } or nil,
    assets = assets,
  }
end

return M
