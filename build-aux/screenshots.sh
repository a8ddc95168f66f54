#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Takes the metainfo screenshots of the real app under Xvfb: a hosted room with people
# talking, light and dark, wide and narrow, and the "How Others Join" dialog.
#   build-aux/screenshots.sh [BUILDDIR]     (default: build) -> data/screenshots/*.png
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
out="$top/data/screenshots"
app="$build/src/app/chatroom"

for tool in xvfb-run import dbus-run-session; do
  command -v "$tool" >/dev/null || { echo "screenshots.sh: $tool is missing" >&2; exit 77; }
done
[ -x "$app" ] || { echo "screenshots.sh: build $app first" >&2; exit 1; }
mkdir -p "$out"

# One shot: style (light|dark), width, height, name, and what to show (room|host).
shoot () {
  local style=$1 width=$2 height=$3 name=$4 what=$5
  local tmp
  tmp=$(mktemp -d)
  mkdir -p "$tmp/config/glib-2.0/settings"
  cat > "$tmp/config/glib-2.0/settings/keyfile" <<KEYS
[io/github/chatroom/Chatroom]
color-scheme='$style'
window-width=$width
window-height=$height
default-nick='maria'
real-name='Maria Lopez'
KEYS
  local port
  port=$(/usr/bin/python3 -c \
    'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

  XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" GSETTINGS_BACKEND=keyfile \
  GSETTINGS_SCHEMA_DIR="$build/data" NO_AT_BRIDGE=1 GTK_A11Y=none LANG=${LANG:-C.UTF-8} \
  xvfb-run -a -s "-screen 0 ${width}x${height}x24" dbus-run-session -- bash -c '
    set -e
    "$0" --host --port "$1" >/dev/null 2>&1 &
    app_pid=$!
    sleep 3
    /usr/bin/python3 - "$1" <<"PY" &
import socket, sys, time
port = int(sys.argv[1])
def person(nick, real):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :{real}\r\n".encode())
    time.sleep(0.3)
    s.sendall(b"JOIN #hall\r\n")
    return s
people = [person("ahmed", "Ahmed"), person("li_wei", "Li Wei"), person("sophie", "Sophie"),
          person("tom", "Tom")]
time.sleep(0.5)
lines = [
    (2, "TOPIC #hall :Team room: projector news, lunch plans and notes"),
    (0, "PRIVMSG #hall :Good morning everyone!"),
    (1, "PRIVMSG #hall :Morning! Is the projector in room 4 working today?"),
    (1, "PRIVMSG #hall :The slides are at https://example.org/slides"),
    (2, "PRIVMSG #hall :\x01ACTION brings coffee for the team\x01"),
    (3, "PRIVMSG #hall :maria: can you share the notes from yesterday?"),
    (0, "PRIVMSG #hall :你好！Nice to see the chat working 🎉"),
    (2, "PRIVMSG #hall :Lunch at 12:30?"),
]
for who, line in lines:
    people[who].sendall((line + "\r\n").encode())
    time.sleep(0.25)
time.sleep(30)
PY
    sleep 4
    if [ "$2" = host ]; then
      gdbus call --session --dest io.github.chatroom.Chatroom \
        --object-path /io/github/chatroom/Chatroom \
        --method org.gtk.Actions.Activate hosting-info [] {} >/dev/null
      sleep 2
    fi
    import -window root "$3"
    kill $app_pid 2>/dev/null || true
  ' "$app" "$port" "$what" "$out/$name.png"
  rm -rf "$tmp"
  echo "$out/$name.png"
}

shoot light 1200 760 room-light room
shoot dark 1200 760 room-dark room
shoot light 1200 760 host-light host
shoot light 400 760 narrow-light room
