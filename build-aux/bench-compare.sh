#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Side-by-side benchmark: starts chatroom-server, InspIRCd and ngIRCd on free loopback ports
# with generated configurations that lift flood limits and connection caps equally, runs the
# same chatroom-bench scenarios against each (one server at a time, each freshly started for
# each scenario), prints one table with ratios, and stops them all. A fourth target, "floor",
# is chatroom-bench-relay: no server with one send() per recipient can do less per message,
# so its fan-out numbers are what this machine's kernel allows such a server (it is not run
# for register, connections, join-storm). A fifth, "floor-uring", is the same relay sending
# each wake-up's lines in one io_uring_enter(), as chatroom-server does where it can: the
# floor for a server that batches its system calls (not in the default list).
#
#   build-aux/bench-compare.sh [--quick] [--only "fanout register ..."]
#                              [--servers "chatroom inspircd ngircd floor floor-uring"]
#                              [--bench PATH] [--server PATH] [--keep DIR] [--history]
#
# Scenarios: fanout (200 clients, 10 senders, swept), fanout1000 (1,000 clients, 10 senders,
# swept on past the p99 limit until something is lost), fanout600 (600 clients, 10 senders,
# swept: the cluster's scenario), lowload (200 clients, 1 message/s), register, connections
# (10,000), join-storm (5,000), rooms (1,000 × 10). --quick shrinks every scenario for a smoke
# run. --history gives chatroom-server a data directory, so it keeps its history (SQLite)
# while it is measured.
#
# Cluster mode: the servers cluster1 and cluster3 are one and three chatroom-server nodes
# sharing a redis-server of their own (no persistence); the clients are spread evenly over
# the nodes (chatroom-bench --ports). For the cost over one process:
#   build-aux/bench-compare.sh --servers "chatroom cluster1 cluster3" --only "fanout600"
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=0
only="fanout fanout1000 lowload register connections join-storm rooms"
servers="chatroom inspircd ngircd floor"
bench=""
server_bin=""
keep=""
history=0

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --only) only=$2; shift ;;
    --servers) servers=$2; shift ;;
    --bench) bench=$2; shift ;;
    --server) server_bin=$2; shift ;;
    --keep) keep=$2; shift ;;
    --history) history=1 ;;
    -h|--help) sed -n '3,18p' "$0"; exit 0 ;;
    *) echo "bench-compare: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

newest () {
  # The most recently built copy of a program in any build directory of the tree.
  local name=$1
  { ls -t "$top"/build*/"$name" 2>/dev/null || true; } | head -n 1
}

[ -n "$bench" ] || bench=$(newest src/bench/chatroom-bench)
[ -n "$server_bin" ] || server_bin=$(newest src/chatroom-server)
relay_bin=$(dirname "$bench")/chatroom-bench-relay
if [ -z "$bench" ] || [ ! -x "$bench" ]; then
  echo "bench-compare: chatroom-bench is not built (meson compile -C build chatroom-bench)" >&2
  exit 1
fi

# The machine may be shared: when allowed, every server and the generator run at the same
# raised priority (nice -5), so other jobs disturb all three alike and less.
prio=()
if [ "$(id -u)" -eq 0 ]; then prio=(nice -n -5); fi

tmp=$(mktemp -d /tmp/chatroom-bench.XXXXXX)
pids=()
cleanup () {
  local p
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$keep" ]; then mkdir -p "$keep"; cp -r "$tmp"/. "$keep"/; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port () {
  /usr/bin/python3 -c \
    'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port () {
  local port=$1 pid=$2 i
  for i in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    if /usr/bin/python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2);
