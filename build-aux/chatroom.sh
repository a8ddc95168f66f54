#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The developer entry point: installs what is missing, builds, then runs or tests Chatroom.
#   build-aux/chatroom.sh run    build and start the app hosting a room (no display: the server)
#   build-aux/chatroom.sh test   build and run the whole suite, then again under sanitizers
#   build-aux/chatroom.sh deps   only install the Debian packages
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

# Every Debian 12 package the project needs, to build, to test and to run: one list.
packages=(
  meson ninja-build pkg-config gcc gettext
  libglib2.0-dev libglib2.0-bin glib-networking
  libgtk-4-dev libadwaita-1-dev libsqlite3-dev libjson-glib-dev libsecret-1-dev libgnutls28-dev
  librsvg2-common
  libsodium-dev libsoup-3.0-dev libhiredis-dev liburing-dev redis-server
  libavahi-client-dev libavahi-glib-dev avahi-daemon iproute2
  desktop-file-utils appstream libxml2-utils gsettings-desktop-schemas adwaita-icon-theme
  fonts-noto-cjk fonts-noto-color-emoji
  xvfb xauth dbus libxtst6 imagemagick
  ngircd inspircd irssi ii python3-irc tmux netcat-openbsd openssl
  valgrind clang libclang-rt-14-dev
)

log () { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root () {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_deps () {
  local missing=()
  local p
  for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  log "Installing ${missing[*]}"
  # Packaged servers (ngIRCd, InspIRCd, Redis) must not start as system services: the tests
  # start their own copies on free ports.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod +x "$policy"
    added_policy=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
  if [ "$added_policy" -eq 1 ]; then as_root rm -f "$policy"; fi
}

setup () {
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
  meson compile -C "$dir"
}

# Runs one meson test pass and adds its counts to the totals.
total_ok=0 total_fail=0 total_skip=0
failed_tests=() failed_outputs=() pass_number=0
run_suite () {
  local dir=$1; shift
  local rc=0
  pass_number=$((pass_number + 1))
  local out="$dir/suite-output-$pass_number.txt"
  local runner=(meson test -C "$dir" --print-errorlogs --num-processes 2 "$@")
  if command -v xvfb-run >/dev/null && command -v dbus-run-session >/dev/null; then
    # -noreset: otherwise the X server resets whenever its last client leaves, and a test
    # that connects during the reset fails with "cannot open display".
    xvfb-run -a -s '-screen 0 1280x800x24 -noreset' dbus-run-session -- "${runner[@]}" \
      | tee "$out" || rc=$?
  else
    "${runner[@]}" | tee "$out" || rc=$?
  fi
  local ok fail skip
  ok=$(awk '/^Ok:/ {print $2}' "$out" | tail -n 1)
  fail=$(awk '/^(Fail|Unexpected Pass|Timeout):/ {s += $NF} END {print s + 0}' \
    "$out")
  skip=$(awk '/^Skipped:/ {print $2}' "$out" | tail -n 1)
  ok=${ok:-0}; skip=${skip:-0}
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
  # Names the tests that failed, so the end of the output says which.
  local line before=${#failed_tests[@]}
  while IFS= read -r line; do
    failed_tests+=("$dir: $line")
  done < <(sed -n '/^Summary of Failures:/q;p' "$out" \
             | grep -E '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|UNEXPECTEDPASS|ERROR) ' \
             | sed -E 's/ +/ /g' || true)
  if [ "${#failed_tests[@]}" -gt "$before" ]; then failed_outputs+=("$out"); fi
  total_ok=$((total_ok + ok)); total_fail=$((total_fail + fail)); total_skip=$((total_skip + skip))
}

cmd_test () {
  install_deps
  log "Building (debug, optimised)"
  setup build -Dwerror=true
  log "Running the suite"
  # Everything, the slow suite (faults, robustness) included (--setup full: the default
  # setup leaves it out); the Valgrind pass takes the memcheck suite, the sanitizer pass
  # everything but bench-heavy.
  run_suite build --setup full
  if meson test -C build --list --setup valgrind --suite memcheck >/dev/null 2>&1 \
     && [ -n "$(meson test -C build --list --suite memcheck 2>/dev/null)" ]; then
    log "Running the memcheck suite under Valgrind"
    run_suite build --setup valgrind --suite memcheck
  fi
  log "Building with AddressSanitizer and UndefinedBehaviorSanitizer"
  setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
  log "Running the suite under sanitizers"
  # Sanitized code runs two to three times slower, and whole stacks (app, WebSocket) more:
  # the timeouts grow with it, as Valgrind's do.
  run_suite build-asan --setup full --no-suite bench-heavy --timeout-multiplier 3
  echo
  if [ "${#failed_tests[@]}" -gt 0 ]; then
    # The end of each failed pass's error logs, then the names.
    local out
    for out in "${failed_outputs[@]}"; do
      echo "Last lines of the error logs in $out:"
      sed -n '/^Summary of Failures:/q;p' "$out" \
        | grep -vE '^ *[0-9]+/[0-9]+ .* (OK|SKIP) ' | tail -n 40 | cut -c1-300
    done
    echo "Failed:"
    printf '  %s\n' "${failed_tests[@]}"
  fi
  echo "Totals over all passes (plain, Valgrind, sanitizers):"
  echo "$total_ok passed, $total_fail failed, $total_skip skipped"
  [ "$total_fail" -eq 0 ]
}

cmd_run () {
  install_deps
  setup build
  export GSETTINGS_SCHEMA_DIR="$top/build/data"
  local port=${CHATROOM_PORT:-6667}
  if [ -x build/src/app/chatroom ] &&
     { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
    log "Starting Chatroom, hosting a room on port $port"
    exec build/src/app/chatroom --host --port "$port"
  elif [ -x build/src/chatroom-server ]; then
    log "No display here: starting chatroom-server on port $port"
    echo "Join with: telnet localhost $port   (or any IRC client: irssi -c localhost -p $port)"
    local data="${XDG_DATA_HOME:-$HOME/.local/share}/chatroom-server"
    mkdir -p "$data"
    exec build/src/chatroom-server --port "$port" --data-dir "$data"
  else
    log "Built. Programs so far:"
    find build -maxdepth 3 -type f -perm -u+x -name 'chat*' | sort
  fi
}

case "${1:-}" in
  run) cmd_run ;;
  test) cmd_test ;;
  deps) install_deps ;;
  *) echo "usage: $0 run|test|deps" >&2; exit 2 ;;
esac
