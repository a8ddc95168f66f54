#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Checks po/POTFILES.in against the tree: it is sorted, every file it lists exists, and
# every file with strings marked for translation is listed (else they never get translated).
# Usage: check-potfiles.sh SOURCE_ROOT
set -u

top=${1:?usage: check-potfiles.sh SOURCE_ROOT}
cd "$top" || exit 1

status=0
listed=$(mktemp)
found=$(mktemp)
trap 'rm -f "$listed" "$found"' EXIT

grep -v -e '^#' -e '^[[:space:]]*$' po/POTFILES.in > "$listed"

if ! LC_ALL=C sort -c "$listed" 2>/dev/null; then
  echo "FAIL: po/POTFILES.in is not sorted (LC_ALL=C sort)"
  status=1
fi

while read -r f; do
  if [ ! -f "$f" ]; then
    echo "FAIL: po/POTFILES.in lists $f, which does not exist"
    status=1
  fi
done < "$listed"

# C sources: _(), N_(), C_(), NC_() and the plural forms; an identifier character before
# the underscore means it is part of another name (G_DEFINE_TYPE (...) etc.).
{
  find src -name '*.c' -print0 2>/dev/null \
    | xargs -0 -r grep -l -E '(^|[^A-Za-z0-9_])(N?C?_|g_dngettext|ngettext) ?\(' 2>/dev/null
  find data src -name '*.ui' -print0 2>/dev/null \
    | xargs -0 -r grep -l 'translatable="yes"' 2>/dev/null
  ls data/*.desktop.in data/*.metainfo.xml.in data/*.gschema.xml 2>/dev/null
} | LC_ALL=C sort -u > "$found"

missing=$(LC_ALL=C comm -23 "$found" "$listed")
if [ -n "$missing" ]; then
  for f in $missing; do
    echo "FAIL: $f has translatable strings but is not in po/POTFILES.in"
  done
  status=1
fi

if [ "$status" -eq 0 ]; then
  echo "ok: po/POTFILES.in lists all $(wc -l < "$listed") files with translatable strings"
fi
exit "$status"
