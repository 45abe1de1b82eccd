# Shared by scripts/bench-vs-etcd and scripts/failover-bench (sourced, not run): installing the tools, free
# ports, starting and stopping 3-node Tern and etcd clusters on 127.0.0.1, CPU time from /proc.
#
# Every process started here is recorded in STARTED_PIDS and stopped by its pid in bench_cleanup (which the
# scripts run on EXIT); the temp dir BENCH_TMP is deleted there too.

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
BENCH_TMP=""
STARTED_PIDS=()
CLK_TCK="$(getconf CLK_TCK)"

say() { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }
die() { printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }

# ---- tools ----

# Installs the Debian packages given as "command:package" when the command is missing (apt-get update once).
need_tools() {
  local missing=() spec cmd pkg
  for spec in "$@"; do
    cmd="${spec%%:*}"; pkg="${spec#*:}"
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root"
  warn "installing ${missing[*]} from Debian's packages..."
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# Builds Tern when needed (the launcher does that) and sets TERN_JAR to a copy of the jar in BENCH_TMP, so that
# a rebuild while the benchmark runs does not pull it from under the nodes.
tern_build() {
  "$repo/tern" --version >/dev/null || die "could not build Tern (see the output above)"
  local f newest=""
  for f in "$repo"/target/tern-*.jar; do
    case "$(basename "$f")" in original-*|*-sources.jar|*-javadoc.jar|*-tests.jar) continue ;; esac
    if [ -z "$newest" ] || [ "$f" -nt "$newest" ]; then newest="$f"; fi
  done
  [ -n "$newest" ] || die "no target/tern-*.jar after the build"
  TERN_JAR="$BENCH_TMP/tern.jar"
  cp "$newest" "$TERN_JAR"
}

# ---- temp dir, processes, cleanup ----

bench_init() {
  BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/${BENCH_NAME:-bench}.XXXXXX")"
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Stops the given pids: SIGTERM, then SIGKILL for those still there after ~5 s.
stop_pids() {
  local p i live
  for p in "$@"; do alive "$p" && kill -TERM "$p" 2>/dev/null; done
  for i in $(seq 1 50); do
    live=0
    for p in "$@"; do alive "$p" && live=1; done
    [ "$live" -eq 0 ] && break
    sleep 0.1
  done
  for p in "$@"; do alive "$p" && kill -KILL "$p" 2>/dev/null; done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "${#STARTED_PIDS[@]}" -gt 0 ]; then stop_pids "${STARTED_PIDS[@]}"; fi
  if [ -n "${KEEP_DIR:-}" ] && [ -n "$BENCH_TMP" ] && [ -d "$BENCH_TMP" ]; then
    mkdir -p "$KEEP_DIR" && (cd "$BENCH_TMP" && find . -name '*.log' -exec cp --parents {} "$KEEP_DIR" \;) 2>/dev/null
    warn "logs kept in $KEEP_DIR"
  fi
  if [ -n "$BENCH_TMP" ] && [ -d "$BENCH_TMP" ]; then rm -rf "$BENCH_TMP"; fi
  exit "$rc"
}

# A port on 127.0.0.1 that no socket uses (listening, connected or in TIME_WAIT, as far as ss shows; else that
# nothing listens on) and that this script has not handed out yet, below the kernel's ephemeral port range so
# that no outgoing connection takes it meanwhile.
PICKED_PORTS=" "
free_port() {
  local p i lo=10000 hi
  hi="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)"
  case "$hi" in ''|*[!0-9]*) hi=32768 ;; esac
  [ "$hi" -gt $((lo + 1000)) ] || { lo=1025; }
  for i in $(seq 1 500); do
    p=$(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo) ))
    case "$PICKED_PORTS" in *" $p "*) continue ;; esac
    if command -v ss >/dev/null 2>&1; then
      [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ] || continue
    fi
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      PICKED_PORTS+="$p "
      printf '%s' "$p"
      return 0
    fi
  done
  die "no free port found on 127.0.0.1"
}

# Sum of user + system CPU time, in clock ticks, of the given pids (0 for a pid that is gone).
cpu_ticks() {
  local p sum=0 rest f
  for p in "$@"; do
    if [ -n "$p" ] && rest="$(cat "/proc/$p/stat" 2>/dev/null)"; then
      rest="${rest##*) }"   # the fields after "(comm) ", since comm may hold spaces: state is f[0]
      read -r -a f <<<"$rest"
      sum=$(( sum + f[11] + f[12] ))   # fields 14 (utime) and 15 (stime) of proc(5)
    fi
  done
  printf '%s' "$sum"
}

# ---- Tern: 3 nodes ----
TERN_PIDS=(); TERN_HTTP=(); TERN_ARTERY=(); TERN_IDS=(n1 n2 n3)

