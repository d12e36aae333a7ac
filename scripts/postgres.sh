# shellcheck shell=bash
# ensure_postgres prints the URL of a PostgreSQL database the tests may use,
# starting a stopped local server or installing one from Debian's packages
# when none answers. Diagnostics go to stderr.

pg_answers() { psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }

ensure_postgres() {
  local trust="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
  local owned="postgres://tiski:tiski@127.0.0.1:5432/tiski_test?sslmode=disable"
  if ! command -v psql >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "installing PostgreSQL from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "starting PostgreSQL" >&2
    local version
    version="$(ls /etc/postgresql | sort -V | tail -1)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  if pg_answers "$owned"; then echo "$owned"; return; fi
  # Create the tests' own role and database, as the postgres superuser over
  # trust auth if this machine allows it, else through the local socket.
  local admin=(psql "$trust" -v ON_ERROR_STOP=1 -Atq)
  if ! pg_answers "$trust"; then admin=(su postgres -c "psql -v ON_ERROR_STOP=1 -Atq" --); fi
  echo "creating role and database tiski_test" >&2
  "${admin[@]}" -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tiski') THEN CREATE ROLE tiski LOGIN PASSWORD 'tiski'; END IF; END \$\$;" >&2
  if [ -z "$("${admin[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'tiski_test'")" ]; then
    "${admin[@]}" -c "CREATE DATABASE tiski_test OWNER tiski" >&2
  fi
  pg_answers "$owned" || { echo "PostgreSQL still does not accept $owned" >&2; return 1; }
  echo "$owned"
}
