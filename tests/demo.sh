#!/bin/sh
# make demo: score the bundled sample drafts against two voices, offline and
# instantly, in a fresh database in a temporary directory.
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/candor-demo-XXXXXX)
trap 'rm -rf "$dir"' EXIT
export CANDOR_DB="$dir/candor.db"
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
echo "== The same scores as JSON, for scripts (first file, trimmed)"
$candor score --format json examples/drafts/05-one-pager-specific.md | head -c 400
echo "..."
echo
echo "Try it on your own text:  build/candor score --voice product-launch --explain my-draft.md"
echo "In CI:                    build/candor score --gates --format sarif drafts/*.md > candor.sarif"