# tern_setup DIR: picks the ports and writes DIR/cluster.conf (like `tern local` does).
tern_setup() {
  TERN_DIR="$1"
  mkdir -p "$TERN_DIR"
  local i spec=""
  for i in 0 1 2; do
    TERN_ARTERY[$i]="$(free_port)"; TERN_HTTP[$i]="$(free_port)"
    spec+="${spec:+,}${TERN_IDS[$i]}=127.0.0.1:${TERN_ARTERY[$i]}:${TERN_HTTP[$i]}"
  done
  printf 'tern.cluster.members-spec = "%s"\n' "$spec" > "$TERN_DIR/cluster.conf"
}

# tern_start_node I [JVM options...]: starts node I (0..2) the way `tern local` does, on its own data dir.
tern_start_node() {
  local i="$1"; shift
  local id="${TERN_IDS[$i]}"
  mkdir -p "$TERN_DIR/$id"
  # shellcheck disable=SC2086  # TERN_JAVA_OPTS is a list of words, as in ./tern
  env -u TERN_MEMBERS -u TERN_NODE_ID -u TERN_DATA_DIR -u TERN_HTTP_BIND_HOST -u TERN_REQUEST_TIMEOUT \
    java "-Xmx${TERN_HEAP:-512m}" -XX:G1HeapRegionSize=4m -XX:+ExitOnOutOfMemoryError ${TERN_JAVA_OPTS:-} "$@" -Dtern.data-dir="$TERN_DIR/$id" -cp "$TERN_JAR" dev.tern.cli.TernCli \
    node --id "$id" --config "$TERN_DIR/cluster.conf" >>"$TERN_DIR/$id.log" 2>&1 </dev/null &
  TERN_PIDS[$i]=$!
  STARTED_PIDS+=("$!")
}

tern_status() { curl -s -m 2 "http://127.0.0.1:${TERN_HTTP[$1]}/v1/status" 2>/dev/null | tr -d ' \n'; }

