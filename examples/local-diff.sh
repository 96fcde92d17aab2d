#!/usr/bin/env bash
# How does my working tree change the security of our Cloud Run workloads? Plans the Terraform
# directory given (default: the current one) and shows runguard's report, paged, in colour.
#
#   examples/local-diff.sh [TF_DIR] [runguard options, e.g. --all or --format json]
set -euo pipefail

dir=${1:-.}
shift || true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

terraform -chdir="$dir" plan -input=false -lock=false -out="$work/tfplan" >/dev/null
terraform -chdir="$dir" show -json "$work/tfplan" > "$work/plan.json"

status=0
runguard "$work/plan.json" --tf-dir "$dir" --color always "$@" | less -R || status=${PIPESTATUS[0]}
exit "$status"
