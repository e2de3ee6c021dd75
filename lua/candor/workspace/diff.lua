-- Line diffs for the workspace: Myers' O(ND) shortest edit script over lines,
-- printed as a unified diff (GNU diff's hunk headers, 3 lines of context), and
-- the scores of two versions side by side with their deltas.
local M = {}

M.context = 3

-- The lines of text, each with its "\n" but a last one that has none, so "x"
-- and "x\n" differ as they do to GNU diff and patch.
local function split(text)
  local lines = {}
  for line in (text or ""):gmatch("[^\n]*\n?") do
    if line ~= "" then lines[#lines + 1] = line end
  end
  return lines
end
M.split = split

-- Myers over a[lo_a+1 .. hi_a] and b[lo_b+1 .. hi_b] -> ops appended to out:
-- {" ", line}, {"-", line}, {"+", line}, in order.
local function myers(a, b, lo_a, hi_a, lo_b, hi_b, out)
  local n, m = hi_a - lo_a, hi_b - lo_b
  local v, trace = { [1] = 0 }, {}
  local found
  for d = 0, n + m do
    local vd = {}
    for k = -d, d, 2 do
      local x
      if k == -d or (k ~= d and v[k - 1] < v[k + 1]) then x = v[k + 1] else x = v[k - 1] + 1 end
      local y = x - k
      while x < n and y < m and a[lo_a + x + 1] == b[lo_b + y + 1] do x, y = x + 1, y + 1 end
      vd[k] = x
      if x >= n and y >= m then found = d break end
    end
    trace[d] = vd
    v = vd
    if found then break end
  end
  -- walk back from (n, m) to (0, 0), collecting the ops in reverse
  local rev = {}
  local x, y = n, m
  for d = found, 1, -1 do
    local pv = trace[d - 1]
    local k = x - y
    local pk
    if k == -d or (k ~= d and pv[k - 1] < pv[k + 1]) then pk = k + 1 else pk = k - 1 end
    local px = pv[pk]
    local py = px - pk
    while x > px and y > py do
      rev[#rev + 1] = { " ", a[lo_a + x] }
      x, y = x - 1, y - 1
    end
    if x == px then rev[#rev + 1] = { "+", b[lo_b + y] } else rev[#rev + 1] = { "-", a[lo_a + x] } end
    x, y = px, py
  end
  while x > 0 and y > 0 do
    rev[#rev + 1] = { " ", a[lo_a + x] }
    x, y = x - 1, y - 1
  end
  for i = #rev, 1, -1 do out[#out + 1] = rev[i] end
end

-- ops(a_lines, b_lines) -> the edit script; a common head and tail are taken off
-- first, so a small edit to a long text is cheap.
function M.ops(a, b)
  local out = {}
  local head = 0
  while head < #a and head < #b and a[head + 1] == b[head + 1] do head = head + 1 end
  local ta, tb = #a, #b
  while ta > head and tb > head and a[ta] == b[tb] do ta, tb = ta - 1, tb - 1 end
  for i = 1, head do out[#out + 1] = { " ", a[i] } end
  myers(a, b, head, ta, head, tb, out)
  for i = ta + 1, #a do out[#out + 1] = { " ", a[i] } end
  return out
end

local function range(start, count)
  if count == 1 then return tostring(start) end
  if count == 0 then return string.format("%d,0", start - 1) end
  return string.format("%d,%d", start, count)
end

-- unified(a_text, b_text, label_a, label_b [, context]) -> the unified diff, or
-- only the two header lines when the texts have the same lines.
function M.unified(a_text, b_text, label_a, label_b, context)
  context = context or M.context
  local ops = M.ops(split(a_text), split(b_text))
  local out = { "--- " .. label_a, "+++ " .. label_b }
  -- positions (in ops) of the changed lines, grouped into hunks
  local changes = {}
  for i, op in ipairs(ops) do if op[1] ~= " " then changes[#changes + 1] = i end end
  local i = 1
  while i <= #changes do
    local first, last = changes[i], changes[i]
    local j = i
    while j < #changes and changes[j + 1] - last <= 2 * context + 1 do
      j = j + 1
      last = changes[j]
    end
    local s, e = math.max(1, first - context), math.min(#ops, last + context)
    local old_start, new_start = 1, 1
    for p = 1, s - 1 do
      if ops[p][1] ~= "+" then old_start = old_start + 1 end
      if ops[p][1] ~= "-" then new_start = new_start + 1 end
    end
    local old_n, new_n, body = 0, 0, {}
    for p = s, e do
      local op = ops[p]
      if op[1] ~= "+" then old_n = old_n + 1 end
      if op[1] ~= "-" then new_n = new_n + 1 end
      local line = op[2]
      if line:sub(-1) == "\n" then body[#body + 1] = op[1] .. line:sub(1, -2)
      else body[#body + 1] = op[1] .. line .. "\n\\ No newline at end of file" end
    end
    out[#out + 1] = string.format("@@ -%s +%s @@", range(old_start, old_n), range(new_start, new_n))
    for _, l in ipairs(body) do out[#out + 1] = l end
    i = j + 1
  end
  return table.concat(out, "\n") .. "\n", #changes > 0
end

local DIMS = { "slop", "vendor_speak", "authenticity", "specificity", "persona_avg" }
local COLUMN = { slop = "slop_score", vendor_speak = "vendor_speak_score", authenticity = "authenticity_score",
                 specificity = "specificity_score", persona_avg = "persona_avg_score" }

local function num(x) return type(x) == "number" and string.format("%.1f", x) or "-" end

local function delta(a, b)
  if type(a) ~= "number" or type(b) ~= "number" then return "-" end
  local d = math.floor((b - a) * 10 + 0.5) / 10
  if d == 0 then return "0.0" end
  return string.format("%+.1f", d)
end

-- scores(va, vb, label_a, label_b) -> the scores table: one line per dimension
-- (lower is better for slop and vendor_speak), then the gates.
function M.scores(va, vb, la, lb)
  local w = math.max(6, #la, #lb)
  local fmt = "%-13s %" .. w .. "s %" .. w .. "s %6s"
  local out = { string.format(fmt, "scores", la, lb, "delta") }
  for _, d in ipairs(DIMS) do
    local a, b = va[COLUMN[d]], vb[COLUMN[d]]
    out[#out + 1] = string.format(fmt, d, num(a), num(b), delta(a, b))
  end
  local function yn(v) return v and "yes" or "no" end
  out[#out + 1] = (string.format(fmt, "passes_gates", yn(va.passes_gates), yn(vb.passes_gates), ""):gsub("%s+$", ""))
  return table.concat(out, "\n") .. "\n"
end

-- versions(va, vb) -> the text diff and the scores table of two version rows.
function M.versions(va, vb)
  local function label(v, other)
    local l = "v" .. v.version_number
    if v.asset_type ~= other.asset_type then l = v.asset_type .. " " .. l end
    return l
  end
  local la, lb = label(va, vb), label(vb, va)
  local text, changed = M.unified(va.content, vb.content, la .. " (" .. va.source .. ")", lb .. " (" .. vb.source .. ")")
  if not changed then text = text .. "(the texts are the same)\n" end
  return text .. "\n" .. M.scores(va, vb, la, lb)
end

return M
