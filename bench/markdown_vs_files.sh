#!/bin/bash
# The Markdown export of client `big` against bare Python writing the same tree of files
# (bench/store_scale.py's WRITE_FILES), and optionally an older checkout's export, in rotating
# order for 3 rounds; wall seconds of each whole process. Output goes to a scratch directory
# removed (rm -rf, sync) between runs.
#   bash bench/markdown_vs_files.sh STORE.db [BEFORE_CHECKOUT]
set -eu
store=$1
before=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
py=$root/.venv/bin/python
out=$(mktemp -d)/md
unset PYTHONDONTWRITEBYTECODE
pages=$("$py" -c "import sqlite3, sys; c = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True); print(c.execute(\"SELECT COUNT(*) FROM page JOIN client ON client.id = page.client_id WHERE slug = 'big'\").fetchone()[0])" "$store")
write_files=$(cd "$root" && "$py" -c "import bench.store_scale as s; print(s.WRITE_FILES)")
export_with() {  # the checkout whose docscrawl exports
    PYTHONPATH=$1 "$py" -c "import sys, control.cli; sys.argv[0] = 'docscrawl'; control.cli.main()" \
        --db "$store" export --client-slug big --format markdown --out "$out" >/dev/null
}
run() {
    case $1 in
        before) export_with "$before" ;;
        after) export_with "$root" ;;
        files) "$py" -c "$write_files" "$out" "$pages" ;;
    esac
}
sides="after files"
[ -n "$before" ] && sides="before after files"
export_with "$root" >/dev/null && rm -rf "$out"  # warms the store's pages
set -- $sides
for round in 1 2 3; do
    for side in "$@"; do
        start=$(date +%s.%N)
        run "$side"
        end=$(date +%s.%N)
        printf "round %s  %-6s %7.1f s  %s pages\n" "$round" "$side" "$(echo "$end - $start" | bc)" "$pages"
        rm -rf "$out"
        sync
    done
    set -- "${@:2}" "$1"  # the next round starts with the next side
done
rmdir "$(dirname "$out")"
