-- Display and option helpers the commands share, so each format and check is written once.
local args = require "candor.cli.args"

local M = {}

-- A usage error (exit 2) with a formatted message.
function M.usage(fmt, ...) return args.usage_error(string.format(fmt, ...)) end
local usage = M.usage

---------------------------------------------------------------- values

-- A score to one decimal; "-" for one not scored (nil).
function M.score(x) return type(x) == "number" and string.format("%.1f", x) or "-" end

-- A stored ISO time as "YYYY-MM-DD HH:MM:SS" (still UTC); "-" when there is none.
function M.time(t)
  if type(t) ~= "string" then return "-" end
  return (t:sub(1, 19):gsub("T", " "))
end

-- The same to the minute, "YYYY-MM-DD HH:MM", where seconds would only crowd a column.
function M.minute(t)
  if type(t) ~= "string" then return "-" end
  return (t:sub(1, 16):gsub("T", " "))
end

-- Milliseconds from t0 to t1 (seconds), rounded; nil when either is unknown.
function M.span_ms(t0, t1)
  if not (t0 and t1) then return nil end
  return math.max(0, math.floor((t1 - t0) * 1000 + 0.5))
end

-- 850ms, 4.2s, 3m07s, 2h05m; "-" when unknown.
function M.duration(ms)
  if type(ms) ~= "number" then return "-" end
  if ms < 1000 then return string.format("%dms", ms) end
  local s = ms / 1000
  if s < 60 then return string.format("%.1fs", s) end
  s = math.floor(s + 0.5)
  if s < 3600 then return string.format("%dm%02ds", s // 60, s % 60) end
  return string.format("%dh%02dm", s // 3600, s % 3600 // 60)
end

---------------------------------------------------------------- text and columns

-- s safe to print on one terminal line, for the names and titles a user or a
-- model gave: white space, newlines too, becomes one space, and a control
-- character, which the terminal would obey (ESC starts colours), shows as one
-- visible sign: C0 as its Control Pictures sign (ESC as "␛"), DEL as "␡", and
-- C1 (U+0080-U+009F, with no signs of its own) as "�".
-- A control character's visible sign: its Control Pictures character (ESC as ␛, DEL as ␡).
local function sign(c)
  local b = c:byte()
  return utf8.char(b == 127 and 0x2421 or 0x2400 + b)
end

function M.printable(s)
  if s == nil then s = "" end
  s = tostring(s):gsub("%s+", " ")
  s = s:gsub("[\0-\31\127]", sign)
  return (s:gsub("\194[\128-\159]", "\u{FFFD}"))
end

-- printable_text(s) -> s with its line breaks and tabs kept and every other
-- control character shown as printable shows it: a model's or a user's text
-- printed on a terminal cannot move the cursor, recolour the screen or set its title.
function M.printable_text(s)
  s = tostring(s or ""):gsub("\r\n", "\n")
  s = s:gsub("[\0-\8\11-\31\127]", sign)
  return (s:gsub("\194[\128-\159]", "\u{FFFD}"))
end

-- for_terminal(s) -> printable_text(s) when standard output is a terminal, else s
-- as it is (a file or a pipe gets the exact text).
function M.for_terminal(s)
  if require("core.host").isatty(1) then return M.printable_text(s) end
  return s
end

-- One line of at most max characters (UTF-8 aware, so "×" is not cut in half;
-- text that is not UTF-8 is cut by bytes), made printable first.
function M.one_line(s, max)
  s = M.printable(s)
  local n = utf8.len(s)
  if max and n and n > max then s = s:sub(1, utf8.offset(s, max) - 1) .. "…"
  elseif max and not n and #s > max then s = s:sub(1, max - 1) .. "…" end
  return s
end

-- s cut and padded to width characters, for columns.
function M.fit(s, width)
  s = M.one_line(s, width)
  return s .. string.rep(" ", width - (utf8.len(s) or #s))
end

-- fields(app, width) -> field(name, value): the "  name  value" lines of a 'show';
-- a field with no value is left out.
function M.fields(app, width)
  local line = "  %-" .. width .. "s %s\n"
  return function(name, value)
    if value ~= nil and value ~= "" then app.out(string.format(line, name, value)) end
  end
end

-- v as JSON, on one line of standard output.
function M.json(app, v) app.out(require("candor.json").encode(v), "\n") end

-- rows as one JSON array (each row through fn, when given), on one line.
function M.json_rows(app, rows, fn)
  local out = require("candor.json").array {}
  for i, r in ipairs(rows) do
    if fn then out[i] = fn(r) else out[i] = r end
  end
  M.json(app, out)
end

-- row, or the error for an ID (or slug) that names nothing: "no job 'X'",
-- with "(see 'LIST')" when see names the command that lists them.
function M.found(row, what, id, see)
  if row then return row end
  error(string.format("no %s '%s'%s", what, id, see and (" (see '" .. see .. "')") or ""), 0)
end

-- written(where, ok, reason, errno) -> ok: the results of a write, flush or
-- close of where (a path, or "standard output"); when it failed, raises
-- "cannot write WHERE: REASON" (kind "write"). A reader of a pipe that has gone
-- (EPIPE, as when piped into head) makes it quiet: Unix tools end without a word then.
function M.written(where, ok, reason, errno)
  if ok then return ok end
  reason = tostring(reason)
  if reason:sub(1, #where + 2) == where .. ": " then reason = reason:sub(#where + 3) end   -- io.open names the path
  local broken_pipe = errno ~= nil and select(2, require("luv").translate_sys_error(errno)) == "EPIPE"
  error({ kind = "write", quiet = broken_pipe, message = string.format("cannot write %s: %s", where, reason) }, 0)
end

-- text to the file path (an --output option), else to standard output -> true
-- when it went to the file. The close is checked too: a full disk may only show there.
function M.output(app, path, text)
  if not path then
    app.out(text)
    return false
  end
  if path == "" then error(usage("--output needs a path"), 0) end
  local f = M.written(path, io.open(path, "wb"))
  local ok, err, errno = f:write(text)
  if ok then ok, err, errno = f:close() else f:close() end
  M.written(path, ok, err, errno)
  return true
end

---------------------------------------------------------------- options

-- opts[key] as a whole number >= min (default 1), or default when not given.
-- who ("jobs list") begins the usage error.
function M.whole(who, opts, key, default, min)
  if opts[key] == nil then return default end
  min = min or 1
  local n = math.tointeger(tonumber(opts[key]))
  if not n or n < min then
    error(usage("%s--%s must be a whole number >= %d", who and (who .. ": ") or "", key, min), 0)
  end
  return n
end

-- "a, b,,c" -> {"a", "b", "c"}: a comma-separated option; nil when not given.
function M.list(s)
  if not s then return nil end
  local out = {}
  for item in s:gmatch("[^,]+") do
    item = item:match("^%s*(.-)%s*$")
    if item ~= "" then out[#out + 1] = item end
  end
  return out
end

-- Exactly one of the options names must be given, else a usage error.
function M.one_of(who, opts, names)
  local given = 0
  for _, k in ipairs(names) do if opts[k] then given = given + 1 end end
  if given == 1 then return end
  local flags = {}
  for i, k in ipairs(names) do flags[i] = "--" .. k end
  error(usage("%s: give one of %s or %s", who, table.concat(flags, ", ", 1, #flags - 1), flags[#flags]), 0)
end

-- An unknown subcommand, or an option given to a subcommand that does not take
-- it, is a usage error. allowed: subcommand -> {option = true}, or false for one
-- that checks its own options; names: the subcommands as the error lists them.
function M.check_subcommand(cmd, sub, opts, allowed, names)
  local takes = allowed[sub]
  if takes == nil then error(usage("%s: unknown subcommand '%s' (%s)", cmd.name, sub, names), 0) end
  if takes == false then return end
  for _, o in ipairs(cmd.options) do
    if opts[o[1]] ~= nil and not takes[o[1]] then
      error(usage("%s %s: option --%s is not for this subcommand", cmd.name, sub, o[1]), 0)
    end
  end
end

---------------------------------------------------------------- progress

-- progress(every) -> show(line, step), clear(), log(msg): progress on standard
-- error. On a terminal one line is redrawn in place; otherwise a plain line is
-- written when step changes (or every line, with every), so a log gets no
-- redraw codes. log clears the line first so the message stands on its own.
function M.progress(every)
  local tty = require("core.host").isatty(2)
  local last
  local function show(line, step)
    if tty then
      io.stderr:write("\r\27[K", line)
      io.stderr:flush()
    elseif every or step ~= last then
      last = step
      io.stderr:write(line, "\n")
    end
  end
  local function clear() if tty then io.stderr:write("\r\27[K") end end
  return show, clear, function(msg) clear() io.stderr:write("candor: ", msg, "\n") end
end

-- A pipeline run's progress (on_progress(info) of candor.pipeline), as progress() shows it.
function M.pipeline_progress()
  local show, clear, log = M.progress()
  return function(info)
    local tokens = info.tokens.input + info.tokens.output
    show(string.format("[%3d%%] %s · assets %d/%d · %d calls, %d tokens", info.pct, info.step or "",
      info.assets_done, info.assets_total, info.tokens.calls, tokens), info.step)
  end, clear, log
end

return M
