#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds one libFuzzer target of the protocol library with clang and runs it for a while.
#   build-aux/fuzz.sh TARGET SECONDS     TARGET: message, line-reader, text, server-session,
#                                        server-multi or connection
#   build-aux/fuzz.sh list               the targets
# The seed corpus is tests/fuzz/corpus/TARGET (read only); new inputs go to a work
# directory under the build directory ($FUZZ_BUILDDIR, default build-fuzz/), crashes
# to $FUZZ_BUILDDIR/crashes/. Exit 77 (skip) when clang or libFuzzer is not there.
# The project's meson build uses gcc, so the targets are compiled here, directly.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fuzzdir=$top/tests/fuzz
targets=(message line-reader text server-session server-multi connection)

usage () {
  echo "usage: $0 TARGET SECONDS   (targets: ${targets[*]})" >&2
  exit 2
}

if [ "${1:-}" = list ]; then
  printf '%s\n' "${targets[@]}"
  exit 0
fi
[ $# -eq 2 ] || usage
target=$1
seconds=$2
case " ${targets[*]} " in
  *" $target "*) ;;
  *) echo "unknown target: $target" >&2; usage ;;
esac
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || usage

skip () {
  echo "SKIP: $*"
  exit 77
}

clang=${CLANG:-}
if [ -n "$clang" ] && ! command -v "$clang" >/dev/null 2>&1; then
  skip "CLANG=$clang is not installed"
fi
if [ -z "$clang" ]; then
  for c in clang clang-16 clang-15 clang-14; do
    if command -v "$c" >/dev/null 2>&1; then clang=$c; break; fi
  done
fi
[ -n "$clang" ] || skip "clang is not installed (Debian: clang, libclang-rt-14-dev)"
command -v pkg-config >/dev/null 2>&1 || skip "pkg-config is not installed"
pkg-config --exists glib-2.0 gobject-2.0 nettle ||
  skip "GLib or Nettle development files are not installed"

builddir=${FUZZ_BUILDDIR:-$top/build-fuzz}
mkdir -p "$builddir"
builddir=$(cd "$builddir" && pwd)
bin=$builddir/fuzz-$target

# Does this clang link libFuzzer at all? (libclang-rt-NN-dev on Debian)
probe=$builddir/.probe-ok
if [ ! -e "$probe" ]; then
  printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput (const uint8_t *d, size_t n) { return 0; }' > "$builddir/probe.c"
  if ! "$clang" -fsanitize=fuzzer,address,undefined "$builddir/probe.c" \
       -o "$builddir/probe" >"$builddir/probe.log" 2>&1; then
    skip "$clang cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)"
  fi
  touch "$probe"
fi

