#!/bin/sh
# packaging/source-files.sh: the working tree's files as git sees them, NUL-separated and relative
# to the top (tracked and untracked, .gitignore'd build dirs left out): what CI has checked out,
# plus what is not committed yet on a developer's machine. Outside a git checkout: every file but
# the build dirs. What the packages and the VM suite are built from.
cd "$(dirname "$0")/.." || exit 2
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        exec git ls-files -z --cached --others --exclude-standard
fi
exec find . \( -path ./build -o -path ./build-asan -o -path ./build-fuzz -o -path ./.git \) -prune \
        -o -type f -printf '%P\0'
