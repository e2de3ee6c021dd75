#!/bin/sh
# make demo: a fresh database in a temporary directory, the bundled example
# workflow writing and reading real rows, and a look at what it left behind.
set -eu
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/candor-demo-XXXXXX)
trap 'rm -rf "$dir"' EXIT
export CANDOR_DB="$dir/candor.db"
candor=build/candor

echo "== candor init (database in $dir)"
$candor init
echo
echo "== candor run examples/demo"
$candor run examples/demo --param title="Our staging deploys take 45 minutes"
echo
echo "== candor sql: the pain point and job the workflow wrote"
$candor sql "SELECT p.title, p.source_type, j.status, j.progress
             FROM generation_jobs j JOIN discovered_pain_points p ON p.id = j.pain_point_id"
echo
echo "== candor sql: quality gates per voice (from the seeded voice profiles)"
$candor sql "SELECT name,
                    json_extract(scoring_thresholds, '$.slopMax') AS slop_max,
                    json_extract(scoring_thresholds, '$.vendorSpeakMax') AS vendor_speak_max,
                    json_extract(scoring_thresholds, '$.authenticityMin') AS authenticity_min
             FROM voice_profiles ORDER BY name"
echo
echo "== candor repl (piped)"
printf '%s\n' 'repo.persona_critics.count { is_active = true }' \
              'db:value("SELECT count(*) FROM sqlite_schema WHERE type = '"'"'table'"'"'")' | $candor repl
echo
echo "Done. Try it yourself: export CANDOR_DB=/tmp/mine.db; build/candor init; build/candor repl"
