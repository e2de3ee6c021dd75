-- Evaluation of the scorers on a labelled set: ROC AUC per dimension.
local M = {}

-- auc(positives, negatives): the chance a random positive scores above a random
-- negative (ties count half). Mann-Whitney, O(n*m) is fine for a few hundred.
function M.auc(pos, neg)
  if #pos == 0 or #neg == 0 then return nil end
  local wins = 0
  for _, p in ipairs(pos) do
    for _, n in ipairs(neg) do
      if p > n then wins = wins + 1 elseif p == n then wins = wins + 0.5 end
    end
  end
  return wins / (#pos * #neg)
end

-- evaluate(items, score_fn) -> {vendor_speak =, slop =, specificity =, detail = {...}}
-- items: {label =, specific =, text =}; score_fn(text) -> report from quality.judge.
function M.evaluate(items, score_fn)
  local by = {}
  local function add(group, dim, v)
    by[group] = by[group] or {}
    by[group][dim] = by[group][dim] or {}
    table.insert(by[group][dim], v)
  end
  for _, it in ipairs(items) do
    local r = score_fn(it.text)
    for dim, v in pairs(r.scores) do
      add(it.label, dim, v)
      add(it.specific and "specific" or "vague", dim, v)
    end
  end
  local function cat(groups, dim)
    local out = {}
    for _, g in ipairs(groups) do for _, v in ipairs((by[g] or {})[dim] or {}) do out[#out + 1] = v end end
    return out
  end
  local practitioners = { "practitioner", "tricky_practitioner" }
  return {
    vendor_speak = M.auc(cat({ "vendor", "vendor_numbers" }, "vendor_speak"), cat(practitioners, "vendor_speak")),
    slop = M.auc(cat({ "slop" }, "slop"), cat(practitioners, "slop")),
    specificity = M.auc(cat({ "specific" }, "specificity"), cat({ "vague" }, "specificity")),
    authenticity = M.auc(cat(practitioners, "authenticity"), cat({ "vendor", "vendor_numbers", "slop" }, "authenticity")),
    vendor_speak_hard = M.auc(cat({ "vendor_numbers" }, "vendor_speak"), cat({ "tricky_practitioner" }, "vendor_speak")),
    slop_hard = M.auc(cat({ "slop" }, "slop"), cat({ "tricky_practitioner" }, "slop")),
    groups = by,
  }
end

return M
