#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Checks what `meson install` puts where, without building: configures a server-only build
# of the source tree in a temporary folder for a prefix and reads its install plan
# (`meson introspect --installed`) and the systemd unit it would install. The unit must
# start the server and read the configuration where that prefix installs them, and the
# bench tools are installed only when asked for.
# Usage: check-install.py MESON SOURCE_ROOT

import json
import os
import shlex
import subprocess
import sys
import tempfile

BENCH_PROGRAMS = ('chatroom-bench', 'chatroom-bench-relay')
UNIT = 'chatroom-server.service'
CONFIG = 'chatroom-server.conf'


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def install_plan(meson, srcdir, tmp, prefix, options):
    builddir = os.path.join(tmp, 'build' + prefix.replace('/', '-'))
    setup = [meson, 'setup', builddir, srcdir, '--prefix', prefix,
             '-Dui=false', '-Dinterop=disabled'] + options
    result = subprocess.run(setup, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True)
    if result.returncode != 0:
        print(result.stdout)
        fail('meson setup --prefix %s %s failed' % (prefix, ' '.join(options)))
    out = subprocess.check_output([meson, 'introspect', builddir, '--installed'],
                                  universal_newlines=True)
    # {file in the build or source tree: where it is installed}
    return json.loads(out)


def exec_start(unit_path):
    # The unit's ExecStart as a list of words, its continuation lines joined.
    with open(unit_path, encoding='utf-8') as f:
        text = f.read().replace('\\\n', ' ')
    for line in text.splitlines():
        if line.startswith('ExecStart='):
            return shlex.split(line[len('ExecStart='):])
    fail('%s has no ExecStart' % unit_path)


def check(meson, srcdir, tmp, prefix, bindir, sysconfdir, options=(), bench=False):
    plan = install_plan(meson, srcdir, tmp, prefix, list(options))
    where = {os.path.basename(dest): (src, dest) for src, dest in plan.items()}
    label = 'prefix %s' % prefix

    for name in ('chatroom-server', UNIT, CONFIG):
        if name not in where:
            fail('%s: %s is not installed' % (label, name))
    server_dest = where['chatroom-server'][1]
    config_dest = where[CONFIG][1]
    if server_dest != bindir + '/chatroom-server':
        fail('%s: chatroom-server goes to %s' % (label, server_dest))
    if config_dest != sysconfdir + '/chatroom/' + CONFIG:
        fail('%s: the configuration goes to %s' % (label, config_dest))

    unit_src, unit_dest = where[UNIT]
    if not unit_dest.startswith(prefix.rstrip('/') + '/'):
        fail('%s: the unit goes to %s, outside the prefix' % (label, unit_dest))
    argv = exec_start(unit_src)
    if argv[0] != server_dest:
        fail('%s: ExecStart runs %s, not %s' % (label, argv[0], server_dest))
    if '--config' not in argv or argv.index('--config') + 1 >= len(argv):
        fail('%s: ExecStart has no --config' % label)
    config_arg = argv[argv.index('--config') + 1]
    if config_arg != config_dest:
        fail('%s: ExecStart reads %s, not %s' % (label, config_arg, config_dest))

    for program in BENCH_PROGRAMS:
        if bench and where.get(program, (None, None))[1] != bindir + '/' + program:
            fail('%s %s: %s is not installed' % (label, ' '.join(options), program))
        if not bench and program in where:
            fail('%s: %s is installed by default (%s)' % (label, program, where[program][1]))
    print('ok: %s: %s' % (label, ' '.join(argv)))


def main():
    if len(sys.argv) != 3:
        print('usage: check-install.py MESON SOURCE_ROOT', file=sys.stderr)
        sys.exit(2)
    meson, srcdir = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix='chatroom-install-') as tmp:
        check(meson, srcdir, tmp, '/usr/local', '/usr/local/bin', '/usr/local/etc')
        # meson puts a /usr prefix's configuration in /etc; the bench tools on request.
        check(meson, srcdir, tmp, '/usr', '/usr/bin', '/etc',
              options=['-Dinstall-bench=true'], bench=True)


if __name__ == '__main__':
    main()
