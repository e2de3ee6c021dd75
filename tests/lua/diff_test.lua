-- session diff: the unified diff marks a last line without a newline as GNU
-- diff does, and the whole output applies with patch(1) to give the new text
-- byte for byte.
local T = require "candor.testing"
local F = dofile(T.root .. "/tests/lua/pipeline_fixture.lua")
local diff = require "candor.workspace.diff"
local ws = require "candor.workspace"

local q = T.shell_quote

-- patched(old, diff_text) -> what patch makes of old with diff_text
local function patched(old, diff_text)
  local dir = T.tmpdir()
  T.write_file(dir .. "/old", old)
  T.write_file(dir .. "/diff", diff_text)
  local ok = os.execute(string.format("patch -s -o %s %s %s >%s 2>&1", q(dir .. "/new"), q(dir .. "/old"),
    q(dir .. "/diff"), q(dir .. "/log")))
  T.ok(ok, "patch failed: " .. T.read_file(dir .. "/log"))
  return T.read_file(dir .. "/new")
end

local function version(n, content) return { version_number = n, asset_type = "battlecard", source = "edit", content = content } end

local long = "# Tideline\n\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7"

-- { what, old text, new text }
local CASES = {
  { "the last line changes, neither text ends in a newline", "a\nb\nc", "a\nb\nd" },
  { "only the newline at the end goes", "a\nb\nc\n", "a\nb\nc" },
  { "only a newline at the end comes", "a\nb\nc", "a\nb\nc\n" },
  { "the first line changes, the unchanged last line has no newline", long, long:gsub("^# Tideline", "# Tideline, again") },
  { "a change far from the end leaves the marker out", long .. "\nline 8\nline 9\nline 10", "# Other\n" .. long:sub(12) .. "\nline 8\nline 9\nline 10" },
  { "from one line to many", "one", "one\ntwo\nthree" },
  { "from nothing", "", "new text" },
  { "to nothing", "old text", "" },
}

T.test("diff: a last line without a newline is marked as GNU diff marks it", function()
  T.eq((diff.unified("a\nb\nc", "a\nb\nd", "v1", "v2")), table.concat({
    "--- v1", "+++ v2", "@@ -1,3 +1,3 @@", " a", " b",
    "-c", "\\ No newline at end of file",
    "+d", "\\ No newline at end of file",
  }, "\n") .. "\n")
  T.eq((diff.unified("a\nb", "a\nb\n", "v1", "v2")), table.concat({
    "--- v1", "+++ v2", "@@ -1,2 +1,2 @@", " a", "-b", "\\ No newline at end of file", "+b",
  }, "\n") .. "\n", "a newline added at the end is a change")
  T.eq((diff.unified("x\na\nb", "y\na\nb", "v1", "v2")), table.concat({
    "--- v1", "+++ v2", "@@ -1,3 +1,3 @@", "-x", "+y", " a", " b", "\\ No newline at end of file",
  }, "\n") .. "\n", "the marker follows an unchanged last line too")
  local out, changed = diff.unified("a\nb", "a\nb", "v1", "v2")
  T.eq({ out, changed }, { "--- v1\n+++ v2\n", false })
end)

T.test("diff: the output of versions() applies with patch to give the new text byte for byte", function()
  for _, c in ipairs(CASES) do
    local what, old, new = c[1], c[2], c[3]
    local text = diff.versions(version(1, old), version(2, new))
    T.eq(patched(old, text), new, what)
  end
end)

T.test("diff: W:diff of stored versions, which end without a newline, applies with patch", function()
  local db = F.db()
  local W = ws.for_user(db, "local")
  local s = W:create { pain = F.pain, asset_types = { "battlecard" }, pipeline = "standard" }
  W:add_version(s.id, "battlecard", { content = long, source = "generation" })
  local v2
  F.with_fake(F.script(db), function()
    v2 = W:edit(s.id, "battlecard", long .. "\n\nWe measured 3 re-runs a day.\n")
    W:wait_background()
  end)
  T.eq(v2.content:sub(-1), ".", "the edit is stored without its trailing newline")
  local text = W:diff(s.id, 1, 2)
  T.contains(text, "-line 7\n\\ No newline at end of file\n")
  T.eq(patched(long, text), v2.content)
  db:close()
end)
