#!/usr/bin/env bash
# Compare tool (issue 6): generates N contracts twice with `sync-cli gen`, writes the same pair as
# CSV, then times, in one run and on the same machine:
#   1. `sync-cli diff` on the JSON pair (text output);
#   2. the floor: reading and parsing the same JSON pair and nothing else, with sync-core's
#      parser;
#   3. the bound: the floor, then `sync_core::diff` of the two parsed files, with no
#      validation (what the CLI would cost if it checked nothing);
#   4. the reference parse of DESIGN 7's figures: the same pair parsed by serde_json into
#      structs of borrowed strings, one file per thread;
#   5. the peer: the csv-diff crate (the engine behind `qsv diff`) on the CSV pair, keyed on
#      the contract code.
# It prints wall time and peak memory (max RSS, from /usr/bin/time) of each, and the ratios.
# With RUNS=R (default 1), the five are run R times in turn and each figure is the median of
# its R runs (peak memory: the largest): the machine's speed moves within a minute, and runs in
# turn see the same moments.
#
#   bash benches/compare.sh [N]        (default N = 1000000; data under target/compare-N)
#   RUNS=7 bash benches/compare.sh     (medians of seven rounds)
set -euo pipefail
cd "$(dirname "$0")/.."

n="${1:-1000000}"
dir="target/compare-$n"
mkdir -p "$dir"

echo "building (release)..." >&2
cargo build --release --quiet -p sync-cli
cargo build --release --quiet -p sync-benches --example parse_only --example parse_diff \
  --example serde_parse \
  --example to_csv --example csv_peer
bin=target/release
ex=target/release/examples

if [[ ! -s "$dir/current.csv" ]]; then
  echo "generating $n contracts in $dir..." >&2
  "$bin/sync-cli" gen --contracts "$n" --seed 1 --out "$dir" >/dev/null
  "$ex/to_csv" "$dir/previous.json" "$dir/previous.csv"
  "$ex/to_csv" "$dir/current.json" "$dir/current.csv"
fi

# The four files are read once before anything is timed, so that no run pays for bringing them
# from disk into the page cache and the others not.
cat "$dir/previous.json" "$dir/current.json" "$dir/previous.csv" "$dir/current.csv" >/dev/null

# measure NAME COMMAND...: runs the command once, output discarded, and records wall seconds
# (appended to the run's list) and peak memory in MB (the largest so far).
declare -A walls rss
measure() {
  local name="$1"; shift
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" >"$dir/$name.out"
  read -r w kb <"$dir/time.txt"
  walls[$name]="${walls[$name]:-} $w"
  rss[$name]=$(( ${rss[$name]:-0} > kb / 1024 ? ${rss[$name]:-0} : kb / 1024 ))
}

runs="${RUNS:-1}"
for ((round = 1; round <= runs; round++)); do
  measure cli "$bin/sync-cli" diff "$dir/previous.json" "$dir/current.json" --format text
  measure floor "$ex/parse_only" "$dir/previous.json" "$dir/current.json"
  measure bound "$ex/parse_diff" "$dir/previous.json" "$dir/current.json"
  measure serde "$ex/serde_parse" "$dir/previous.json" "$dir/current.json"
  measure peer "$ex/csv_peer" "$dir/previous.csv" "$dir/current.csv"
done

# The median of the run's wall times, and all of them when there are several.
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A wall
for name in cli floor bound serde peer; do
  wall[$name]=$(echo "${walls[$name]}" | median)
done

json_mb=$(( ($(stat -c %s "$dir/previous.json") + $(stat -c %s "$dir/current.json")) / 1048576 ))
csv_mb=$(( ($(stat -c %s "$dir/previous.csv") + $(stat -c %s "$dir/current.csv")) / 1048576 ))
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a " }'; }

echo "compare: $n contracts per file; JSON pair ${json_mb} MB, CSV pair ${csv_mb} MB; $(nproc) cores; median of $runs run(s) in turn"
printf '%-34s %8s %10s\n' "run" "wall s" "peak MB"
printf '%-34s %8s %10s\n' "sync-cli diff (JSON)" "${wall[cli]}" "${rss[cli]}"
printf '%-34s %8s %10s\n' "floor: read + parse (JSON)" "${wall[floor]}" "${rss[floor]}"
printf '%-34s %8s %10s\n' "bound: parse + diff, unchecked" "${wall[bound]}" "${rss[bound]}"
printf '%-34s %8s %10s\n' "serde_json parse (JSON)" "${wall[serde]}" "${rss[serde]}"
printf '%-34s %8s %10s\n' "peer: csv-diff (CSV)" "${wall[peer]}" "${rss[peer]}"
echo "sync-cli / floor: $(ratio "${wall[cli]}" "${wall[floor]}")x time (target <= 1.3)"
echo "bound / floor: $(ratio "${wall[bound]}" "${wall[floor]}")x time (the diff alone, before any validation)"
echo "sync-cli / serde_json parse: $(ratio "${wall[cli]}" "${wall[serde]}")x time (DESIGN 7's reference parsers)"
echo "sync-cli / peer:  $(ratio "${wall[cli]}" "${wall[peer]}")x time (target < 1)"
echo "sync-cli peak memory / JSON pair size: $(ratio "${rss[cli]}" "$json_mb")x (target < 1.5)"
head -1 "$dir/cli.out" | sed 's/^/sync-cli says: /'
sed 's/^/peer says: /' "$dir/peer.out"
if ((runs > 1)); then
  for name in cli floor bound serde peer; do
    echo "runs, $name (s):${walls[$name]}"
  done
fi