sys.exit(s.connect_ex(('127.0.0.1', $port)))" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# Limits lifted equally: no flood control, no connection caps (global or per IP), a 4 MiB
# send queue where the server lets us choose, no DNS or ident lookups, long ping intervals.
write_ngircd_conf () {
  local dir=$1 port=$2
  cat > "$dir/ngircd.conf" <<CONF
[Global]
Name = bench.ngircd.local
Info = chatroom-bench target
Listen = 127.0.0.1
Ports = $port
MotdPhrase = bench
PidFile = $dir/ngircd.pid
[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxNickLength = 30
MaxPenaltyTime = 0
PingTimeout = 600
PongTimeout = 300
[Options]
DNS = no
Ident = no
PAM = no
CONF
}

write_inspircd_conf () {
  local dir=$1 port=$2
  printf 'bench\n' > "$dir/motd.txt"
  cat > "$dir/inspircd.conf" <<CONF
<server name="bench.inspircd.local" description="chatroom-bench target" network="bench">
<admin name="bench" nick="bench" email="bench@localhost">
<bind address="127.0.0.1" port="$port" type="clients">
<connect name="main" allow="*" maxchans="100" timeout="60" pingfreq="10m"
         hardsendq="4M" softsendq="4M" recvq="4M" threshold="1000000"
         commandrate="1000000000" fakelag="no" localmax="1000000" globalmax="1000000"
         maxconnwarn="no" resolvehostnames="no" useident="no" limit="1000000">
<performance netbuffersize="65536" somaxconn="4096" softlimit="100000"
             clonesonconnect="yes" timeskipwarn="0" quietbursts="yes">
<security hidesplits="yes" hideulines="yes" allowcoreunload="no">
<limits maxnick="30" maxchan="64" maxmodes="20" maxident="12" maxhost="64"
        maxquit="255" maxtopic="307" maxkick="255" maxreal="128" maxaway="200">
<files motd="$dir/motd.txt">
<pid file="$dir/inspircd.pid">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="$dir/inspircd.log">
<dns server="127.0.0.1" timeout="1">
<options defaultmodes="nt">
CONF
}

write_chatroom_conf () {
  local dir=$1
  cat > "$dir/chatroom-server.conf" <<CONF
[limits]
flood-control=false
max-clients=1000000
max-clients-per-ip=1000000
sendq=4194304
recvq=4194304
max-rooms-per-user=100
max-rooms=1000000
max-new-rooms-per-ip=1000000
nick-length=30
ping-interval=600
ping-timeout=300
registration-timeout=600
CONF
}

# Starts one server; prints "PID PORT" or fails.
start_server () {
  local which=$1 dir=$2 port pid
  port=$(free_port)
  case "$which" in
    ngircd)
      write_ngircd_conf "$dir" "$port"
      "${prio[@]}" /usr/sbin/ngircd -n -f "$dir/ngircd.conf" > "$dir/ngircd.out" 2>&1 &
      pid=$! ;;
    inspircd)
      write_inspircd_conf "$dir" "$port"
      local root=()
      [ "$(id -u)" -eq 0 ] && root=(--runasroot)
      "${prio[@]}" /usr/sbin/inspircd --config="$dir/inspircd.conf" --nofork --nopid "${root[@]}" \
        > "$dir/inspircd.out" 2>&1 &
      pid=$! ;;
    floor)
      "${prio[@]}" "$relay_bin" --port "$port" > "$dir/floor.out" 2>&1 &
      pid=$! ;;
    floor-uring)
      "${prio[@]}" "$relay_bin" --uring --port "$port" > "$dir/floor.out" 2>&1 &
      pid=$! ;;
    cluster1|cluster3)
      # Redis first, then the nodes; "PORT" is the nodes' ports, comma-separated.
      local n=${which#cluster} i rport nport rpid ports=""
      write_chatroom_conf "$dir"
      printf '[cluster]\nlease=10\n' >> "$dir/chatroom-server.conf"
      rport=$(free_port)
      redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
        > "$dir/redis.out" 2>&1 &
      rpid=$!
      pids+=("$rpid")
      echo "$rpid" > "$dir/pids"
      wait_port "$rport" "$rpid" || { echo "bench-compare: redis-server did not start" >&2
                                      return 1; }
      for i in $(seq 1 "$n"); do
        nport=$(free_port)
        "${prio[@]}" "$server_bin" --bind 127.0.0.1 --port "$nport" \
          --config "$dir/chatroom-server.conf" --redis "redis://127.0.0.1:$rport/0" \
          --node-name "node$i" > "$dir/node$i.out" 2>&1 &
        pid=$!
        pids+=("$pid")
        echo "$pid" >> "$dir/pids"
        if ! wait_port "$nport" "$pid"; then
          echo "bench-compare: node $i did not start; its output:" >&2
          tail -n 20 "$dir/node$i.out" >&2 || true
          return 1
        fi
        ports="${ports:+$ports,}$nport"
      done
      echo "$pid $ports"
      return 0 ;;
    chatroom)
      write_chatroom_conf "$dir"
      local data=()
      if [ "$history" -eq 1 ]; then mkdir -p "$dir/data"; data=(--data-dir "$dir/data"); fi
      "${prio[@]}" "$server_bin" --bind 127.0.0.1 --port "$port" \
        --config "$dir/chatroom-server.conf" "${data[@]}" > "$dir/chatroom.out" 2>&1 &
      pid=$! ;;
  esac
  pids+=("$pid")
  if ! wait_port "$port" "$pid"; then
    echo "bench-compare: $which did not start; its output:" >&2
    tail -n 20 "$dir"/*.out >&2 || true
    return 1
  fi
  echo "$pid $port"
}

# SIGTERM, then SIGKILL if the server is still busy after 5 s (an overloaded ngIRCd can
# take minutes to get to its signal).
stop_server () {
  local pid=$1 i
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

scenario_args () {
  local s=$1
  if [ "$quick" -eq 1 ]; then
    case "$s" in
      fanout) echo "fanout -c 50 -s 5 -r 200 --rate-max 100000 -d 1 --steps 6" ;;
      fanout1000) echo "fanout -c 200 -s 10 -r 500 --rate-max 100000 -d 1 --steps 4 --keep-going" ;;
      fanout600) echo "fanout -c 60 -s 10 -r 200 --rate-max 100000 -d 1 --steps 6" ;;
      lowload) echo "fanout -c 50 -s 1 -r 1 -d 3" ;;
      register) echo "register -d 2" ;;
      connections) echo "connections -c 1000 -d 2" ;;
      join-storm) echo "join-storm -c 300" ;;
      rooms) echo "rooms --rooms 100 -c 10 -s 1 -r 1000 -d 2" ;;
    esac
  else
    case "$s" in
      fanout)
        echo "fanout -c 200 -s 10 -r 500 --rate-max 1000000 --rate-factor 1.5 -d 3" \
             "--refine 3" ;;
      fanout1000)
        echo "fanout -c 1000 -s 10 -r 50 --rate-max 1000000 --rate-factor 2 --steps 8" \
             "--keep-going -d 3" ;;
      fanout600)
        echo "fanout -c 600 -s 10 -r 50 --rate-max 1000000 --rate-factor 2 --steps 10" \
             "--keep-going -d 3" ;;
      lowload) echo "fanout -c 200 -s 1 -r 1 -d 30" ;;
      register) echo "register -d 3" ;;
      connections) echo "connections -c 10000 -d 5" ;;
      join-storm) echo "join-storm -c 5000" ;;
      rooms) echo "rooms --rooms 1000 -c 10 -s 1 -r 10000 -d 5" ;;
    esac
  fi
}

{
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
  echo "machine: $(nproc) cores, $cpu, Linux $(uname -r)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "chatroom-bench: $bench"
  echo "ngIRCd: $(/usr/sbin/ngircd --version 2>/dev/null | head -n 1)"
  echo "InspIRCd: $(/usr/sbin/inspircd --version 2>/dev/null | head -n 1)"
} | tee "$tmp/machine.txt" >&2

run_list=()
for srv in $servers; do
  case "$srv" in
    cluster1|cluster3)
      if [ -z "$server_bin" ] || [ ! -x "$server_bin" ] || ! command -v redis-server > /dev/null
      then
        echo "bench-compare: note: chatroom-server or redis-server missing; skipping $srv" >&2
        continue
      fi ;;
    chatroom)
      if [ -z "$server_bin" ] || [ ! -x "$server_bin" ]; then
        echo "bench-compare: note: chatroom-server is not built yet; skipping it" >&2
        continue
      fi ;;
    ngircd) [ -x /usr/sbin/ngircd ] ||
      { echo "bench-compare: note: ngIRCd not installed; skipping" >&2; continue; } ;;
    inspircd) [ -x /usr/sbin/inspircd ] ||
      { echo "bench-compare: note: InspIRCd not installed; skipping" >&2; continue; } ;;
    floor|floor-uring) [ -x "$relay_bin" ] ||
      { echo "bench-compare: note: chatroom-bench-relay not built; skipping the floor" >&2
        continue; } ;;
    *) echo "bench-compare: unknown server $srv" >&2; exit 2 ;;
  esac
  run_list+=("$srv")
done

for s in $only; do
  args=$(scenario_args "$s")
  [ -n "$args" ] || { echo "bench-compare: unknown scenario $s" >&2; exit 2; }
  for srv in "${run_list[@]}"; do
    dir="$tmp/$srv-$s"
    case "$srv/$s" in
      floor*/register|floor*/connections|floor*/join-storm)
        echo '{"skipped": true}' > "$tmp/$srv-$s.json"
        continue ;;
    esac
    mkdir -p "$dir"
    # Not in a subshell: the server must land in $pids for the cleanup.
    if ! start_server "$srv" "$dir" > "$dir/started" || ! read -r pid port < "$dir/started"; then
      echo "{\"error\": \"$srv did not start\"}" > "$tmp/$srv-$s.json"
      continue
    fi
    # ngIRCd listens with a backlog of 10 (compiled in): more connections in flight at
    # once overflow it and the kernel resets some. The setup window (not a measured
    # number) follows that; InspIRCd completes registrations once a second, so it needs
    # a wide window to finish setup in time.
    setup_window=2000
    [ "$srv" = ngircd ] && setup_window=10
    target=(-p "$port")
    case "$srv" in cluster*) target=(--ports "$port") ;; esac
    if [ "$s" = register ]; then
      # Registrations per second depend on how many are in flight; each server gets
      # the best of the same set of windows.
      best=""
      for w in 10 100 1000 5000; do
        echo "== $srv: chatroom-bench $args -w $w" >&2
        # shellcheck disable=SC2086
        if timeout 120 "${prio[@]}" "$bench" $args -w "$w" "${target[@]}" --pid "$pid" --json -q \
             > "$tmp/$srv-$s-w$w.json" 2> "$tmp/$srv-$s-w$w.err"; then
          best=$(/usr/bin/python3 -c 'import json,sys
files = [f for f in sys.argv[1:] if f]
rs = [(json.load(open(f)), f) for f in files]
r, f = max(rs, key=lambda x: x[0]["per_second"])
print(f)' $best "$tmp/$srv-$s-w$w.json")
        else
          echo "   $srv (window $w):" \
               "$(grep 'chatroom-bench:' "$tmp/$srv-$s-w$w.err" | tail -n 1)" >&2
        fi
        sleep 1
      done
      if [ -n "$best" ]; then cp "$best" "$tmp/$srv-$s.json"
      else echo '{"error": "no window worked"}' > "$tmp/$srv-$s.json"; fi
    else
      echo "== $srv: chatroom-bench $args -w $setup_window" >&2
      # shellcheck disable=SC2086
      if ! timeout 900 "${prio[@]}" "$bench" $args -w "$setup_window" "${target[@]}" \
           --pid "$pid" --json > "$tmp/$srv-$s.json" 2> "$tmp/$srv-$s.err"; then
        msg=$(grep 'chatroom-bench:' "$tmp/$srv-$s.err" | tail -n 1 | sed 's/"/\\"/g')
        echo "{\"error\": \"${msg:-failed}\"}" > "$tmp/$srv-$s.json"
        echo "   $srv: ${msg:-failed}" >&2
      fi
    fi
    if [ -f "$dir/pids" ]; then
      for p in $(tac "$dir/pids"); do stop_server "$p"; done
    else
      stop_server "$pid"
    fi
  done
done

/usr/bin/python3 - "$tmp" "$only" "${run_list[*]}" <<'PY'
import json, os, sys

tmp, scenarios, servers = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
names = {"chatroom": "chatroom", "inspircd": "InspIRCd", "ngircd": "ngIRCd", "floor": "floor",
         "floor-uring": "floor-uring",
         "cluster1": "1 node", "cluster3": "3 nodes"}

def load(srv, s):
    try:
        with open(os.path.join(tmp, f"{srv}-{s}.json")) as f:
            return json.load(f)
    except Exception as e:
        return {"error": str(e)}

def best(r):
    steps = r.get("steps") or []
    b = r.get("best_step", -1)
    return steps[b] if steps and b is not None and b >= 0 else None

# (label, scenario, getter, higher_is_better, format)
def g_best_rate(r):
    b = best(r); return b["rate"] if b else 0.0
def g_best_deliv(r):
    b = best(r); return b["deliveries_per_second"] if b else 0.0
def g_max_deliv(r):
    steps = [s for s in r.get("steps") or [] if s["lost"] == 0 and s["disconnects"] == 0]
    return max((s["deliveries_per_second"] for s in steps), default=0.0)
def g_best_p99(r):
    b = best(r); return b["p99_ms"] if b else None
def g_first(key):
    def g(r):
        steps = r.get("steps") or []
        return steps[0][key] if steps else None
    return g
def g_key(key):
    return lambda r: r.get(key)
def g_rss_change(r):
    steps = r.get("steps") or []
    if not steps or steps[0].get("server_rss_start_kb") is None:
        return None
    return "{:,.0f}→{:,.0f}".format(steps[0]["server_rss_start_kb"], steps[-1]["server_rss_kb"])
def g_join_lines_ok(r):
    n = r.get("completed") or 0
    if "join_lines" not in r:
        return None
    return "yes" if r["join_lines"] == n * (n + 1) // 2 else "NO ({:,})".format(r["join_lines"])
def g_rooms_ok(r):
    steps = r.get("steps") or []
    return "yes" if steps and steps[0]["lost"] == 0 and steps[0]["disconnects"] == 0 else "NO"

rows = [
    ("fan-out 200/10: max msgs/s (no loss, p99<50ms)", "fanout", g_best_rate, True, "{:,.0f}"),
    ("fan-out 200/10: deliveries/s at that rate", "fanout", g_best_deliv, True, "{:,.0f}"),
    ("fan-out 200/10: p99 ms at that rate", "fanout", g_best_p99, False, "{:.2f}"),
    ("fan-out 1000/10: max msgs/s (no loss, p99<50ms)", "fanout1000", g_best_rate, True, "{:,.0f}"),
    ("fan-out 1000/10: deliveries/s at that rate", "fanout1000", g_best_deliv, True, "{:,.0f}"),
    ("fan-out 1000/10: max deliveries/s, no loss, any p99", "fanout1000", g_max_deliv, True,
     "{:,.0f}"),
    ("fan-out 600/10: max msgs/s (no loss, p99<50ms)", "fanout600", g_best_rate, True, "{:,.0f}"),
    ("fan-out 600/10: deliveries/s at that rate", "fanout600", g_best_deliv, True, "{:,.0f}"),
    ("fan-out 600/10: p99 ms at that rate", "fanout600", g_best_p99, False, "{:.2f}"),
    ("fan-out 600/10: max deliveries/s, no loss, any p99", "fanout600", g_max_deliv, True,
     "{:,.0f}"),
    ("1 msg/s, 200 clients: p50 ms", "lowload", g_first("p50_ms"), False, "{:.3f}"),
    ("1 msg/s, 200 clients: p99 ms", "lowload", g_first("p99_ms"), False, "{:.3f}"),
    ("registrations/s (best window)", "register", g_key("per_second"), True, "{:,.0f}"),
    ("connections: clients registered", "connections", g_key("completed"), True, "{:,.0f}"),
    ("connections: server bytes per idle client", "connections", g_key("bytes_per_client"), False,
     "{:,.0f}"),
    ("connections: server CPU % while idle", "connections", g_key("idle_cpu"), False, "{:.2f}"),
    ("JOIN storm: seconds for all to join", "join-storm", g_key("seconds"), False, "{:.2f}"),
    ("JOIN storm: joins/s", "join-storm", g_key("per_second"), True, "{:,.0f}"),
    ("JOIN storm: seconds until every JOIN line arrived", "join-storm", g_key("settled_seconds"),
     False, "{:.2f}"),
    ("JOIN storm: JOIN lines, all n(n+1)/2 delivered", "join-storm", g_join_lines_ok, True, "{}"),
    ("JOIN storm: server CPU s over the storm", "join-storm", g_key("server_cpu_seconds"), False,
     "{:.2f}"),
    ("JOIN storm: server bytes per member after", "join-storm", g_key("bytes_per_client"), False,
     "{:,.0f}"),
    ("rooms 1000×10: deliveries/s", "rooms", g_first("deliveries_per_second"), True, "{:,.0f}"),
    ("rooms 1000×10: p99 ms", "rooms", g_first("p99_ms"), False, "{:.2f}"),
    ("rooms 1000×10: lost deliveries", "rooms", g_first("lost"), False, "{:,.0f}"),
    ("rooms 1000×10: server RSS KiB, start→end of load", "rooms", g_rss_change, False, "{}"),
]

def fmt(v, f):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f.format(v)

ref = servers[0] if servers else None
others = servers[1:]
header = ["metric"] + [names[s] for s in servers]
header += [f"{names[ref]}÷{names[o]}" for o in others] if ref else []
table = [header]
for label, s, get, higher, f in rows:
    if s not in scenarios:
        continue
    vals = []
    for srv in servers:
        r = load(srv, s)
        vals.append(None if "error" in r or "skipped" in r else get(r))
    line = [label] + [fmt(v, f) for v in vals]
    for i, o in enumerate(others, start=1):
        a, b = vals[0], vals[i]
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > 0 and b > 0:
            ratio = a / b if higher else b / a
            line.append(f"{ratio:.2f}×")
        else:
            line.append("-")
    table.append(line)

widths = [max(len(row[i]) for row in table) for i in range(len(header))]
for n, row in enumerate(table):
    print("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                    for i, c in enumerate(row)))
    if n == 0:
        print("  ".join("-" * w for w in widths))
print()
print("Ratios: how many times better the first server is (higher-is-better metrics divide")
print("first by other; lower-is-better ones divide other by first). \"floor\" is")
print("chatroom-bench-relay, which only copies each message to every member's socket, one")
print("send() each: no such server can do less, so chatroom÷floor near 1 means the kernel,")
print("not the server, sets it. \"floor-uring\" is the relay with a wake-up's sends in one")
print("io_uring_enter(), as chatroom-server writes where the kernel allows.")

errors = []
for s in scenarios:
    for srv in servers:
        r = load(srv, s)
        if "error" in r:
            errors.append(f"{names[srv]} {s}: {r['error']}")
        elif r.get("stop_reason"):
            errors.append(f"{names[srv]} {s}: stopped: {r['stop_reason']}")
if errors:
    print()
    for e in errors:
        print(e)
PY
