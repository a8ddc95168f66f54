#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A python3-irc client for the server's interop test.

Registers as NICK, joins #hall, says "hello from python", and when someone says
"hi python" answers "python heard NAME" and quits. Exit status 0 only if that
whole conversation happened.
"""
import signal
import sys

import irc.client


def main():
    host, port, nick = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    state = {"answered": False}

    def on_welcome(connection, event):
        connection.join("#hall")

    def on_join(connection, event):
        if event.source.nick == nick:
            connection.privmsg("#hall", "hello from python")

    def on_pubmsg(connection, event):
        if "hi python" in event.arguments[0]:
            connection.privmsg("#hall", "python heard " + event.source.nick)
            state["answered"] = True
            connection.quit("done")

    def on_disconnect(connection, event):
        sys.exit(0 if state["answered"] else 1)

    # Never hang a test run.
    signal.signal(signal.SIGALRM, lambda *args: sys.exit(2))
    signal.alarm(60)

    # Debian 12's python3-irc (8.5) calls the reactor IRC; newer ones Reactor.
    reactor_class = getattr(irc.client, "Reactor", None) or irc.client.IRC
    reactor = reactor_class()
    reactor.add_global_handler("welcome", on_welcome)
    reactor.add_global_handler("join", on_join)
    reactor.add_global_handler("pubmsg", on_pubmsg)
    reactor.add_global_handler("disconnect", on_disconnect)
    reactor.server().connect(host, port, nick, username=nick, ircname="python3-irc interop")
    reactor.process_forever()


if __name__ == "__main__":
    main()
