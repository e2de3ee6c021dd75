-- Default voice profiles (table voice_profiles).
-- Each entry becomes one row; `guide` is a path under prompts/ whose text is stored
-- in voice_profiles.voice_guide. `scoring_thresholds` are the quality gates for drafts
-- written in that voice, all on 0-10 scales:
--   slopMax, vendorSpeakMax          draft fails if its score is ABOVE the max
--   authenticityMin, specificityMin,
--   personaMin, narrativeArcMin      draft fails if its score is BELOW the min
-- Exactly one profile has is_default = true.
-- Seeding is idempotent and never overwrites a row a user has edited.

return {
  {
    slug = "practitioner-community",
    name = "Practitioner Community",
    description = "An engineer talking to peers on a forum or issue thread: first person, concrete numbers with conditions, trade-offs stated up front, no hype. The default voice.",
    guide = "voices/practitioner-community.md",
    is_default = true,
    -- The strictest profile. Practitioners stop reading at the first whiff of
    -- marketing, so vendor-speak is held near zero (1.5) and slop low (2.0).
    -- Authenticity is the whole point (7.5), and claims must carry real numbers,
    -- names and conditions (specificity 7.0). Persona fit 7.0: the skeptical
    -- engineer critics must find it credible. Narrative arc 6.0: forum posts need
    -- a problem -> attempt -> result shape, but not a polished story.
    scoring_thresholds = {
      slopMax = 2.0,
      vendorSpeakMax = 1.5,
      authenticityMin = 7.5,
      specificityMin = 7.0,
      personaMin = 7.0,
      narrativeArcMin = 6.0,
    },
    example_phrases = {
      "We hit this at about 2k writes/s on a 3-node cluster.",
      "I ended up pinning the client to 4.2 until the fix lands.",
      "It's faster, but you give up cross-region reads.",
      "p99 went from 1.8 s to 240 ms once the fan-out moved off the request path.",
      "Haven't tried it past 50 nodes, so I can't tell you how it behaves there.",
      "The 3 a.m. page for disk pressure stopped after that change.",
      "Full disclosure: I work on this, so weigh that accordingly.",
      "If you're on the old client, this won't work; it drops unknown headers.",
      "Here's the config we ended up with, in case it saves someone an afternoon.",
      "Honestly, for under ten services a cron job is fine.",
    },
  },

  {
    slug = "sales-enablement",
    name = "Sales Enablement",
    description = "Crisp, objection-led material for reps and SEs: the objection first, then a response they can say out loud, then the proof point and its source.",
    guide = "voices/sales-enablement.md",
    is_default = false,
    -- Reps repeat these lines to buyers, so every claim needs a defensible proof
    -- point: specificity is the highest bar here (7.5). Some commercial language
    -- is expected ("total cost", "renewal"), so vendor-speak may reach 3.0 and
    -- slop 3.0, but not beyond. Authenticity 6.0: it is openly a sales tool, it
    -- only has to sound like a real person talking. Persona fit 7.0 because the
    -- economic buyer and the competitor's champion critics must not be able to
    -- knock it over. Narrative arc 5.0: battlecards and talk tracks are
    -- structured lists, not stories.
    scoring_thresholds = {
      slopMax = 3.0,
      vendorSpeakMax = 3.0,
      authenticityMin = 6.0,
      specificityMin = 7.5,
      personaMin = 7.0,
      narrativeArcMin = 5.0,
    },
    example_phrases = {
      "They say: 'Our APM tool already does this.' You say: ask how long their last incident took to trace across services.",
      "Proof: nightly maintenance window cut from 40 minutes to zero (public case study).",
      "Discovery question: what happens to your on-call when the batch job runs late?",
      "Where they are strong: the dashboarding. Don't fight them there.",
      "We win when the team has more than 20 services and no dedicated platform group.",
      "Trap: don't claim we replace Postgres. We sit next to it.",
      "Ask them what the last audit cost in engineer-weeks.",
      "If they push on price, move the conversation to the cost of the current workaround.",
      "Short version for the call: fewer pages, same stack, live in a week.",
      "Roadmap, not shipped: say 'planned for Q3', never 'we have'.",
    },
  },

  {
    slug = "product-launch",
    name = "Product Launch",
    description = "Launch-day announcements, release headlines and social threads: energetic, but the energy comes from what shipped, who gets it and what it changes, with availability and limits stated.",
    guide = "voices/product-launch.md",
    is_default = false,
    -- The most tolerant of promotional language: a launch is allowed to sound like
    -- a launch, so vendor-speak may reach 4.5 and slop 3.5. It must still say
    -- exactly what shipped (specificity 6.5) and read as written by people who
    -- built it (authenticity 5.5). Narrative arc is the highest of the four (7.0):
    -- a launch lives or dies on pain -> change -> proof -> how to try it.
    -- Persona fit 6.5: the audience is mixed, so no single critic can be fully
    -- satisfied.
    scoring_thresholds = {
      slopMax = 3.5,
      vendorSpeakMax = 4.5,
      authenticityMin = 5.5,
      specificityMin = 6.5,
      personaMin = 6.5,
      narrativeArcMin = 7.0,
    },
    example_phrases = {
      "Scheduled exports no longer block your dashboards.",
      "You can now query last year's data without restoring it first.",
      "In beta, the longest wait dropped from 3 minutes to under 2 seconds across 14 teams.",
      "Available today on Team and Enterprise plans; Free gets it next month.",
      "Known limit in this release: one region per workspace.",
      "Before: a ticket and a two-day wait. Now: one command.",
      "Here's what changes for existing users, and what doesn't.",
      "Nothing to migrate: it's on by default for new projects.",
      "Try it in five minutes with the sample dataset.",
      "Built because 300 of you asked for it in the same GitHub issue.",
    },
  },

  {
    slug = "field-marketing",
    name = "Field Marketing",
    description = "Event and regional copy: meetup invitations, booth lines, roundtable emails, post-event follow-ups. Conversational, local, logistics first, honest about who is hosting.",
    guide = "voices/field-marketing.md",
    is_default = false,
    -- Invitations live on warmth and trust, so authenticity is high (7.0).
    -- Specificity is the lowest bar (5.5) because the concrete details are
    -- logistics and local references more than technical numbers, which the
    -- specificity scorer credits only partly. Vendor-speak 3.5 and slop 3.0:
    -- some event language is normal, hype is not. Narrative arc 6.5: a good
    -- invite or talk outline tells a small story from a local team. Persona fit
    -- 6.5 for the same mixed-audience reason as launches.
    scoring_thresholds = {
      slopMax = 3.0,
      vendorSpeakMax = 3.5,
      authenticityMin = 7.0,
      specificityMin = 5.5,
      personaMin = 6.5,
      narrativeArcMin = 6.5,
    },
    example_phrases = {
      "If you run on-call for a data platform in Leeds, come swap war stories on Thursday.",
      "Three talks, 15 minutes each, then food.",
      "Priya from Northgate Insurance will show how her team stopped the Monday backfill pages.",
      "We're hosting, and we'll keep the product bit to ten minutes.",
      "30 seats, first come first served; bring your worst incident story.",
      "You asked about retention limits during the Q&A, so here's the doc I promised.",
      "Great to meet you at the booth. The demo that froze is fixed; here's the recording.",
      "Doors at 6, talks at 6:30, out by 8:30.",
      "Same room as last spring, the one with the good coffee.",
      "No slides required if you just want to listen.",
    },
  },
}
