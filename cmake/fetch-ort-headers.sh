#!/usr/bin/env bash
# Fetches ONNX Runtime's C/C++ API headers from Debian's libonnxruntime-dev into DEST/include, using
# apt with a private sources file and a private state folder under DEST, so the system's own apt
# lists and cache are never touched. The mirror is whichever Debian mirror the system's apt sources
# already name.
#
# The headers are those of 1.27.1 (C API version 27: plugin execution providers, devices, the
# compile API, per-run profiling), which Debian carries in its "experimental" suite. A suite can
# drop a version, so the newest that is there is taken in this order: 1.27.1 from experimental,
# unstable's (1.23, API 23), then the stable release trixie's (1.21, API 21). ortbind builds against
# any of them; what needs a newer API than the headers describe is reported unavailable at run time
# (ortbind.runtime.FEATURES), as it is when the loaded runtime is older.
#
# Usage: fetch-ort-headers.sh DEST
set -euo pipefail

dest=${1:?usage: fetch-ort-headers.sh DEST}
package=libonnxruntime-dev
# suite:version, newest first; an empty version takes the suite's own.
candidates=("experimental:1.27.1+dfsg-1" "sid:" "trixie:")
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
for candidate in "${candidates[@]}"; do
  echo "deb [signed-by=$keyring] $mirror ${candidate%%:*} main"
done >"$state/sources.list"
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

echo "ortbind: fetching $package from Debian (mirror from the system's apt sources)"
apt-get "${apt_opts[@]}" -qq update || fail "apt-get update of the private Debian lists failed"
fetched=
for candidate in "${candidates[@]}"; do
  suite=${candidate%%:*} version=${candidate#*:}
  if [[ -n $version ]]; then
    spec="$package=$version"
  else
    spec="$package/$suite"
  fi
  if (cd "$state/download" && apt-get "${apt_opts[@]}" -qq download "$spec" 2>/dev/null); then
    fetched=$suite
    break
  fi
  echo "ortbind: $spec is not in Debian's $suite now; trying the next"
done
[[ -n $fetched ]] || fail "apt-get download $package failed from every suite tried"

deb=$(ls "$state/download"/"$package"_*.deb | head -n 1)
dpkg-deb -x "$deb" "$state/unpacked"
cp -r "$state/unpacked/usr/include/onnxruntime/." "$dest/include/"
[[ -f $dest/include/onnxruntime_cxx_api.h ]] || fail "$deb holds no onnxruntime_cxx_api.h"
echo "ortbind: ONNX Runtime headers from $(basename "$deb") are in $dest/include"
