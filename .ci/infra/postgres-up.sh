#!/usr/bin/env bash
# PostgreSQL for the monitoring tests: Debian's server on 127.0.0.1:5432 with a database
# `parsl_monitoring` owned by user `parsl` (password `parsl`). Idempotent.
#
#   bash .ci/infra/postgres-up.sh        install if needed, start, create user and database
#   bash .ci/infra/postgres-up.sh down   stop it
#
# Tests find it through PARSL_TEST_POSTGRES_URL (default
# postgresql://parsl:parsl@127.0.0.1:5432/parsl_monitoring).
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)

if [ "${1:-up}" = down ]; then
  pg_ctlcluster "$version" main stop 2>/dev/null || true
  exit 0
fi

# No init system here: the package's postinst created the cluster but could not start it.
[ -d "/etc/postgresql/$version/main" ] || pg_createcluster "$version" main >/dev/null
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
  pg_ctlcluster "$version" main start
fi
for _ in $(seq 50); do
  su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
  sleep 0.2
done
su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='parsl'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"create user parsl with password 'parsl' createdb\""
su postgres -c "psql -qtAc \"select 1 from pg_database where datname='parsl_monitoring'\"" | grep -q 1 ||
  su postgres -c "createdb -O parsl parsl_monitoring"
echo "postgresql $version on 127.0.0.1:5432 (database parsl_monitoring, user parsl)"
