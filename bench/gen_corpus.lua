-- Deterministic marketing-like prose for the scoring benchmark (bench/score.lua).
--   build/candor lua bench/gen_corpus.lua [CORPUS [PHRASES [BYTES]]]
-- CORPUS (default /tmp/candor-corpus.txt): >= 10 MiB of paragraphs mixing vendor
-- copy, AI-slop sentences, practitioner sentences, plain sentences, numbers,
-- curly quotes, em dashes, bullet lists, headings, some non-ASCII and emoji.
-- The same bytes on every machine: the generator is its own PRNG (splitmix64 on
-- Lua 5.4's wrapping 64-bit integers), never math.random, and its word banks are
-- written here, so editing a lexicon does not change the corpus.
-- PHRASES (default /tmp/candor-phrases.txt): the phrases of prompts/lexicons/*.txt,
-- one per line, for `grep -F -i -w -f`: headers, comments and "| weight" dropped,
-- lower-cased, duplicates removed, and prefix patterns ("leverag*") left out,
-- since grep -F has no word-prefix form. So grep sees fewer patterns than
-- core.score, and none of core.score's folding (curly quotes, dashes, Unicode
-- case): its match count is a reference for the work done, not the same answer.
local corpus_path = arg[1] or "/tmp/candor-corpus.txt"
local phrases_path = arg[2] or "/tmp/candor-phrases.txt"
local target = tonumber(arg[3]) or (10 * 1024 * 1024 + 512 * 1024)   -- 10.5 MiB

-- ---------------------------------------------------------------- PRNG
local state = 0x43616E646F72   -- "Candor"
local function next64()
  state = state + 0x9E3779B97F4A7C15
  local z = state
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  return z ~ (z >> 31)
end
local function rand(n) return (next64() >> 11) % n + 1 end          -- 1..n
local function chance(p) return rand(1000000) <= p * 1000000 end
local function pick(t) return t[rand(#t)] end

-- ---------------------------------------------------------------- word banks
local B = {
  product = { "Acme Cloud", "Nimbus", "Orbitly", "DataForge", "Kestrel", "Lumen Ops", "Stackwise", "Helio",
    "Quarry", "Bramble", "Cobalt Mesh", "Tidewater", "Northwind Analytics", "Zürich Systems", "Señal", "Ægis" },
  vadj = { "best-in-class", "industry-leading", "cutting-edge", "world-class", "next-generation", "state-of-the-art",
    "robust", "powerful", "intuitive", "seamless", "innovative", "all-in-one", "AI-powered", "enterprise-grade",
    "future-proof", "mission-critical", "holistic", "unparalleled" },
  verb = { "empowers", "enables", "helps", "unlocks new ways for", "elevates", "supercharges", "transforms how",
    "streamlines work for", "revolutionizes the way", "lets" },
  audience = { "teams", "developers", "platform engineers", "security teams", "stakeholders", "enterprises",
    "data teams", "SREs", "customers", "modern organizations" },
  action = { "ship faster", "harness the power of their data", "unlock the full potential of the cloud",
    "drive growth", "boost productivity", "maximize uptime", "optimize your spend", "scale effortlessly",
    "navigate the complexities of compliance", "leverage real-time insights", "reimagine incident response",
    "deliver exceptional experiences" },
  outcome = { "better outcomes", "greater visibility", "reduced costs", "faster time-to-market",
    "improved developer experience", "peace of mind", "actionable insights", "end-to-end visibility",
    "measurable impact", "significant savings", "higher productivity", "fewer incidents", "reduced complexity",
    "increased agility", "enhanced security", "seamless collaboration" },
  noun = { "observability", "data pipelines", "incident response", "compliance workflows", "developer platform",
    "cloud costs", "access control", "release management", "customer data", "CI pipeline", "log retention",
    "feature flags", "on-call", "capacity planning", "schema changes", "API gateway" },
  domain = { "digital", "cloud-native", "data-driven", "ever-evolving", "competitive", "interconnected", "modern" },
  slop_open = { "In today’s fast-paced %s landscape, ", "In today's %s world, ", "Now more than ever, ",
    "In an era where every %s team is under pressure, ", "It’s important to note that ", "Needless to say, ",
    "It goes without saying that ", "Let’s delve into why ", "At the end of the day, ", "Simply put, ",
    "Whether you’re a seasoned engineer or just getting started, ", "Ultimately, " },
  slop_body = { "%s plays a pivotal role in the modern enterprise", "%s is a testament to the power of collaboration",
    "%s sits at the heart of a rich tapestry of tools", "the intricacies of %s cannot be overstated",
    "%s is more than just a tool — it’s a mindset", "%s serves as a beacon of innovation",
    "embracing %s fosters a culture of excellence", "%s remains a crucial component of your journey",
    "%s unlocks a world of possibilities", "the landscape of %s is constantly evolving" },
  slop_close = { ".", ", and that’s a game-changer.", " — and it’s only the beginning.", ". The future is here.",
    ", paving the way for what’s next.", ". Let that sink in.", "!" },
  tech = { "Kafka 3.6", "PostgreSQL 16", "Kubernetes 1.29", "Redis 7.2", "nginx", "Terraform 1.7", "Envoy",
    "Prometheus", "ClickHouse", "etcd", "Go 1.22", "Node 20", "Python 3.12", "MySQL 8.0", "RabbitMQ", "gRPC" },
  weekday = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday" },
  month = { "January", "March", "May", "July", "September", "November" },
  city = { "São Paulo", "Zürich", "Kraków", "Montréal", "Reykjavík", "Malmö", "Düsseldorf", "Bogotá" },
  person = { "Ana", "Björn", "Chloé", "Dmitri", "Eun-ji", "François", "Grace", "Héctor", "Ines", "José" },
  emoji = { "🚀", "✅", "🔥", "💡", "📈", "🎉", "⚡" },
}

local function fill(fmt, ...) return string.format(fmt, ...) end
local function num(lo, hi) return lo + rand(hi - lo + 1) - 1 end
local function capital(s) return (s:gsub("^%l", string.upper)) end

-- ---------------------------------------------------------------- sentences
local vendor = {
  function() return fill("%s is the %s platform that %s %s to %s.", pick(B.product), pick(B.vadj), pick(B.verb), pick(B.audience), pick(B.action)) end,
  function() return fill("With %s, %s get %s and %s — all in one place.", pick(B.product), pick(B.audience), pick(B.outcome), pick(B.outcome)) end,
  function() return fill("Our %s solution %s %s to %s, delivering %s at scale.", pick(B.vadj), pick(B.verb), pick(B.audience), pick(B.action), pick(B.outcome)) end,
  function() return fill("We’re thrilled to announce %s %s: a %s, %s way to manage %s.", pick(B.product), num(2, 9) .. ".0", pick(B.vadj), pick(B.vadj), pick(B.noun)) end,
  function() return fill("Trusted by %s+ %s, %s is the %s choice for %s.", num(2, 900) .. ",000", pick(B.audience), pick(B.product), pick(B.vadj), pick(B.noun)) end,
  function() return fill("Book a demo today and discover how %s can take your %s to the next level.", pick(B.product), pick(B.noun)) end,
  function() return fill("Say goodbye to silos: our %s ecosystem delivers %s with ease.", pick(B.vadj), pick(B.outcome)) end,
  function() return fill("“%s changed everything for us,” says a VP at a Fortune 500 company.", pick(B.product)) end,
}

local slop = {
  function() return fill(pick(B.slop_open), pick(B.domain)) .. fill(pick(B.slop_body), pick(B.noun)) .. pick(B.slop_close) end,
  function() return capital(fill(pick(B.slop_body), pick(B.noun))) .. pick(B.slop_close) end,
  function() return fill("It’s not just about %s, it’s about %s.", pick(B.noun), pick(B.outcome)) end,
  function() return fill("Fast, reliable, and secure, %s is %s, %s, and %s.", pick(B.noun), pick(B.vadj), pick(B.vadj), pick(B.vadj)) end,
  function() return fill("Ready to embark on your %s journey? Look no further.", pick(B.noun)) end,
  function() return fill("In conclusion, %s is a multifaceted challenge that requires a holistic approach.", pick(B.noun)) end,
}

local practitioner = {
  function() return fill("We migrated %d services from %s to %s last quarter; p99 dropped from %dms to %dms.", num(3, 60), pick(B.tech), pick(B.tech), num(300, 2000), num(20, 290)) end,
  function() return fill("Turns out the workaround was pinning %s — the downside is we lose the fix for the memory leak.", pick(B.tech)) end,
  function() return fill("In my experience %s falls over at around %dk rps on %d cores, so we shard by tenant.", pick(B.tech), num(5, 90), num(4, 64)) end,
  function() return fill("Got paged at 3am on a %s because the disk filled up on %d of %d nodes.", pick(B.weekday), num(2, 9), num(10, 40)) end,
  function() return fill("%s rolled back the bad deploy in %d minutes; the postmortem is in the incident channel.", pick(B.person), num(4, 45)) end,
  function() return fill("Has anyone else seen replication lag spike after upgrading to %s? Is this expected?", pick(B.tech)) end,
  function() return fill("We tried %s for %d months and ended up going back; it doesn’t handle schema migrations well.", pick(B.tech), num(2, 14)) end,
  function() return fill("The catch is cost: $%d.%02d per GB ingested, about $%dk a month for us.", num(0, 2), num(1, 99), num(3, 80)) end,
  function() return fill("I was wrong about %s: the real fix was a connection pool of %d, not more replicas.", pick(B.tech), num(8, 200)) end,
  function() return fill("Our on-call rotation (%d engineers across %s and %s) handled %d pages in %s.", num(4, 12), pick(B.city), pick(B.city), num(12, 300), pick(B.month)) end,
  function() return fill("`kubectl rollout undo` took %ds; the flaky test was a race condition in the retry loop.", num(5, 90)) end,
}

local plain = {
  function() return fill("The %s team meets on %s to review %d open tickets.", pick(B.noun), pick(B.weekday), num(5, 80)) end,
  function() return fill("%s wrote the runbook for %s in %s %d.", pick(B.person), pick(B.noun), pick(B.month), num(2019, 2025)) end,
  function() return fill("See https://docs.example.com/%s/v%d.%d for the configuration reference.", pick({ "ingest", "auth", "billing", "search" }), num(1, 4), num(0, 12)) end,
  function() return fill("Latency was %d.%d µs at %d°C, within ±%d%% of the baseline.", num(1, 99), num(0, 9), num(20, 80), num(1, 9)) end,
  function() return fill("The office in %s moved to the third floor… again.", pick(B.city)) end,
  function() return fill("Version %d.%d.%d ships on %s %d, %d.", num(1, 9), num(0, 30), num(0, 20), pick(B.month), num(1, 28), num(2024, 2026)) end,
  function() return fill("Each request carries a tenant header, which the router reads before it picks one of %d upstream pools and writes an access log line.", num(3, 12)) end,
  function() return fill("%s asked whether the nightly export could run an hour earlier, since the reports land after the %s standup and nobody reads them until lunch.", pick(B.person), pick(B.weekday)) end,
  function() return fill("The billing job reads %d tables, joins them on the account key and writes one file per region to the archive bucket.", num(4, 30)) end,
  function() return fill("Most of the %s questions this month were about password resets, invoice addresses and how to rotate an expired certificate.", pick(B.noun)) end,
  function() return fill("The dashboard shows queue depth, consumer lag and error counts per partition, grouped by the topic owner named in the %s catalog.", pick(B.product)) end,
  function() return fill("After lunch %s walked the new hires through the deploy checklist, the review rules and where the %s docs live.", pick(B.person), pick(B.noun)) end,
  function() return fill("A customer in %s reported that exports with more than %d rows time out after %d seconds.", pick(B.city), num(10, 500) * 1000, num(30, 120)) end,
}

-- Shares of each voice: tuned so core.score finds several lexicon matches per
-- 100 words, as in real marketing copy (bench/score.lua prints the density).
local kinds = { { vendor, 14 }, { slop, 8 }, { practitioner, 20 }, { plain, 58 } }
local function sentence()
  local r, acc = rand(100), 0
  for _, k in ipairs(kinds) do
    acc = acc + k[2]
    if r <= acc then
      local s = pick(k[1])()
      if chance(0.03) then s = s .. " " .. pick(B.emoji) end
      return s
    end
  end
end

-- One paragraph with its blank line; one in 20 has CRLF line ends.
local function paragraph()
  local nl = chance(0.05) and "\r\n" or "\n"
  local r = rand(100)
  if r <= 8 then                                         -- a heading
    return "## " .. capital(pick(B.noun)) .. (chance(0.5) and (": " .. pick(B.outcome)) or "") .. nl .. nl
  elseif r <= 20 then                                    -- a bullet list
    local items = {}
    for i = 1, num(3, 5) do items[i] = "- " .. sentence() end
    return table.concat(items, nl) .. nl .. nl
  end
  local parts = {}
  for i = 1, num(2, 7) do parts[i] = sentence() end
  return table.concat(parts, " ") .. nl .. nl
end

-- ---------------------------------------------------------------- corpus
local f = assert(io.open(corpus_path, "wb"))
local size, buf = 0, {}
while size < target do
  local p = paragraph()
  buf[#buf + 1] = p
  size = size + #p
  if #buf >= 512 then f:write(table.concat(buf)); buf = {} end
end
f:write(table.concat(buf))
f:close()

-- ---------------------------------------------------------------- phrases
-- The phrases of the lexicon candor score uses; prefix patterns (leverag*) are
-- left out, since grep -F -w has no way to say them.
local seen, phrases, prefixes = {}, {}, 0
for _, p in ipairs(require("candor.quality.lexicon").load():phrases()) do
  if p.prefix then
    prefixes = prefixes + 1
  else
    local phrase = p.phrase:lower():gsub("%s+", " ")
    if not seen[phrase] then seen[phrase] = true; phrases[#phrases + 1] = phrase end
  end
end
table.sort(phrases)
local pf = assert(io.open(phrases_path, "wb"))
pf:write(table.concat(phrases, "\n"), "\n")
pf:close()
io.stderr:write(string.format("gen_corpus: %s (%d bytes), %s (%d phrases; %d prefix patterns left out)\n",
  corpus_path, size, phrases_path, #phrases, prefixes))
