#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Checks one translation: msgfmt --check passes, nothing is fuzzy or untranslated, and
# every string the sources have today is translated (a fresh template merged into it), and no
# translation keeps a mnemonic suffix such as "(_C)".
# Usage: check-po.sh SOURCE_ROOT LANG
set -u

top=${1:?usage: check-po.sh SOURCE_ROOT LANG}
lang=${2:?usage: check-po.sh SOURCE_ROOT LANG}
po="$top/po/$lang.po"

for tool in msgfmt xgettext msgmerge; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool is not installed (Debian package gettext)"
    exit 77
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! msgfmt --check --statistics -o "$tmp/$lang.mo" "$po" 2> "$tmp/stats"; then
  cat "$tmp/stats"
  echo "FAIL: msgfmt --check $po"
  exit 1
fi
cat "$tmp/stats"
if grep -q -e 'fuzzy' -e 'untranslated' "$tmp/stats"; then
  echo "FAIL: $po has fuzzy or untranslated messages"
  exit 1
fi

# A mnemonic is not written as a Latin letter after the words ("取消(_C)", shown as "取消(C)"):
# such a translation leaves the mnemonic out. Continued lines belong to the msgstr above them.
awk '/^msgstr/ { in_str = 1 } /^msgid/ { in_str = 0 }
     in_str && /[(（]_[[:alnum:]][)）]/ { print FILENAME ":" FNR ": " $0 }' "$po" > "$tmp/suffixes"
if [ -s "$tmp/suffixes" ]; then
  cat "$tmp/suffixes"
  echo "FAIL: $po keeps mnemonic suffixes such as (_C); translate without them"
  exit 1
fi

# The same keywords as i18n.gettext (preset: 'glib').
(cd "$top" && grep -v -e '^#' -e '^[[:space:]]*$' po/POTFILES.in > "$tmp/files" &&
  xgettext --from-code=UTF-8 --add-comments --files-from="$tmp/files" \
    --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
    --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
    --output="$tmp/chatroom.pot" 2> "$tmp/xgettext.log")
if [ ! -f "$tmp/chatroom.pot" ]; then
  cat "$tmp/xgettext.log"
  echo "FAIL: xgettext could not extract the strings listed in po/POTFILES.in"
  exit 1
fi

msgmerge --quiet --no-fuzzy-matching -o "$tmp/merged.po" "$po" "$tmp/chatroom.pot"
msgattrib --untranslated --no-obsolete "$tmp/merged.po" > "$tmp/missing.po"
count=$(grep -c '^msgid ' "$tmp/missing.po")
# msgattrib keeps the header entry (msgid "") when anything is printed.
if [ "$count" -gt 1 ]; then
  echo "FAIL: $po lacks $((count - 1)) string(s) the sources have:"
  grep -A1 '^#:' "$tmp/missing.po" | head -n 40
  exit 1
fi
echo "ok: $po translates every string of the sources"
