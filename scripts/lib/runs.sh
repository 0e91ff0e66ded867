# Shell helpers about run folders, sourced by scripts/reproduce.sh and
# scripts/save-logs.sh.

# run_finished DIR: whether the run in DIR has logged every epoch of its
# config.json, or diverged (diverged.json): either way training it again
# would not add to its log.
run_finished() {
  [ -f "$1/diverged.json" ] && return 0
  [ -f "$1/config.json" ] && [ -f "$1/metrics.jsonl" ] || return 1
  local want have
  want=$(node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).epochs))' "$1/config.json") || return 1
  have=$(grep -c . "$1/metrics.jsonl" || true)
  [ "$have" -ge "$want" ]
}
