#!/usr/bin/env bash
# Copies the seed inputs into fuzz/corpus/<target>/ (git-ignored). Run from anywhere:
#   bash fuzz/seed.sh            # all targets
#   bash fuzz/seed.sh analyze    # one target
# Seeds: ../testdata/plans/*.json, ../testdata/not-a-plan/*, ../examples/plan.json and every
# file under ../../shared/corpus (skipped with a message when that directory is absent).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
shared="${RUNGUARD_SHARED_CORPUS:-$root/../shared/corpus}"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(parse analyze render_text render_json)

seeds=()
for f in "$root"/testdata/plans/*.json "$root"/testdata/not-a-plan/* "$root"/examples/plan.json; do
  [ -f "$f" ] && seeds+=("$f")
done
if [ -d "$shared" ]; then
  while IFS= read -r -d '' f; do seeds+=("$f"); done < <(find "$shared" -type f -print0 | sort -z)
else
  echo "seed.sh: $shared not found; seeding from testdata only" >&2
fi

for t in "${targets[@]}"; do
  dir="$here/corpus/$t"
  mkdir -p "$dir"
  for f in "${seeds[@]}"; do
    # Name each seed after its source path so two files called plan.json do not collide.
    case "$f" in
      "$shared"/*) rel="corpus/${f#"$shared"/}" ;;
      *) rel="${f#"$root"/}" ;;
    esac
    # install: writable copies even when shared/ has no write bits.
    install -m 0644 "$f" "$dir/seed-$(printf '%s' "$rel" | tr '/ ' '__')"
  done
  echo "seed.sh: $t: $(ls "$dir" | wc -l) files in $dir"
done
