# Helpers shared by .ci/redis-cluster.sh and .ci/redis-sentinel.sh; sourced,
# not run. They talk to servers on 127.0.0.1 only, by port.

# ensure_redis_server installs Debian's redis-server package when the binary
# is missing (as .ci/run does for the standalone server).
ensure_redis_server() {
	command -v redis-server >/dev/null 2>&1 && return 0
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	$sudo apt-get update -qq || true
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server
}

# rcmd PORT ARGS... runs one command on 127.0.0.1:PORT and prints the reply:
# through redis-cli when installed, else as an inline command over a raw TCP
# connection (the raw RESP reply is printed, which is enough for grep).
# REDIS_CI_RAW=1 forces the raw path (to test it where redis-cli exists).
have_cli() { [ -z "${REDIS_CI_RAW:-}" ] && command -v redis-cli >/dev/null 2>&1; }
rcmd() (
	port=$1
	shift
	if have_cli; then
		timeout 5 redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null
		exit
	fi
	{ exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || exit 1
	printf '%s\r\n' "$*" >&3
	while read -r -t 0.3 line <&3; do printf '%s\n' "${line%$'\r'}"; done
	exit 0
)

# replies PORT PATTERN ARGS...: the reply to ARGS contains PATTERN (an
# extended regexp). The reply is read whole, so that pipefail never sees a
# broken pipe.
replies() {
	local port=$1 pat=$2 out
	shift 2
	out=$(rcmd "$port" "$@") || return 1
	grep -Eq -- "$pat" <<<"$out"
}

# up PORT: the server answers PING.
up() { replies "$1" PONG PING; }

# wait_for SECONDS CMD...: retries CMD every 0.2 s until it succeeds.
wait_for() {
	local n=$(($1 * 5))
	shift
	for _ in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}

# down PORT: nothing listens on PORT.
down() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# stop_port PORT: shuts down the server on PORT, if any. It never touches
# the standard port 6379, where a developer's own Redis may run.
stop_port() {
	[ "$1" = 6379 ] && return 0
	down "$1" && return 0
	rcmd "$1" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
	wait_for 5 down "$1" || true
}
