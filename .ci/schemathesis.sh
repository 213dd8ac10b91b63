#!/usr/bin/env bash
# Schemathesis against `sync-cli serve`: every operation of the OpenAPI document, all checks,
# a fixed seed and a bounded number of examples per operation. Zero failures expected.
#
# Creates its own virtual environment with the pinned schemathesis (CPython 3.12 from pyenv
# when present: 3.11 intermittently crashes hypothesis), builds sync-cli, starts the server
# on a free port with generated data, runs, and always stops the server.
#
# Environment: SCHEMATHESIS_VENV (default target/schemathesis-venv), SYNC_CLI (a built
# sync-cli to use instead of building one), ST_EXAMPLES (default 100), ST_SEED (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
target="${CARGO_TARGET_DIR:-target}"
venv="${SCHEMATHESIS_VENV:-$target/schemathesis-venv}"
examples="${ST_EXAMPLES:-100}"
seed="${ST_SEED:-1}"

python=python3
pyenv_root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
for version in 3.12 3.13; do
  candidate="$(ls -d "$pyenv_root"/versions/"$version".*/bin/python3 2>/dev/null | sort -V | tail -1 || true)"
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then python="$candidate"; break; fi
done
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$venv/bin/st" --version

if [ -z "${SYNC_CLI:-}" ]; then
  cargo build --locked --release -p sync-cli
  SYNC_CLI="$target/release/sync-cli"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A free port: bind port 0, read it back, release it.
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
url="http://127.0.0.1:$port"
token=schemathesis-token
sandbox_token="$("$SYNC_CLI" tenant create sandbox --data "$work/data" --sandbox | tail -1)"

"$SYNC_CLI" serve --addr "127.0.0.1:$port" --data "$work/data" --token "school=$token" \
  --max-body-mb 1 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null "$url/openapi.json"; then break; fi
  sleep 0.2
done
curl -fsS -o /dev/null "$url/openapi.json"

# The data every operation reads: contracts, a session model, an absence, the cycles.
"$SYNC_CLI" gen --contracts 50 --out "$work/gen" >/dev/null
auth=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")
curl -fsS -o /dev/null "${auth[@]}" -X POST --data-binary "@$work/gen/previous.json" "$url/api/sync/v2/contrats"
first="$("$python" -c 'import json, sys; c = json.load(open(sys.argv[1]))[0]; print(json.dumps([c["codeFormation"], c["codeAnnee"], c["emailApprenant"]]))' "$work/gen/previous.json")"
model="$("$python" -c 'import json, sys; f, a, _ = json.loads(sys.argv[1]); print(json.dumps([{"codeFormation": f, "codeAnnee": a}]))' "$first")"
curl -fsS -o /dev/null "${auth[@]}" -X PUT --data "$model" "$url/api/sync/v1/session-models"
absence="$("$python" -c 'import json, sys; e = json.loads(sys.argv[1])[2]; print(json.dumps({"email": e, "data": [{"dateDebut": "02/09/2024-08:30", "dateFin": "02/09/2024-12:30", "type": "absence", "isJusitifie": False, "motif": "transport"}]}))' "$first")"
curl -fsS -o /dev/null "${auth[@]}" -X POST --data "$absence" "$url/api/sync/v1/absences-for-student"
"$SYNC_CLI" lms-import crates/sync-cli/tests/data/cycles.json --url "$url" --token "$token" >/dev/null

# Every operation but DELETE on the school's data, then DELETE alone on the sandbox tenant.
st=("$venv/bin/st" --config-file .ci/schemathesis.toml run "$url/openapi.json" --checks all --seed "$seed" --max-examples "$examples"
    --no-shrink --workers 2)
status=0
"${st[@]}" -H "Authorization: Bearer $token" --exclude-method DELETE || status=$?
"${st[@]}" -H "Authorization: Bearer $sandbox_token" --include-method DELETE || status=$?
if [ "$status" -ne 0 ]; then
  echo "schemathesis failed; the server's log:" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
