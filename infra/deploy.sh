#!/usr/bin/env bash
# Deploys infra/handout.yml with the revocation function's code (cloudfront/revocation.js) put into it:
# CloudFormation takes a CloudFront Function's code only inline, so the template holds a placeholder
# line that this script replaces. Every argument goes on to `aws cloudformation deploy`:
#
#   infra/deploy.sh --stack-name handout --capabilities CAPABILITY_IAM \
#     --parameter-overrides PublicKey="$(cat keys/public_key.pem)" EnableRevocation=true
#
# `infra/deploy.sh --print-template` prints the template it would deploy, and deploys nothing.
# HANDOUT_REVOCATION_FUNCTION_FILE names another file for the function's code.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
template="$here/handout.yml"
code="${HANDOUT_REVOCATION_FUNCTION_FILE:-$here/../cloudfront/revocation.js}"

if [[ ! -f "$code" ]]; then
  echo "deploy.sh: $code does not exist, and the revocation function needs its code." >&2
  echo "Without revocation, deploy the template as it is: aws cloudformation deploy --template-file infra/handout.yml …" >&2
  exit 1
fi
# CloudFront Functions take at most 10 KB of code.
if (($(wc -c <"$code") > 10240)); then
  echo "deploy.sh: $code is larger than the 10 KB CloudFront allows a function." >&2
  exit 1
fi

rendered="$(mktemp "${TMPDIR:-/tmp}/handout-template.XXXXXX")"
trap 'rm -f "$rendered"' EXIT
# The placeholder line becomes the file's lines, each indented as the placeholder was.
awk -v code="$code" '
  /HANDOUT_REVOCATION_FUNCTION/ {
    match($0, /^ */)
    indent = substr($0, 1, RLENGTH)
    while ((getline line < code) > 0) print (line == "" ? "" : indent line)
    close(code)
    found = 1
    next
  }
  { print }
  END { if (!found) { print "deploy.sh: the template has no HANDOUT_REVOCATION_FUNCTION line" > "/dev/stderr"; exit 1 } }
' "$template" >"$rendered"

if [[ "${1:-}" == "--print-template" ]]; then
  cat "$rendered"
  exit 0
fi
aws cloudformation deploy --template-file "$rendered" "$@"
