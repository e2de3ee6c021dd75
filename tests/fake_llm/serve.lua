-- The fake LLM server as a process of its own, so a benchmark's CPU figures
-- count the client only:
--   build/candor lua tests/fake_llm/serve.lua [--script FILE] [--delay MS] [--stamp]
-- prints its URL (one line) on stdout and serves until its stdin closes (a pipe
-- or a terminal; with stdin a file or /dev/null, until it is killed).
--   --script FILE  a Lua file returning a script for tests/fake_llm/server.lua
--   --delay MS     the default script: every request answered after MS (100) ms
--   --stamp        instead of server.lua: an OpenAI-compatible SSE stream whose
--                  every text piece is the uv.hrtime() (CLOCK_MONOTONIC, shared
--                  by the processes of a machine) taken just before it is written.
--                  The last user message sets it: "chunks=N gap_ms=G burst=B" sends
--                  N pieces, B back to back, then waits G ms (defaults 100, 1, 1).
local uv = require "luv"
local root = require("candor.paths").root
local async = require "candor.async"

local opts = { delay = 100 }
local i = 1
while i <= #arg do
  local a = arg[i]
  if a == "--script" then opts.script, i = arg[i + 1], i + 1
  elseif a == "--delay" then opts.delay, i = tonumber(arg[i + 1]), i + 1
  elseif a == "--stamp" then opts.stamp = true
  else
    io.stderr:write("usage: candor lua tests/fake_llm/serve.lua [--script FILE] [--delay MS] [--stamp]\n")
    return 2
  end
  i = i + 1
end

-- The stamped stream: one HTTP chunk (one write) per SSE event.
local function stamped(HS)
  local cjson = require "cjson"
  return HS.serve(function(req, res)
    if req.method ~= "POST" or not req.path:match("/chat/completions$") then
      return res:send(404, {}, "the stamping server only streams chat completions")
    end
    local body = cjson.decode(req.body)
    local last = ""
    for _, m in ipairs(body.messages or {}) do if m.role == "user" then last = m.content end end
    local n = tonumber(last:match("chunks=(%d+)")) or 100
    local gap = tonumber(last:match("gap_ms=(%d+)")) or 1
    local burst = tonumber(last:match("burst=(%d+)")) or 1
    local model = cjson.encode(body.model or "fake")
    local head = 'data: {"model":' .. model .. ',"choices":[{"index":0,"delta":{"content":"'
    res:start(200, { ["Content-Type"] = "text/event-stream" })
    local sent = 0
    local function tick()
      for _ = 1, burst do
        if sent == n then break end
        sent = sent + 1
        res:chunk(string.format('%s%d "}}]}\n\n', head, uv.hrtime()))
      end
      if sent < n then return HS.after(gap, tick) end
      res:chunk('data: {"model":' .. model .. ',"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n')
      res:chunk('data: {"model":' .. model .. ',"choices":[],"usage":{"prompt_tokens":' .. (#last // 4 + 1)
        .. ',"completion_tokens":' .. n .. '}}\n\n')
      res:chunk("data: [DONE]\n\n")
      res:finish()
    end
    HS.after(gap, tick)
  end)
end

local server
if opts.stamp then
  server = stamped(dofile(root .. "/tests/fake_llm/http_server.lua"))
else
  local script = { { text = "A fake answer from the benchmark server, a sentence long.", delay_ms = opts.delay } }
  if opts.script then script = assert(dofile(opts.script), "the script file must return a table") end
  server = dofile(root .. "/tests/fake_llm/server.lua").start(script)
end

io.stdout:write(server.url, "\n")
io.stdout:flush()

-- Until stdin closes (EOF or error); a file or /dev/null on stdin: until killed.
local kind = uv.guess_handle(0)
async.suspend(function(wake)
  local stdin
  if kind == "pipe" then
    stdin = uv.new_pipe(false)
    stdin:open(0)
  elseif kind == "tty" then
    stdin = uv.new_tty(0, true)
  else
    return
  end
  stdin:read_start(function(err, data)
    if err or not data then
      stdin:close()
      wake()
    end
  end)
end)
server.close()
return 0
