#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Checks the Flatpak manifest: valid JSON, and the fields this app relies on: a supported
# GNOME runtime, the libraries the runtime lacks (liburing) pinned by checksum, the tests
# left out, and no build folder of the working tree copied in.
# Usage: check-manifest.py MANIFEST APP_ID

import json
import os
import re
import sys

# The oldest GNOME runtime Flathub still supports: 47 reached its end of life in October
# 2025 and 48 in March 2026, each about a year after its release. Raise it as they end.
OLDEST_SUPPORTED_RUNTIME = 50

# A build folder as the docs and scripts name one: build-asan, $top/build-fuzz, ...
BUILD_DIR_RE = re.compile(r'(?<![\w.-])(_?build-[a-z0-9][a-z0-9_-]*)')


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def is_build_dir(name):
    return re.match(r'_?build', name) is not None and name != 'build-aux'


def named_build_dirs(srcdir):
    # Every build folder the project's docs and scripts tell people to make; a "dir" source
    # skips exact names only (no patterns), so each must be in the list.
    names = {'build', '_build'}
    for root, dirs, files in os.walk(srcdir):
        dirs[:] = [d for d in dirs if not d.startswith('.') and not is_build_dir(d)]
        for name in files:
            if not name.endswith(('.md', '.sh')):
                continue
            with open(os.path.join(root, name), encoding='utf-8', errors='replace') as f:
                names.update(m.group(1) for m in BUILD_DIR_RE.finditer(f.read()))
    names.discard('build-aux')
    return sorted(names)


def main():
    if len(sys.argv) != 3:
        print('usage: check-manifest.py MANIFEST APP_ID', file=sys.stderr)
        sys.exit(2)
    path, app_id = sys.argv[1], sys.argv[2]
    try:
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
    except ValueError as e:
        fail('%s is not valid JSON: %s' % (path, e))

    if manifest.get('id', manifest.get('app-id')) != app_id:
        fail('id is not %s' % app_id)
    if manifest.get('runtime') != 'org.gnome.Platform':
        fail('runtime is not org.gnome.Platform')
    if manifest.get('sdk') != 'org.gnome.Sdk':
        fail('sdk is not org.gnome.Sdk')
    try:
        if int(manifest.get('runtime-version', '0')) < OLDEST_SUPPORTED_RUNTIME:
            fail('runtime-version %s has reached its end of life (%d is the oldest supported)'
                 % (manifest.get('runtime-version'), OLDEST_SUPPORTED_RUNTIME))
    except ValueError:
        fail('runtime-version is not a GNOME release number')
    if manifest.get('command') != 'chatroom':
        fail('command is not chatroom')

    wanted = ['--share=network', '--share=ipc', '--socket=wayland',
              '--socket=fallback-x11', '--device=dri']
    args = manifest.get('finish-args', [])
    for arg in wanted:
        if arg not in args:
            fail('finish-args lacks %s' % arg)

    modules = manifest.get('modules', [])
    if not modules or not isinstance(modules[-1], dict):
        fail('the last module must describe this project')
    main_module = modules[-1]
    if main_module.get('buildsystem') != 'meson':
        fail('the last module does not build with meson')
    dir_sources = [s for s in main_module.get('sources', []) if s.get('type') == 'dir']
    if not dir_sources:
        fail('the last module does not build from the local directory')
    if '-Dtests=false' not in main_module.get('config-opts', []):
        fail('the last module builds the tests (config-opts lacks -Dtests=false)')

    # The GNOME runtime has no liburing: without it the server writes each session with
    # its own sendmsg() (src/server/chat-server-uring.c), so the app brings its own.
    names = [m.get('name') for m in modules[:-1] if isinstance(m, dict)]
    if 'liburing' not in names:
        fail('no liburing module before the last one (the server would write without io_uring)')
    for m in modules[:-1]:
        for source in m.get('sources', []) if isinstance(m, dict) else []:
            if source.get('type') == 'archive' and not re.fullmatch(r'[0-9a-f]{64}',
                                                                     source.get('sha256', '')):
                fail('the %s module fetches %s without its sha256'
                     % (m.get('name'), source.get('url')))

    srcdir = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(path)),
                                           dir_sources[0].get('path', '.')))
    skip = dir_sources[0].get('skip', [])
    for name in ['.git', '.flatpak-builder'] + named_build_dirs(srcdir):
        if name not in skip:
            fail('the local directory is copied in with %s (add it to "skip")' % name)
    if 'build-aux' in skip:
        fail('"skip" leaves out build-aux, which is source')

    print('ok: %s' % path)


if __name__ == '__main__':
    main()
