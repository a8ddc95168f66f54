#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Checks the Flatpak manifest: valid JSON, and the fields this app relies on.
# Usage: check-manifest.py MANIFEST APP_ID

import json
import sys


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


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
    # GNOME 43 is the first runtime with GTK 4.8 and libadwaita 1.2.
    try:
        if int(manifest.get('runtime-version', '0')) < 43:
            fail('runtime-version is older than 43')
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
    if not any(s.get('type') == 'dir' for s in main_module.get('sources', [])):
        fail('the last module does not build from the local directory')

    print('ok: %s' % path)


if __name__ == '__main__':
    main()
