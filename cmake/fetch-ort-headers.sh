#!/usr/bin/env bash
# Fetches ONNX Runtime's C/C++ API headers from Debian's libonnxruntime-dev package of the stable
# release "trixie" (API version 21) into DEST/include, using apt with a private sources file and a
# private state folder under DEST, so the system's own apt lists and cache are never touched.
# The mirror is whichever Debian mirror the system's apt sources already name.
#
# Usage: fetch-ort-headers.sh DEST
set -euo pipefail

dest=${1:?usage: fetch-ort-headers.sh DEST}
suite=trixie
package=libonnxruntime-dev
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

fail() { echo "ortbind: $*" >&2; exit 1; }

command -v apt-get >/dev/null || fail "no apt-get here; set ONNXRUNTIME_ROOT to an ONNX Runtime release (its include/ folder)."
command -v dpkg-deb >/dev/null || fail "no dpkg-deb here; set ONNXRUNTIME_ROOT to an ONNX Runtime release."
[[ -r $keyring ]] || fail "no Debian archive keyring at $keyring; install debian-archive-keyring or set ONNXRUNTIME_ROOT."

# The first Debian archive URI of the system's configured sources, in either format: one-line
# (sources.list, *.list) or deb822 (*.sources). Security and ports archives carry other paths.
mirror=${ORTBIND_DEBIAN_MIRROR:-}
if [[ -z $mirror ]]; then
  mirror=$(
    {
      cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | sed -nE 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p'
      cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | sed -nE 's/^URIs:[[:space:]]*//p' | tr ' ' '\n'
    } | grep -E '/debian/?$' | head -n 1
  ) || true
fi
[[ -n $mirror ]] || fail "found no Debian mirror in /etc/apt/sources*; set ORTBIND_DEBIAN_MIRROR or ONNXRUNTIME_ROOT."

state=$dest/apt
rm -rf "$state"
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/download" "$dest/include"
echo "deb [signed-by=$keyring] $mirror $suite main" >"$state/sources.list"
: >"$state/status"

apt_opts=(
  -o "Dir::Etc::SourceList=$state/sources.list"
  -o "Dir::Etc::SourceParts=$state/none"
  -o "Dir::State::Lists=$state/lists"
  -o "Dir::State::status=$state/status"
  -o "Dir::Cache=$state/cache"
  -o "APT::Sandbox::User=root"
  -o "Debug::NoLocking=1"
)

echo "ortbind: fetching $package from Debian $suite (mirror from the system's apt sources)"
apt-get "${apt_opts[@]}" -qq update || fail "apt-get update of the private $suite list failed"
(cd "$state/download" && apt-get "${apt_opts[@]}" -qq download "$package") \
  || fail "apt-get download $package failed"

deb=$(ls "$state/download"/"$package"_*.deb | head -n 1)
dpkg-deb -x "$deb" "$state/unpacked"
cp -r "$state/unpacked/usr/include/onnxruntime/." "$dest/include/"
[[ -f $dest/include/onnxruntime_cxx_api.h ]] || fail "$deb holds no onnxruntime_cxx_api.h"
echo "ortbind: ONNX Runtime headers from $(basename "$deb") are in $dest/include"
