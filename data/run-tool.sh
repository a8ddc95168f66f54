#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs a validation tool for a meson test, or skips the test (exit 77) when the tool is
# not installed, saying which one. Usage: run-tool.sh TOOL [ARGS...]
tool=${1:?usage: run-tool.sh TOOL [ARGS...]}
shift
if ! command -v "$tool" >/dev/null 2>&1; then
  echo "SKIP: $tool is not installed"
  exit 77
fi
exec "$tool" "$@"