# Prints the index (0..2) of the leader when every live node serves and names the same leader, else fails.
tern_agreed_leader() {
  local i s leader="" term="" l t n=0
  for i in 0 1 2; do
    alive "${TERN_PIDS[$i]:-}" || continue
    s="$(tern_status "$i")"
    case "$s" in *'"serving":true'*) ;; *) return 1 ;; esac
    l="$(printf '%s' "$s" | sed -n 's/.*"leader":"\([^"]*\)".*/\1/p')"
    t="$(printf '%s' "$s" | sed -n 's/.*"term":\([0-9]*\).*/\1/p')"
    [ -n "$l" ] || return 1
    if [ -z "$leader" ]; then leader="$l"; term="$t"; elif [ "$l" != "$leader" ] || [ "$t" != "$term" ]; then return 1; fi
    n=$((n + 1))
  done
  [ "$n" -ge 2 ] || return 1
  for i in 0 1 2; do [ "${TERN_IDS[$i]}" = "$leader" ] && { printf '%s' "$i"; return 0; }; done
  return 1
}

# ---- etcd: 3 members ----
ETCD_PIDS=(); ETCD_CLIENT=(); ETCD_PEER=(); ETCD_IDS=(e1 e2 e3); ETCD_ARGS=(); ETCD_ARGS_WANTED=()

etcd_setup() {
  ETCD_DIR="$1"; shift
  ETCD_ARGS=("$@")
  mkdir -p "$ETCD_DIR"
  local i
  ETCD_CLUSTER=""
  for i in 0 1 2; do
    ETCD_CLIENT[$i]="$(free_port)"; ETCD_PEER[$i]="$(free_port)"
    ETCD_CLUSTER+="${ETCD_CLUSTER:+,}${ETCD_IDS[$i]}=http://127.0.0.1:${ETCD_PEER[$i]}"
  done
  ETCD_TOKEN="tern-bench-$$-$RANDOM"
}

# etcd_start_member I: starts member I (0..2); a restart reuses its data dir (the initial-cluster flags are then
# ignored by etcd). fsync stays on (etcd's default; no --unsafe-no-fsync).
etcd_start_member() {
  local i="$1" id="${ETCD_IDS[$1]}"
  env -u ETCD_NAME -u ETCD_DATA_DIR -u ETCD_INITIAL_CLUSTER -u ETCD_LISTEN_CLIENT_URLS -u ETCD_LISTEN_PEER_URLS \
    etcd --name "$id" --data-dir "$ETCD_DIR/$id" \
    --listen-client-urls "http://127.0.0.1:${ETCD_CLIENT[$i]}" --advertise-client-urls "http://127.0.0.1:${ETCD_CLIENT[$i]}" \
    --listen-peer-urls "http://127.0.0.1:${ETCD_PEER[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER[$i]}" \
    --initial-cluster "$ETCD_CLUSTER" --initial-cluster-state new --initial-cluster-token "$ETCD_TOKEN" \
    --logger zap --log-outputs stderr "${ETCD_ARGS[@]}" >>"$ETCD_DIR/$id.log" 2>&1 </dev/null &
  ETCD_PIDS[$i]=$!
  STARTED_PIDS+=("$!")
}

etcd_status() {
  curl -s -m 2 -X POST -d '{}' "http://127.0.0.1:${ETCD_CLIENT[$1]}/v3/maintenance/status" 2>/dev/null | tr -d ' \n'
}

# Prints the index of the leader when every live member answers and names the same leader, else fails.
etcd_agreed_leader() {
  local i s leader="" l me n=0 lead_idx=""
  for i in 0 1 2; do
    alive "${ETCD_PIDS[$i]:-}" || continue
    s="$(etcd_status "$i")"
    l="$(printf '%s' "$s" | sed -n 's/.*"leader":"\([0-9]*\)".*/\1/p')"
    me="$(printf '%s' "$s" | sed -n 's/.*"member_id":"\([0-9]*\)".*/\1/p')"
    [ -n "$l" ] && [ "$l" != "0" ] || return 1
    if [ -z "$leader" ]; then leader="$l"; elif [ "$l" != "$leader" ]; then return 1; fi
    [ "$me" = "$l" ] && lead_idx="$i"
    n=$((n + 1))
  done
  [ "$n" -ge 2 ] && [ -n "$lead_idx" ] || return 1
  printf '%s' "$lead_idx"
}

# wait_leader SYSTEM SECONDS [STABLE_POLLS]: waits until SYSTEM (tern|etcd) agrees on one leader in
# STABLE_POLLS consecutive polls 0.25 s apart (default 1); prints the leader's index. All three processes must
# be running: when one has exited, says so with the end of its log and fails at once.
wait_leader() {
  local sys="$1" secs="$2" polls="${3:-1}" deadline got=0 l last="" i pids ids dir
  if [ "$sys" = etcd ]; then pids=("${ETCD_PIDS[@]}"); ids=("${ETCD_IDS[@]}"); dir="$ETCD_DIR"
  else pids=("${TERN_PIDS[@]}"); ids=("${TERN_IDS[@]}"); dir="$TERN_DIR"; fi
  deadline=$(( $(now_ms) + secs * 1000 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    for i in 0 1 2; do
      if ! alive "${pids[$i]}"; then
        warn "$sys node ${ids[$i]} (pid ${pids[$i]}) has exited; the end of $dir/${ids[$i]}.log:"
        grep -v '^[[:space:]]' "$dir/${ids[$i]}.log" | tail -n 4 | cut -c1-300 | sed 's/^/    /' >&2
        return 1
      fi
    done
    if l="$("${sys}_agreed_leader")"; then
      if [ "$l" = "$last" ]; then got=$((got + 1)); else got=1; last="$l"; fi
      if [ "$got" -ge "$polls" ]; then printf '%s' "$l"; return 0; fi
    else
      got=0; last=""
    fi
    sleep 0.25
  done
  return 1
}

# Machine facts for the report.
machine_line() {
  local model cores mem
  model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  cores="$(nproc)"
  mem="$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
  printf '%s cores (%s), %s RAM, Linux %s, load average %s' "$cores" "${model:-unknown CPU}" "$mem" \
    "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# start_cluster SYSTEM [Tern JVM options...]: a fresh 3-node cluster of SYSTEM (tern|etcd) in BENCH_TMP, started
# and agreeing on a leader (4 polls, 1 s); sets TERN_LEADER or ETCD_LEADER. When the first try does not agree on
# a leader within 60 s (a loaded 2-core machine has made Tern's Pekko cluster fail to form), says so with the
# end of each node's log, stops it and tries once more with new ports and data dirs. Fails after that.
STARTUP_NOTES=""
start_cluster() {
  local sys="$1" try i leader dir ids
  shift
  for try in 1 2; do
    dir="$BENCH_TMP/$sys$([ "$try" = 1 ] || echo "-try$try")"
    if [ "$sys" = etcd ]; then
      etcd_setup "$dir" "${ETCD_ARGS_WANTED[@]}"; for i in 0 1 2; do etcd_start_member "$i"; done; ids=("${ETCD_IDS[@]}")
    else
      tern_setup "$dir"; for i in 0 1 2; do tern_start_node "$i" "$@"; done; ids=("${TERN_IDS[@]}")
    fi
    if leader="$(wait_leader "$sys" 60 4)"; then
      if [ "$sys" = etcd ]; then ETCD_LEADER="$leader"; else TERN_LEADER="$leader"; fi
      return 0
    fi
    say "$sys: the fresh cluster in $dir did not agree on a leader within 60 s (try $try of 2); the end of each log:"
    for i in "${ids[@]}"; do
      grep -v '^[[:space:]]' "$dir/$i.log" | tail -n 3 | cut -c1-240 | sed "s/^/    $i: /"
    done
    STARTUP_NOTES+="${STARTUP_NOTES:+; }$sys: try $try did not agree on a leader within 60 s"
    if [ "$sys" = etcd ]; then stop_pids "${ETCD_PIDS[@]}"; else stop_pids "${TERN_PIDS[@]}"; fi
  done
  return 1
}
