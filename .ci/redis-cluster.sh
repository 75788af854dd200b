#!/usr/bin/env bash
# Starts (or reuses) a three-master Redis Cluster on loopback from Debian's
# redis-server, for the Cluster integration tests, and prints the variable
# they read:
#
#	REDIS_CLUSTER_ADDRS=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002
#
# Use: eval "$(.ci/redis-cluster.sh)". Idempotent: a cluster already
# answering with all slots served is reused; anything else on these ports
# that is not a healthy cluster is reset. Ports: REDIS_CLUSTER_PORTS
# (default "7000 7001 7002"); files under /tmp/switchyard-redis-cluster.
# Progress goes to stderr, the variable to stdout; exit status 1 when the
# cluster did not come up.
set -euo pipefail
. "$(dirname "$0")/redis-lib.sh"

PORTS=(${REDIS_CLUSTER_PORTS:-7000 7001 7002})
DIR=${REDIS_CLUSTER_DIR:-/tmp/switchyard-redis-cluster}
addrs=$(printf '127.0.0.1:%s,' "${PORTS[@]}")
addrs=${addrs%,}

healthy() {
	local p
	for p in "${PORTS[@]}"; do
		replies "$p" 'cluster_state:ok' CLUSTER INFO || return 1
		replies "$p" "cluster_known_nodes:${#PORTS[@]}" CLUSTER INFO || return 1
	done
}

done_() {
	echo "REDIS_CLUSTER_ADDRS=$addrs"
	exit 0
}

if healthy; then
	echo "redis cluster answers at $addrs" >&2
	done_
fi

ensure_redis_server
mkdir -p "$DIR"
start_node() {
	local p=$1
	cat >"$DIR/$p.conf" <<CONF
port $p
bind 127.0.0.1
daemonize yes
cluster-enabled yes
cluster-config-file $DIR/nodes-$p.conf
cluster-node-timeout 2000
save ""
appendonly no
dir $DIR
pidfile $DIR/$p.pid
logfile $DIR/$p.log
CONF
	redis-server "$DIR/$p.conf"
}
known=0 # nodes started from a nodes-*.conf that names the others
for p in "${PORTS[@]}"; do
	if ! up "$p"; then
		grep -qs master "$DIR/nodes-$p.conf" && known=$((known + 1))
		start_node "$p"
	fi
done
for p in "${PORTS[@]}"; do
	wait_for 5 up "$p" || { echo "warning: redis cluster node on port $p did not start (see $DIR/$p.log)" >&2; exit 1; }
done
# Nodes restarted from their nodes-*.conf find each other again.
if [ "$known" -gt 0 ] && wait_for 5 healthy; then
	echo "redis cluster restarted at $addrs" >&2
	done_
fi

# (Re)create: empty every node, then assign the slots and join them.
echo "creating redis cluster at $addrs" >&2
for p in "${PORTS[@]}"; do
	rcmd "$p" FLUSHALL >/dev/null
	rcmd "$p" CLUSTER RESET HARD >/dev/null
done
if have_cli; then
	redis-cli --cluster create $(printf '127.0.0.1:%s ' "${PORTS[@]}") --cluster-replicas 0 --cluster-yes >"$DIR/create.log" 2>&1 ||
		{ echo "warning: redis-cli --cluster create failed (see $DIR/create.log)" >&2; exit 1; }
else
	n=${#PORTS[@]}
	for i in "${!PORTS[@]}"; do
		rcmd "${PORTS[$i]}" CLUSTER ADDSLOTSRANGE $((16384 * i / n)) $((16384 * (i + 1) / n - 1)) >/dev/null
		[ "$i" -gt 0 ] && rcmd "${PORTS[$i]}" CLUSTER MEET 127.0.0.1 "${PORTS[0]}" >/dev/null
	done
fi
if wait_for 15 healthy; then
	echo "redis cluster created at $addrs" >&2
	done_
fi
echo "warning: redis cluster at $addrs is not healthy (see $DIR/*.log)" >&2
exit 1
