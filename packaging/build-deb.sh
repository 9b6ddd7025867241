#!/bin/bash
# packaging/build-deb.sh OUT_DIR: builds the .deb (dpkg-buildpackage -b) from the working tree's
# files (packaging/source-files.sh) in OUT_DIR/podreaper-VERSION. The .deb, .changes and .buildinfo
# land in OUT_DIR; the last line on stdout is the .deb's path.
set -euo pipefail
out=${1:?usage: build-deb.sh OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
version=$(cat VERSION)
tree=$out/podreaper-$version

rm -rf "$tree"
mkdir -p "$tree"
packaging/source-files.sh | tar --null -T - -cf - | tar -xf - -C "$tree"
mv "$tree/packaging/debian" "$tree/debian"
(cd "$tree" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b) >&2
ls "$out"/podreaper_"$version"_*.deb
