#!/usr/bin/env bash
# The servers the tests talk to: PostgreSQL with PostGIS on 127.0.0.1:5432 (user postgres) and
# the Mosquitto MQTT broker on 127.0.0.1:1883.
# Installs (Debian packages) and starts what is missing; does nothing when all is there.
set -euo pipefail

PGHOST=127.0.0.1
PGPORT=5432
export DEBIAN_FRONTEND=noninteractive

apt_install() {
    if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
    apt-get install -y -qq "$@" >/dev/null
}

ask() {
    psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -Atqc "$1"
}

if ! command -v pg_ctlcluster >/dev/null; then
    echo "services: installing PostgreSQL"
    apt_install postgresql
fi
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
    cluster=$(pg_lsclusters -h | awk '$3 == 5432 {print $1" "$2; exit}')
    if [ -z "$cluster" ]; then
        version=$(ls /usr/lib/postgresql | sort -V | tail -1)
        pg_createcluster "$version" main --port 5432 >/dev/null
        cluster="$version main"
    fi
    echo "services: starting PostgreSQL $cluster"
    pg_ctlcluster $cluster start
    for _ in $(seq 50); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 0.2; done
fi
if ! ask "SELECT 1" >/dev/null 2>&1; then
    # A cluster set up by the distribution asks for a password on TCP: trust local TCP instead.
    cluster=$(pg_lsclusters -h | awk '$3 == 5432 {print $1" "$2; exit}')
    hba=$(su postgres -c "psql -Atqc 'SHOW hba_file'")
    echo "services: trusting 127.0.0.1 in $hba"
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster $cluster reload
fi
if [ -z "$(ask "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")" ]; then
    major=$(ask "SHOW server_version_num" | cut -c1-2)
    echo "services: installing PostGIS for PostgreSQL $major"
    apt_install "postgresql-$major-postgis-3"
fi

if ! command -v mosquitto >/dev/null; then
    echo "services: installing Mosquitto"
    apt_install mosquitto
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
    echo "services: starting Mosquitto on 127.0.0.1:1883"
    mosquitto -d
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.1; done
fi
