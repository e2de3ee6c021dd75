-- Names and titles a user or a model gave reach the terminal as text: their
-- control characters (an ESC that would colour the terminal) are shown, not
-- obeyed, by show.printable and by list and show commands.
local T = require "candor.testing"
local show = require "candor.cli.show"
local dbm = require "candor.db"
local host = require "core.host"

local RED = "\27[31mRED"

T.test("printable shows control characters as visible signs, white space as one space", function()
  T.eq(show.printable(RED), "␛[31mRED")
  T.eq(show.printable("a\tb\r\n\nc"), "a b c", "white space, newlines and CR too")
  T.eq(show.printable("bell\7 nul\0 del\127"), "bell␇ nul␀ del␡")
  T.eq(show.printable("csi\u{9B}31m nel\u{85}"), "csi�31m nel�", "C1 controls, as UTF-8")
  T.eq(show.printable("naïve × 3 — ok"), "naïve × 3 — ok", "other text is left as it is")
  T.eq({ show.printable(nil), show.printable(false), show.printable(42) }, { "", "false", "42" })
end)

T.test("one_line and fit are printable, and cut and pad by the signs shown", function()
  T.eq(show.one_line(RED .. " and more", 8), "␛[31mRE…")
  T.eq(show.fit(RED, 10), "␛[31mRED  ")
end)

-- Every name and title the commands print, with an escape sequence in it.
local function setup()
  local path = T.tmpdir() .. "/c.db"
  local db = dbm.open(path)
  require("candor.seed").run(db)
  local R = require("candor.repo").bind(db)
  local now = host.now()
  local priority = R.messaging_priorities.insert { name = "Flaky " .. RED, slug = "flaky", description = "d",
    keywords = { "flaky" }, product_context = "" }
  local pain = R.discovered_pain_points.insert { priority_id = priority.id, source_type = "reddit",
    source_url = "https://reddit.com/" .. RED, source_id = "abc", title = "Pain " .. RED, content = "c",
    author = "u " .. RED, author_level = "senior", metadata = {}, pain_score = 0.8, pain_analysis = {},
    practitioner_quotes = {}, content_hash = "h1", discovered_at = now }
  local doc = R.product_documents.insert { name = "Doc " .. RED, description = "d", content = "c",
    document_type = "overview", tags = {}, uploaded_at = now }
  local jobs = require "candor.jobs"
  local job = jobs.create(db, { pain_point_id = pain.id, priority_id = priority.id,
    product_context = { pipeline = "standard", productDocs = { { name = doc.name } } } })
  local asset = R.messaging_assets.insert { priority_id = priority.id, job_id = job.id, pain_point_id = pain.id,
    asset_type = "battlecard", title = "Title " .. RED, content = "body", metadata = {}, evidence_level = "strong" }
  R.asset_traceability.insert { asset_id = asset.id, pain_point_id = pain.id, product_doc_id = doc.id,
    practitioner_quotes = { { text = "quote " .. RED, author = "who " .. RED } } }
  local user = require("candor.workspace").local_user(db)
  local session = R.sessions.insert { user_id = user.id, name = "Session " .. RED, asset_types = { "battlecard" } }
  db:close()
  return path, { job = job.id, asset = asset.id, pain = pain.id, session = session.id }
end

T.test("list and show commands print names and titles with their escapes made visible", function()
  local path, id = setup()
  local function run(argv) return T.candor(argv, { env = { CANDOR_DB = path, HOME = T.tmpdir() }, unset = { "CANDOR_PATH" } }) end
  local raw = {}   -- the commands that printed an ESC as it is
  for _, argv in ipairs {
    { "assets", "list" }, { "assets", "show", id.asset }, { "jobs", "show", id.job },
    { "pain", "list" }, { "pain", "show", id.pain }, { "priority", "list" }, { "session", "list" },
    { "session", "show", id.session },
  } do
    local what = argv[1] .. " " .. argv[2]
    local r = run(argv)
    T.eq(r.code, 0, what .. ": " .. r.err)
    T.contains(r.out, "␛[31mRED", what)
    if r.out:find("\27", 1, true) then raw[#raw + 1] = what end
  end
  T.eq(raw, {})
end)

T.test("printable_text keeps lines and tabs and shows every other control character", function()
  T.eq(show.printable_text("one\r\ntwo\tthree\n" .. RED .. "\rback\7"), "one\ntwo\tthree\n␛[31mRED␍back␇")
  T.eq(show.printable_text("csi\u{9B}31m naïve"), "csi�31m naïve")
  -- off a terminal the exact text is kept (a file or a pipe wants it byte for byte)
  T.eq(show.for_terminal(RED), RED)
end)

T.test("on a terminal, text a model or user wrote prints with its escapes shown; through a pipe, exactly", function()
  local path, id = setup()
  local db = dbm.open(path)
  db:run("UPDATE messaging_assets SET content = ? WHERE id = ?", "line one\n" .. RED .. " line two\n", id.asset)
  db:close()
  local dir = T.tmpdir()
  local typescript = dir .. "/tty.out"
  local inner = T.command_line({ "assets", "show", id.asset },
    { env = { CANDOR_DB = path, HOME = dir }, unset = { "CANDOR_PATH" } })
  os.execute("SHELL=/bin/sh script -qec " .. T.shell_quote(inner) .. " " .. T.shell_quote(typescript) .. " </dev/null >/dev/null 2>&1")
  local seen = T.read_file(typescript) or ""
  T.contains(seen, "␛[31mRED line two")
  T.ok(not seen:find("\27[31m", 1, true), "no raw escape reached the terminal")
  local piped = T.candor({ "assets", "show", id.asset }, { env = { CANDOR_DB = path, HOME = dir }, unset = { "CANDOR_PATH" } })
  T.contains(piped.out, "\n" .. RED .. " line two\n")
end)
