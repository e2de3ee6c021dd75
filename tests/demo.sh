#!/bin/sh
# make demo: score the bundled sample drafts against two voices, offline and
# instantly, then run a generation pipeline: a real one when a provider key is
# set, else straight-through (score and store a bundled draft, no LLM call).
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/candor-demo-XXXXXX)
trap 'rm -rf "$dir"' EXIT
export CANDOR_DB="$dir/candor.db"
export XDG_STATE_HOME="$dir/state"
candor=build/candor

echo "== candor init (a fresh database in $dir)"
$candor init
echo
echo "== The drafts: Tideline, a CI flaky-test detector, written well and badly (examples/drafts/)"
for f in examples/drafts/*.md; do
  printf '  %-34s %s\n' "$(basename "$f")" "$(head -1 "$f" | sed 's/<!-- *//; s/ *-->//')"
done
echo
echo "== candor score --voice practitioner-community (the strictest voice): one bad draft in full"
$candor score --voice practitioner-community --explain examples/drafts/01-launch-hype.md | tail -12
echo
for voice in practitioner-community product-launch; do
  echo "== Gates for the $voice voice"
  $candor sql "SELECT json_extract(scoring_thresholds, '$.slopMax') AS slop_max,
                      json_extract(scoring_thresholds, '$.vendorSpeakMax') AS vendor_speak_max,
                      json_extract(scoring_thresholds, '$.specificityMin') AS specificity_min,
                      json_extract(scoring_thresholds, '$.authenticityMin') AS authenticity_min
               FROM voice_profiles WHERE slug = '$voice'"
  $candor score --voice "$voice" examples/drafts/*.md | grep -E '(PASS|FAIL) \||scored' | sed 's|examples/drafts/||'
  echo
done

# A real generation needs one provider key; the profile follows the key you have.
profile=""
if [ -n "${CANDOR_PROFILE:-}" ]; then profile="$CANDOR_PROFILE"
elif [ -n "${GEMINI_API_KEY:-}${GOOGLE_API_KEY:-}" ]; then profile=economy
elif [ -n "${ANTHROPIC_API_KEY:-}" ]; then profile=anthropic
elif [ -n "${OPENAI_API_KEY:-}" ]; then profile=openai
fi
if [ -n "$profile" ]; then
  echo "== candor generate: a real run (profile $profile): one social hook and one email, practitioner voice"
  $candor generate --profile "$profile" --pipeline standard --pain-file examples/pain/flaky-tests.md \
    --doc examples/product/tideline.md --assets social_hook,email_copy --voices practitioner-community
else
  echo "== No provider key is set, so no real generation. To run one, set any of:"
  echo "     export GEMINI_API_KEY=...      (or GOOGLE_API_KEY; uses the economy profile)"
  echo "     export ANTHROPIC_API_KEY=...   (the anthropic profile)"
  echo "     export OPENAI_API_KEY=...      (the openai profile)"
  echo "     export CANDOR_PROFILE=local    (a local Ollama, llama.cpp or vLLM server at OPENAI_BASE_URL)"
  echo "   and run 'make demo' again."
  echo
  echo "== candor generate --pipeline straight-through: a bundled draft scored, gated and stored, no LLM"
  $candor generate --pipeline straight-through --pain-file examples/pain/flaky-tests.md \
    --doc examples/product/tideline.md --assets one_pager --voices practitioner-community,product-launch \
    --text examples/drafts/05-one-pager-specific.md
fi
echo
echo "== candor assets list, and the stored asset with its traceability (trimmed)"
$candor assets list
id=$($candor sql "SELECT id FROM messaging_assets ORDER BY created_at LIMIT 1" --json 2>/dev/null \
     | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -1)
[ -n "$id" ] && $candor assets export "$id" --format md | head -30
echo "..."
echo
echo "Try it on your own text:  build/candor score --voice product-launch --explain my-draft.md"
echo "Generate:                 build/candor generate --pain 'your pain' --assets all --voices all"
echo "In CI:                    build/candor score --gates --format sarif drafts/*.md > candor.sarif"
