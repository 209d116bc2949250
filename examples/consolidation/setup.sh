#!/bin/sh
# Builds the US ERP's SQLite database from its SQL dump (data/us.sql).
set -e
cd "$(dirname "$0")"
rm -f data/us.db
sqlite3 data/us.db < data/us.sql
echo "examples/consolidation/data/us.db ready"
