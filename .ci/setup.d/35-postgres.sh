#!/usr/bin/env bash
# PostgreSQL: proves the monitoring hub writes to any SQLAlchemy URL, not only SQLite.
exec bash "$(dirname "$0")/../infra/postgres-up.sh"
