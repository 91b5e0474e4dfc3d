#!/usr/bin/env bash
# Measures `weiche audit verify` over a log of N entries (default 1,000,000): wall time and peak
# memory. Uses a throwaway embedded PostgreSQL under a temporary WEICHE_HOME.
#
#   swift build -c release --product weiche
#   Tests/Benchmarks/audit-verify.sh [ENTRIES]
set -euo pipefail
cd "$(dirname "$0")/../.."
entries="${1:-1000000}"
weiche="$PWD/.build/release/weiche"
[ -x "$weiche" ] || { echo "build it first: swift build -c release --product weiche" >&2; exit 2; }
home="$(mktemp -d /tmp/weiche-audit-bench.XXXXXX)"
chmod 755 "$home"
export WEICHE_HOME="$home"
trap '"$weiche" db stop >/dev/null 2>&1 || true; rm -rf "$home"' EXIT

"$weiche" migrate >/dev/null
psql_bin="$(dirname "$(ls /usr/lib/postgresql/*/bin/psql | head -1)")/psql"
socket="$(find "$home" -name '.s.PGSQL.*' -printf '%h\n' | head -1)"
batch=10000
echo "appending $entries entries in batches of $batch through audit_append…"
start=$(date +%s.%N)
for ((done = 0; done < entries; done += batch)); do
  "$psql_bin" -h "$socket" -U weiche -d weiche -q -X -v ON_ERROR_STOP=1 -c "
    SELECT audit_append((SELECT jsonb_agg(jsonb_build_object(
      'at', now(), 'actor', 'bench', 'kind', 'delivered', 'agency', 'jugendamt',
      'details', jsonb_build_object('attempts', '1', 'n', ($done + g)::text)))
      FROM generate_series(1, $batch) g))" >/dev/null
done
echo "appended in $(echo "$(date +%s.%N) - $start" | bc) s"
/usr/bin/time -v "$weiche" audit verify 2> "$home/time.txt"
grep -E "Elapsed|Maximum resident" "$home/time.txt"
