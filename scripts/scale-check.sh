#!/usr/bin/env bash
# Scale-out check: two clinfer-server replicas behind nginx, one drained with SIGTERM under load.
#
#   scripts/scale-check.sh [SERVER_BINARY]      (default .build/release/clinfer-server; run as root
#                                               if nginx must be installed)
#
# Installs Debian's nginx if it is missing, starts two replicas on 127.0.0.1 (--slots 2
# --context 512 --shutdown-grace 20), fronts them with a throwaway nginx (its own config, pid, logs
# and temp paths in a temporary directory; 127.0.0.1 only; proxy_buffering off for SSE; passive
# health with max_fails; proxy_next_upstream error timeout http_503), then drives streaming chat
# completions through nginx and sends SIGTERM to replica 1 partway through. The load, the drain
# measurements and the report are scripts/scale_check.py's. Passes (exit 0) only if every request
# completed (200, every stream ends with [DONE] and no error event), replica 1 exited within its
# grace, and replica 2 took the traffic. Ends with "N passed, M failed" (requests).
#
# Environment: SCALE_CHECK_PORT (nginx port, default 18090; replicas on +1 and +2),
# SCALE_CHECK_DURATION (seconds of load, default 40), SCALE_CHECK_KILL_AT (seconds into the load
# when replica 1 gets SIGTERM, default 15), SCALE_CHECK_CONCURRENCY (clients, default 6),
# SCALE_CHECK_MAX_TOKENS (per request, default 24), SCALE_CHECK_GRACE (--shutdown-grace, default
# 20), SCALE_CHECK_RETRY_POST (1, the default: nginx may retry a POST on the other replica when the
# first one failed before answering anything -- generation is stateless, so this is safe; 0 leaves
# nginx's default, no retry of non-idempotent requests), SCALE_CHECK_KEEP=1 keeps the temporary
# directory (configs and logs).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/release/clinfer-server}
lb_port=${SCALE_CHECK_PORT:-18090}
port1=$((lb_port + 1))
port2=$((lb_port + 2))
duration=${SCALE_CHECK_DURATION:-40}
kill_at=${SCALE_CHECK_KILL_AT:-15}
concurrency=${SCALE_CHECK_CONCURRENCY:-6}
max_tokens=${SCALE_CHECK_MAX_TOKENS:-24}
grace=${SCALE_CHECK_GRACE:-20}
retry_post=${SCALE_CHECK_RETRY_POST:-1}

[ -x "$binary" ] || { echo "scale-check: no executable server binary at $binary" >&2; exit 2; }
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")

# --- nginx -----------------------------------------------------------------------------------
nginx_bin=$(PATH="$PATH:/usr/sbin:/sbin" command -v nginx || true)
if [ -z "$nginx_bin" ]; then
    [ "$(id -u)" = 0 ] || { echo "scale-check: nginx is missing and we are not root to install it" >&2; exit 2; }
    echo "scale-check: installing nginx (apt-get)" >&2
    # Never let the package start the system nginx (port 80): a policy-rc.d that denies it, unless one exists.
    policy_created=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy_created=1
    fi
    install_status=0
    { timeout 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends nginx >/dev/null; } || install_status=$?
    [ "$policy_created" = 1 ] && rm -f /usr/sbin/policy-rc.d
    [ "$install_status" = 0 ] || { echo "scale-check: installing nginx failed ($install_status)" >&2; exit 2; }
    nginx_bin=$(PATH="$PATH:/usr/sbin:/sbin" command -v nginx)
fi

for port in "$lb_port" "$port1" "$port2"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "scale-check: 127.0.0.1:$port is already in use (set SCALE_CHECK_PORT)" >&2; exit 2
    fi
done

work=$(mktemp -d /tmp/clinfer-scale-check.XXXXXX)
chmod 755 "$work"    # nginx workers run as nobody and need to reach their temp paths

stop_pid() {    # stop_pid PIDFILE NAME: TERM, up to 30 s, then KILL -- only our own process
    local file=$1 name=$2 pid
    [ -s "$file" ] || return 0
    pid=$(cat "$file")
    grep -q "$name" "/proc/$pid/cmdline" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 60); do
        [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_pid "$work/nginx.pid" nginx
    stop_pid "$work/replica1.pid" clinfer-server
    stop_pid "$work/replica2.pid" clinfer-server
    if [ "${SCALE_CHECK_KEEP:-0}" = 1 ]; then echo "scale-check: kept $work" >&2; else rm -rf "$work"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

retry_flag=""
[ "$retry_post" = 1 ] && retry_flag=" non_idempotent"
cat >"$work/nginx.conf" <<EOF
# Throwaway nginx for scripts/scale-check.sh: loopback only, everything under $work.
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log notice;
events { worker_connections 512; }
http {
    log_format upstreams '\$msec "\$request" \$status \$request_time upstream=\$upstream_addr upstream_status=\$upstream_status';
    access_log $work/nginx-access.log upstreams;
    client_body_temp_path $work/client_body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;

    upstream clinfer {
        least_conn;
        # Passive health: one failure (refused connection, timeout, 503) takes a replica out for 30 s.
        server 127.0.0.1:$port1 max_fails=1 fail_timeout=30s;
        server 127.0.0.1:$port2 max_fails=1 fail_timeout=30s;
    }
    server {
        listen 127.0.0.1:$lb_port;
        location / {
            proxy_pass http://clinfer;
            proxy_http_version 1.1;
            proxy_buffering off;                # SSE: pass each token on at once
            proxy_connect_timeout 2s;
            proxy_read_timeout 120s;
            proxy_next_upstream error timeout http_503$retry_flag;
            proxy_next_upstream_tries 2;
            proxy_next_upstream_timeout 10s;
            add_header X-Upstream \$upstream_addr always;   # which replica answered (the load client counts it)
        }
    }
}
EOF
"$nginx_bin" -t -q -e "$work/nginx-error.log" -p "$work" -c "$work/nginx.conf"
"$nginx_bin" -e "$work/nginx-error.log" -p "$work" -c "$work/nginx.conf"    # daemonizes; pid in $work/nginx.pid
for _ in $(seq 1 20); do [ -s "$work/nginx.pid" ] && break; sleep 0.25; done
[ -s "$work/nginx.pid" ] || { echo "scale-check: nginx did not start" >&2; cat "$work/nginx-error.log" >&2; exit 1; }

# --- replicas, load, drain, report (the Python helper starts and stops the replicas) ---------
status=0
timeout --signal=TERM --kill-after=60 $((duration + grace + 420)) \
    python3 scripts/scale_check.py --binary "$binary" --work "$work" \
        --lb "127.0.0.1:$lb_port" --replica "127.0.0.1:$port1" --replica "127.0.0.1:$port2" \
        --server-args "--slots 2 --context 512 --shutdown-grace $grace" --grace "$grace" \
        --duration "$duration" --kill-at "$kill_at" --concurrency "$concurrency" --max-tokens "$max_tokens" \
        --nginx-log "$work/nginx-access.log" || status=$?
exit "$status"
