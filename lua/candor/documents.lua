-- Product documents from files: text and Markdown (checked as UTF-8), and PDF
-- through poppler's pdftotext (its text layer, layout kept). The one way Candor
-- reads a document, for the workspace and the pipelines alike.
local uv = require "luv"
local async = require "candor.async"
local paths = require "candor.paths"

local M = {}

M.pdftotext = "pdftotext"   -- the program's name, looked up on PATH at each read
M.timeout_ms = 60000        -- a PDF that takes longer than this is given up on
M.max_pdf_text = 64 * 1048576

local usage = require("candor.workflow").usage   -- the error a command turns into exit code 2

local check_utf8 = require("candor.text").check_utf8

-- The program's full path from PATH, or nil.
local function which(name)
  if name:find("/", 1, true) then return paths.is_file(name) and name or nil end
  for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    local p = dir .. "/" .. name
    if paths.is_file(p) and uv.fs_access(p, "X") then return p end
  end
end

-- run(program, args) -> exit code, stdout, stderr. No shell: the arguments go to
-- the program as they are. Waits as a task (or runs the loop outside one).
local function run(program, args)
  local function go()
    local out, err = {}, {}
    local stdout, stderr = uv.new_pipe(false), uv.new_pipe(false)
    local open, code, spawn_err = 3, nil, nil
    local size = 0
    return async.suspend(function(wake)
      local handle, timer
      local function done()
        open = open - 1
        if open == 0 then
          if timer and not timer:is_closing() then timer:close() end
          wake(code, table.concat(out), table.concat(err), spawn_err)
        end
      end
      local pid
      handle, pid = uv.spawn(program, { args = args, stdio = { nil, stdout, stderr } }, function(c, signal)
        if code == nil then code = signal ~= 0 and -signal or c end
        handle:close()
        done()
      end)
      if not handle then
        spawn_err = pid
        stdout:close() stderr:close()
        open = 1
        done()
        return
      end
      local function reader(pipe, sink)
        pipe:read_start(function(e, chunk)
          if chunk then
            size = size + #chunk
            if size > M.max_pdf_text then
              code = code or "too big"
              if not handle:is_closing() then handle:kill("sigkill") end
            else sink[#sink + 1] = chunk end
          else
            pipe:read_stop()
            pipe:close()
            done()
          end
        end)
      end
      reader(stdout, out)
      reader(stderr, err)
      timer = uv.new_timer()
      timer:start(M.timeout_ms, 0, function()
        timer:close()
        code = code or "timeout"
        if not handle:is_closing() then handle:kill("sigkill") end
      end)
      return function()
        if not handle:is_closing() then handle:kill("sigkill") end
      end
    end)
  end
  if async.current() then return go() end
  return async.run(go, { name = "pdftotext" })
end

-- pdf_text(path) -> the text of the PDF's text layer, or raises a clear error.
function M.pdf_text(path)
  local prog = which(M.pdftotext)
  if not prog then
    error(string.format("cannot read %s: %s is not installed (it comes with poppler-utils: apt-get install poppler-utils)",
      path, M.pdftotext), 0)
  end
  local code, out, err, spawn_err = run(prog, { "-layout", "-enc", "UTF-8", path, "-" })
  if spawn_err then error(string.format("cannot read %s: could not run %s: %s", path, prog, spawn_err), 0) end
  if code ~= 0 then
    local lines, seen = {}, {}
    for l in err:gmatch("[^\n]+") do
      l = l:gsub("%s+$", "")
      if l ~= "" and not seen[l] then seen[l] = true lines[#lines + 1] = l end
    end
    local msg = table.concat(lines, "; ")
    if code == "timeout" then
      error(string.format("cannot read %s: pdftotext took longer than %ds", path, M.timeout_ms // 1000), 0)
    elseif code == "too big" then
      error(usage(string.format("%s has more than %d MiB of text", path, M.max_pdf_text // 1048576)), 0)
    end
    if msg:lower():find("password") or msg:lower():find("encrypt") or code == 3 then
      error(usage(string.format("%s is encrypted (password-protected or copy-protected): save an unprotected copy first", path)), 0)
    end
    if msg == "" then msg = "exit status " .. tostring(code) end
    error(usage(string.format("%s is not a readable PDF: %s", path, msg)), 0)
  end
  return out
end

local function kind_of(path, head)
  if head:sub(1, 5) == "%PDF-" then return "pdf" end
  local ext = (path:match("%.([%w]+)$") or ""):lower()
  if ext == "md" or ext == "markdown" or ext == "mdown" or ext == "mkd" then return "markdown" end
  return "text"
end

-- Page breaks (form feeds) become blank lines; trailing spaces go, line ends are \n.
local function tidy_pdf(text)
  text = text:gsub("\r\n?", "\n"):gsub("\f", "\n\n"):gsub("[ \t]+\n", "\n"):gsub("\n\n\n+", "\n\n")
  return (text:gsub("^%s+", ""):gsub("%s+$", "")) .. "\n"
end

-- read(path) -> {name, text, document_type = "pdf" | "markdown" | "text", path}.
-- Raises a usage error (a table with kind "usage") for a file that cannot be
-- used: unreadable, not UTF-8, empty, an encrypted PDF or one with no text
-- layer; a plain error when pdftotext is missing or fails to run.
function M.read(path)
  if type(path) ~= "string" or path == "" then error("documents.read: a file path expected", 2) end
  if paths.is_dir(path) then error(usage(path .. " is a directory, not a document"), 0) end
  local raw, err = paths.read_file(path)
  if not raw then error(usage("cannot read the document: " .. tostring(err)), 0) end
  local name = path:match("([^/]+)$")
  local kind = kind_of(path, raw)
  local text
  if kind == "pdf" then
    text = M.pdf_text(path)
    check_utf8(text, path .. " (its extracted text)")
    if not text:match("%S") then
      error(usage(path .. " has no text layer (a scanned PDF?): run it through OCR, or give its text as a file"), 0)
    end
    text = tidy_pdf(text)
  else
    if raw:sub(1, 3) == "\239\187\191" then raw = raw:sub(4) end   -- a UTF-8 byte order mark
    text = check_utf8(raw, path)
    if not text:match("%S") then error(usage(path .. " is empty"), 0) end
  end
  return { name = name, text = text, document_type = kind, path = path }
end

return M
