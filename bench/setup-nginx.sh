#!/usr/bin/env bash
# Install nginx from Debian's packages for bench/throughput.py, which serves its synthetic site
# with nginx when it is installed (and with a Python server otherwise). Needs root or sudo.
#
#     bench/setup-nginx.sh
set -euo pipefail

nginx_path() {
    command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}

if [ -n "$(nginx_path)" ]; then
    echo "nginx is already installed: $("$(nginx_path)" -v 2>&1)"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi

# The benchmark starts its own nginx on a free loopback port with its own nginx.conf: keep the
# package from starting the system-wide service on port 80 while it installs.
policy=/usr/sbin/policy-rc.d
added_policy=0
cleanup() {
    if [ "$added_policy" = 1 ]; then
        $sudo rm -f "$policy"
    fi
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    added_policy=1
fi

$sudo apt-get update
# nginx-light is the smallest build (Debian 12 and older); newer releases only have nginx.
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light ||
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx

echo "installed: $("$(nginx_path)" -v 2>&1)"
