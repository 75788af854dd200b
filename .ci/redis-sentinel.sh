#!/usr/bin/env bash
# Starts (or reuses) a Sentinel-watched Redis primary and replica on
# loopback from Debian's redis-server, for the Sentinel integration tests,
# and prints the variables they read:
#
#	REDIS_SENTINEL_ADDRS=127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381
#	REDIS_SENTINEL_MASTER=mymaster
#
# Use: eval "$(.ci/redis-sentinel.sh)". Data nodes on ports 6380 and 6381
# (REDIS_SENTINEL_DATA_PORTS; the first starts as the primary), three
# Sentinels on 26379-26381 (REDIS_SENTINEL_PORTS) with quorum 2, a primary
# declared down after 1 s; files under /tmp/switchyard-redis-sentinel.
# Idempotent: a group whose Sentinels agree on a primary that has a replica
# is reused, whichever node is primary after a failover; anything else on
# these ports is shut down and started afresh. Progress goes to stderr, the
# variables to stdout; exit status 1 when the group did not come up.
set -euo pipefail
. "$(dirname "$0")/redis-lib.sh"

DATA=(${REDIS_SENTINEL_DATA_PORTS:-6380 6381})
SENT=(${REDIS_SENTINEL_PORTS:-26379 26380 26381})
NAME=${REDIS_SENTINEL_MASTER:-mymaster}
DIR=${REDIS_SENTINEL_DIR:-/tmp/switchyard-redis-sentinel}
addrs=$(printf '127.0.0.1:%s,' "${SENT[@]}")
addrs=${addrs%,}

# healthy: every Sentinel knows the others and can reach a quorum, the
# primary they name says it is one and has its replicas online.
healthy() {
	local s master
	for s in "${SENT[@]}"; do
		replies "$s" '^(\+)?OK' SENTINEL CKQUORUM "$NAME" || return 1
	done
	master=$(rcmd "${SENT[0]}" SENTINEL GET-MASTER-ADDR-BY-NAME "$NAME" | grep -E '^[0-9]+$' | tail -n 1) || return 1
	[ -n "$master" ] || return 1
	replies "$master" 'role:master' INFO replication || return 1
	replies "$master" "connected_slaves:$((${#DATA[@]} - 1))" INFO replication || return 1
	replies "$master" 'state=online' INFO replication || return 1
	local n
	n=$(rcmd "${SENT[0]}" SENTINEL SENTINELS "$NAME" | grep -c '^name$' || true)
	[ "$n" -ge $((${#SENT[@]} - 1)) ] || return 1
}

done_() {
	echo "REDIS_SENTINEL_ADDRS=$addrs"
	echo "REDIS_SENTINEL_MASTER=$NAME"
	exit 0
}

if healthy; then
	echo "redis sentinel group $NAME answers at $addrs" >&2
	done_
fi

ensure_redis_server
echo "starting redis sentinel group $NAME at $addrs" >&2
for p in "${SENT[@]}" "${DATA[@]}"; do stop_port "$p"; done
rm -rf "$DIR"
mkdir -p "$DIR"
primary=${DATA[0]}
server=$(command -v redis-server) # absolute: INFO's executable, for restarts
for p in "${DATA[@]}"; do
	{
		echo "port $p"
		echo "bind 127.0.0.1"
		echo "daemonize yes"
		echo 'save ""'
		echo "appendonly no"
		echo "repl-diskless-sync-delay 0"
		echo "dir $DIR"
		echo "pidfile $DIR/$p.pid"
		echo "logfile $DIR/$p.log"
		[ "$p" != "$primary" ] && echo "replicaof 127.0.0.1 $primary"
	} >"$DIR/$p.conf"
	"$server" "$DIR/$p.conf"
done
for p in "${DATA[@]}"; do
	wait_for 5 up "$p" || { echo "warning: redis on port $p did not start (see $DIR/$p.log)" >&2; exit 1; }
done
for p in "${SENT[@]}"; do
	cat >"$DIR/sentinel-$p.conf" <<CONF
port $p
bind 127.0.0.1
daemonize yes
dir $DIR
pidfile $DIR/sentinel-$p.pid
logfile $DIR/sentinel-$p.log
sentinel monitor $NAME 127.0.0.1 $primary 2
sentinel down-after-milliseconds $NAME 1000
sentinel failover-timeout $NAME 3000
sentinel parallel-syncs $NAME 1
CONF
	"$server" "$DIR/sentinel-$p.conf" --sentinel
done
# Sentinels find each other through the primary's hello channel (every 2 s).
if wait_for 20 healthy; then
	echo "redis sentinel group $NAME started at $addrs (primary 127.0.0.1:$primary)" >&2
	done_
fi
echo "warning: redis sentinel group $NAME at $addrs is not healthy (see $DIR/*.log)" >&2
exit 1