sources=("$top"/src/protocol/*.c "$fuzzdir/fuzz-$target.c")
headers=("$top"/src/protocol/*.h)
extra=()
pkgs=(glib-2.0 gobject-2.0 nettle)
# The meson build this fuzz directory sits in, if any: its own source lists, flags and
# config.h are used for the server, so optional parts follow what meson configured.
mesonbuild=$builddir
while [ "$mesonbuild" != / ] && [ ! -d "$mesonbuild/meson-info" ]; do
  mesonbuild=$(dirname "$mesonbuild")
done
[ -d "$mesonbuild/meson-info" ] || mesonbuild=
if [ "$target" = server-session ] || [ "$target" = server-multi ]; then
  # The whole server library, run over loopback sockets.
  headers+=("$top"/src/store/*.h "$top"/src/avahi/*.h "$top"/src/server/*.h)
  pkgs+=(gio-2.0 gio-unix-2.0 sqlite3 gnutls libsodium)
  for optional in libsoup-3.0 hiredis avahi-client avahi-glib liburing; do
    if pkg-config --exists "$optional"; then pkgs+=("$optional"); fi
  done
  pkg-config --exists "${pkgs[@]}" ||
    skip "GIO, SQLite, GnuTLS or libsodium development files are not installed"
  if [ -n "$mesonbuild" ] && command -v meson >/dev/null 2>&1; then
    # Sources of chat-store and chat-server as meson builds them; -I, -D and -U as given.
    mapfile -t listed < <(meson introspect "$mesonbuild" --targets | python3 -c '
import json, sys
for target in json.load(sys.stdin):
    if target["name"] in ("chat-store", "chat-avahi", "chat-server"):
        for group in target["target_sources"]:
            for source in group["sources"]:
                print("S" + source)
            if target["name"] == "chat-server":
                for flag in group["parameters"]:
                    if flag[:2] in ("-I", "-D", "-U"):
                        print("F" + flag)
')
    for item in "${listed[@]}"; do
      case $item in
        S*) sources+=("${item#S}") ;;
        F*) extra+=("${item#F}") ;;
      esac
    done
  fi
  if [ "${#extra[@]}" -eq 0 ]; then
    # No meson build to ask: the server without a cluster (chat-cluster-none.c stands in
    # for the Redis files, as in a build without hiredis).
    sources+=("$top"/src/store/*.c "$top"/src/avahi/*.c)
    for f in "$top"/src/server/*.c; do
      case $(basename "$f") in
        chat-cluster-none.c) sources+=("$f") ;;
        chat-cluster*.c) ;;
        *) sources+=("$f") ;;
      esac
    done
    extra=(-I"$top/src/store" -I"$top/src/avahi" -I"$top/src/server" -DPACKAGE_VERSION='"fuzz"')
  fi
fi
if [ "$target" = connection ]; then
  # The client library, its enum types generated here as meson's mkenums_simple does.
  command -v glib-mkenums >/dev/null 2>&1 || skip "glib-mkenums is not installed"
  enum_headers=("$top"/src/client/chat-command.h "$top"/src/client/chat-connection.h
                "$top"/src/client/chat-conversation.h "$top"/src/client/chat-history-store.h
                "$top"/src/client/chat-message-item.h "$top"/src/client/chat-notice.h)
  gen=$builddir/include
  mkdir -p "$gen"
  eprod=$'GType @enum_name@_get_type (void) G_GNUC_CONST;\n'
  eprod+=$'#define @ENUMPREFIX@_TYPE_@ENUMSHORT@ (@enum_name@_get_type ())\n'
  glib-mkenums --output "$gen/chat-client-enums.h" \
    --fhead $'#pragma once\n#include <glib-object.h>\nG_BEGIN_DECLS\n' \
    --eprod "$eprod" \
    --ftail $'G_END_DECLS\n' "${enum_headers[@]}"
  vhead=$'GType\n@enum_name@_get_type (void)\n{\n  static gsize gtype_id = 0;\n'
  vhead+=$'  static const G@Type@Value values[] = {\n'
  vtail=$'    { 0, NULL, NULL }\n  };\n  if (g_once_init_enter (&gtype_id))\n'
  vtail+=$'    g_once_init_leave (&gtype_id, g_@type@_register_static ('
  vtail+=$'g_intern_static_string ("@EnumName@"), values));\n'
  vtail+=$'  return (GType) gtype_id;\n}\n'
  glib-mkenums --output "$gen/chat-client-enums.c" \
    --fhead $'#include "chat-client-enums.h"\n' \
    --fprod $'#include "@basename@"\n' \
    --vhead "$vhead" \
    --vprod $'    { @VALUENAME@, "@VALUENAME@", "@valuenick@" },\n' \
    --vtail "$vtail" \
    "${enum_headers[@]}"
  # Without config.h's HAVE_AVAHI the room browser and chat-avahi.c build to their stand-ins.
  sources+=("$top"/src/store/*.c "$top"/src/avahi/*.c "$top"/src/client/*.c
            "$gen/chat-client-enums.c")
  headers+=("$top"/src/store/*.h "$top"/src/avahi/*.h "$top"/src/client/*.h)
  extra=(-I"$top/src/store" -I"$top/src/avahi" -I"$top/src/client" -DPACKAGE_VERSION='"fuzz"')
  pkgs+=(gio-2.0 sqlite3)
  pkg-config --exists "${pkgs[@]}" || skip "GIO or SQLite development files are not installed"
fi

# Rebuild when any source or header is newer than the binary.
rebuild=0
if [ ! -x "$bin" ]; then
  rebuild=1
else
  for f in "${sources[@]}" "${headers[@]}" "$0"; do
    if [ "$f" -nt "$bin" ]; then rebuild=1; break; fi
  done
fi

if [ "$rebuild" -eq 1 ]; then
  # The protocol library needs nothing from config.h; give it an empty one, unless the
  # flags taken from meson name its own.
  mkdir -p "$builddir/include"
  [ -e "$builddir/include/config.h" ] ||
    echo '/* empty: fuzz build */' > "$builddir/include/config.h"
  own_config=(-I"$builddir/include")
  if [ -n "$mesonbuild" ] && printf '%s\n' "${extra[@]}" | grep -qx -- "-I$mesonbuild"; then
    own_config=()
  fi
  echo "building $bin"
  # shellcheck disable=SC2046
  "$clang" -std=gnu11 -g -O1 -fno-omit-frame-pointer -Wall -Wno-unused-parameter \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74 \
    -UG_DISABLE_ASSERT "${own_config[@]}" -I"$top/src/protocol" "${extra[@]}" \
    "${sources[@]}" $(pkg-config --cflags --libs "${pkgs[@]}") -o "$bin.tmp"
  mv "$bin.tmp" "$bin"
fi

work=$builddir/corpus-$target
crashes=$builddir/crashes
mkdir -p "$work" "$crashes"

seeds=$fuzzdir/corpus/$target
echo "fuzzing $target for $seconds s (seeds: $seeds)"
# $FUZZ_SEED fixes libFuzzer's random seed, so that a short run (the test suite's) takes
# the same first steps every time: a regression fails it, a bug it never reached does not
# turn up in an unrelated change. Exploring is for longer runs, without it.
seed=()
if [ -n "${FUZZ_SEED:-}" ]; then
  seed=(-seed="$FUZZ_SEED")
fi
# New inputs go to $work (first directory); the seed directory in the repo is only read.
# A crash must fail the test, not look like a skip (libFuzzer's own default is 77).
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=16384 \
  -error_exitcode=1 -timeout_exitcode=1 "${seed[@]}" \
  -print_final_stats=1 -artifact_prefix="$crashes/$target-" \
  "$work" "$seeds"
