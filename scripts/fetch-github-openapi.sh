#!/usr/bin/env bash
# Fetch GitHub's OpenAPI description (npm package @octokit/openapi) into
# .cache/octokit-openapi/ so the fake GitHub server's payloads can be checked
# against it. Idempotent: does nothing when the document is already there.
#
#   scripts/fetch-github-openapi.sh                       # the pinned version below
#   OCTOKIT_OPENAPI_VERSION=latest scripts/fetch-github-openapi.sh
#
# The version is pinned so that a change in GitHub's description cannot break CI
# unannounced; bump it on purpose (delete .cache/octokit-openapi first).
#
# The document ends up at
#   .cache/octokit-openapi/node_modules/@octokit/openapi/generated/api.github.com.json
# (tests/fakes/openapi.py looks there, unless GITHUB_OPENAPI_JSON names a file).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${root}/.cache/octokit-openapi"
doc="${prefix}/node_modules/@octokit/openapi/generated/api.github.com.json"
package="@octokit/openapi@${OCTOKIT_OPENAPI_VERSION:-23.0.2}"

if [[ -s "${doc}" ]]; then
    echo "GitHub OpenAPI description already present: ${doc}"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm is required to fetch ${package} (install Node.js)" >&2
    exit 1
fi

mkdir -p "${prefix}"
npm install --prefix "${prefix}" "${package}" --no-audit --no-fund --loglevel=error

if [[ ! -s "${doc}" ]]; then
    echo "error: ${package} installed but ${doc} is missing" >&2
    exit 1
fi
echo "GitHub OpenAPI description: ${doc}"
