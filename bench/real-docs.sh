#!/usr/bin/env bash
# Unpack a few of Debian's HTML manuals, each made by another docs toolchain, for
# `bench/throughput.py --site-dir` and `bench/concurrency.py --site-dir`:
#
#     bench/real-docs.sh [DIR]        # default /tmp/real-docs
#
#   DIR/postgresql  PostgreSQL 15's manual (DocBook XSL, 1,169 pages)
#   DIR/python      Python 3.11's documentation (Sphinx, about 530 pages)
#   DIR/git         Git's documentation (AsciiDoc, about 200 pages)
#
# `apt-get download` fetches the packages without installing them (nothing is configured or
# started); the package lists must be there (`apt-get update`).
set -euo pipefail

dest="${1:-/tmp/real-docs}"
packages=(postgresql-doc-15 python3.11-doc git-doc)
work="$dest/.packages"
mkdir -p "$work"
cd "$work"
for package in "${packages[@]}"; do
    if ! ls "${package}"_*.deb >/dev/null 2>&1; then
        apt-get download "$package"
    fi
    dpkg-deb -x "${package}"_*.deb "$work/root"
done
ln -sfn "$work/root/usr/share/doc/postgresql-doc-15/html" "$dest/postgresql"
ln -sfn "$work/root/usr/share/doc/python3.11/html" "$dest/python"
ln -sfn "$work/root/usr/share/doc/git-doc" "$dest/git"
for name in postgresql python git; do
    echo "$dest/$name: $(find -L "$dest/$name" -name '*.html' | wc -l) HTML files"
done
