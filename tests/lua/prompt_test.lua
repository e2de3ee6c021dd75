-- candor.prompt: one-pass rendering with named variables, sections, the
-- system/user split, errors that name the prompt and variable, user overrides.
local T = require "candor.testing"
local prompt = require "candor.prompt"

T.test("variables are inserted once: a value holding template syntax is not expanded again", function()
  T.eq(prompt.render_text("Hi {{name}}, {{ name }}!", { name = "{{name}}" }), "Hi {{name}}, {{name}}!")
  T.eq(prompt.render_text("n={{n}} ok={{ok}}", { n = 3, ok = true }), "n=3 ok=true")
end)

T.test("sections: {{#x}} when x is not empty, {{^x}} when it is; nested names render inside", function()
  local t = "A{{#focus}} focus: {{focus}} ({{who}}){{/focus}}{{^focus}} no focus{{/focus}}."
  T.eq(prompt.render_text(t, { focus = "latency", who = "SRE" }), "A focus: latency (SRE).")
  T.eq(prompt.render_text(t, { focus = "  \n", who = "SRE" }), "A no focus.")
end)

T.test("a missing variable, a bad tag or an unclosed section names the prompt, the line and the problem", function()
  T.raises(function() prompt.render_text("one\ntwo {{gone}}", {}, "'x'") end, "prompt 'x', line 2: missing variable 'gone'")
  T.raises(function() prompt.render_text("{{#a}} no end", { a = "1" }, "'x'") end, "section 'a' is never closed")
  T.raises(function() prompt.render_text("{{a b}}", {}, "'x'") end, "'{{a b}}' is not a variable name")
  T.raises(function() prompt.render_text("{{a", {}, "'x'") end, "never closed with '}}'")
  T.raises(function() prompt.render_text("{{/a}}", {}, "'x'") end, "never opened")
  T.raises(function() prompt.render_text("{{t}}", { t = {} }, "'x'") end, "variable 't' is a table")
end)

T.test("a two-part file gives system and user; the note before them is never sent", function()
  local dir = T.tmpdir()
  os.execute("mkdir -p " .. dir .. "/prompts/pipeline")
  T.write_file(dir .. "/prompts/pipeline/t.md", "Note for editors: uses {{nothing}}.\n=== system ===\nYou are {{role}}.\n=== user ===\nWrite about {{topic}}.\n")
  T.write_file(dir .. "/prompts/pipeline/plain.md", "Just {{topic}}.")
  local real = os.getenv
  local env = { CANDOR_PATH = dir }
  os.getenv = function(k) if env[k] then return env[k] end return real(k) end
  local ok, err = pcall(function()
    local r = prompt.render("pipeline/t", { role = "an editor", topic = "{{role}}" })
    T.eq({ r.system, r.user, r.text }, { "You are an editor.", "Write about {{role}}.", "Write about {{role}}." })
    T.eq(prompt.render("pipeline/plain", { topic = "x" }).text, "Just x.")
    local _, user = prompt.find("pipeline/t")
    T.eq(user, true, "the CANDOR_PATH copy wins")
    T.raises(function() prompt.render("pipeline/none", {}) end, "no prompt 'pipeline/none'")
    T.write_file(dir .. "/prompts/pipeline/t.md", "=== user ===\nA\n=== system ===\nB\n")
    T.raises(function() prompt.render("pipeline/t", {}) end, "must come before")
  end)
  os.getenv = real
  if not ok then error(err, 0) end
end)
