#!/usr/bin/env bash
# Builds a free-threaded CPython (PEP 703, `--disable-gil`) once into a cache outside the checkout
# and prints the path of its interpreter. A second call finds it and only prints the path.
#
# The source is Debian trixie's python3.13 source package, whose .orig tarball is upstream's
# Python-X.Y.Z.tar.xz unchanged; apt fetches it with a private sources file and state folder, so the
# system's own apt lists are never touched, from whichever Debian mirror the system's apt sources
# name. The build uses pyenv's python-build definition `X.Y.Zt` where pyenv has one (it checks the
# tarball against upstream's checksum), else `configure --disable-gil`. No PGO. Measured on a
# 2-core machine that other builds were sharing: 14.5 minutes, of which 4.6 minutes of CPU (4m06s
# user, 32s system) were the build's own, so less where the cores are free; fetching the source
# takes seconds, and a later call returns at once.
#
# Environment:
#   ORTBIND_FT_PYTHON          an existing free-threaded interpreter to use instead (printed as is)
#   ORTBIND_FT_PYTHON_CACHE    the cache folder (default ~/.cache/ortbind/python); the build goes to
#                              <cache>/<version>t, e.g. 3.13.5t, and its interpreter is bin/python3.13t
#   ORTBIND_DEBIAN_MIRROR      the Debian mirror, where the system's apt sources name none
#
# Usage: free-threaded-python.sh [--find]   (progress on stderr, the interpreter's path on stdout)
#   --find   builds nothing: prints the interpreter where one is built (or named), else fails saying so
set -euo pipefail

find_only=
[[ ${1:-} == --find ]] && find_only=1

series=3.13
suite=trixie
package=python$series
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cache=${ORTBIND_FT_PYTHON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ortbind/python}

fail() { echo "ortbind: $*" >&2; exit 1; }
say() { echo "ortbind: $*" >&2; }

# Only a free-threaded interpreter counts: a regular one would run the suite with the GIL and pass.
is_free_threaded() {
  [[ -x $1 ]] && "$1" -c 'import sys, sysconfig; sys.exit(not sysconfig.get_config_var("Py_GIL_DISABLED"))' 2>/dev/null
}

if [[ -n ${ORTBIND_FT_PYTHON:-} ]]; then
  is_free_threaded "$ORTBIND_FT_PYTHON" || fail "ORTBIND_FT_PYTHON=$ORTBIND_FT_PYTHON is not a free-threaded interpreter"
  echo "$ORTBIND_FT_PYTHON"
  exit 0
fi

# A finished build carries .complete (written last): a folder without it is an interrupted build.
find_built() {
  local done
  for done in "$cache"/"$series".*t/.complete; do
    [[ -e $done ]] || continue
    local python=${done%/.complete}/bin/python${series}t
    if is_free_threaded "$python"; then
      echo "$python"
      return 0
    fi
  done
  return 1
}

find_built && exit 0
[[ -z $find_only ]] || fail "no free-threaded CPython $series built in $cache yet (tools/free-threaded-python.sh or make build-ft builds one)"

# One build at a time: a second caller waits for the first and then finds its result.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
find_built && exit 0

command -v apt-get >/dev/null || fail "no apt-get here; set ORTBIND_FT_PYTHON to a free-threaded CPython $series"
[[ -r $keyring ]] || fail "no Debian archive keyring at $keyring; set ORTBIND_FT_PYTHON instead"

# The first Debian archive URI of the system's configured sources, as cmake/fetch-ort-headers.sh
# finds it (one-line or deb822 format; security and ports archives carry other paths).
mirror=${ORTBIND_DEBIAN_MIRROR:-}
if [[ -z $mirror ]]; then
  mirror=$(
    {
      cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | sed -nE 's/^[[:space:]]*deb(-src)?[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\3/p'
      cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | sed -nE 's/^URIs:[[:space:]]*//p' | tr ' ' '\n'
    } | grep -E '/debian/?$' | head -n 1
  ) || true
fi
[[ -n $mirror ]] || fail "found no Debian mirror in /etc/apt/sources*; set ORTBIND_DEBIAN_MIRROR or ORTBIND_FT_PYTHON."

work=$(mktemp -d "$cache/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
state=$work/apt
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$work/source"
echo "deb-src [signed-by=$keyring] $mirror $suite main" >"$state/sources.list"
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

started=$SECONDS
say "fetching the $package source package from Debian $suite (mirror from the system's apt sources)"
apt-get "${apt_opts[@]}" -qq update || fail "apt-get update of the private $suite source list failed"
(cd "$work/source" && apt-get "${apt_opts[@]}" -qq source --download-only "$package") \
  || fail "apt-get source --download-only $package failed"

orig=$(ls "$work/source/${package}_${series}".*.orig.tar.xz 2>/dev/null | head -n 1)
[[ -n $orig ]] || fail "the $package source package holds no ${package}_${series}.*.orig.tar.xz"
version=$(basename "$orig")
version=${version#"${package}_"}
version=${version%.orig.tar.xz}
[[ $version =~ ^$series\.[0-9]+$ ]] || fail "unexpected upstream version '$version' in $(basename "$orig")"

prefix=$cache/${version}t
rm -rf "$prefix"
# The .orig tarball under upstream's own name, where python-build looks for it before downloading.
tarballs=$work/tarballs
mkdir -p "$tarballs"
cp "$orig" "$tarballs/Python-$version.tar.xz"

jobs=$(nproc)
python_build=
if command -v pyenv >/dev/null; then
  python_build=$(pyenv root)/plugins/python-build/bin/python-build
  [[ -x $python_build ]] && "$python_build" --definitions | grep -qx "${version}t" || python_build=
fi
if [[ -n $python_build ]]; then
  say "building CPython ${version}t with pyenv's python-build into $prefix"
  PYTHON_BUILD_CACHE_PATH=$tarballs MAKE_OPTS=-j$jobs TMPDIR=$work "$python_build" "${version}t" "$prefix" >&2 \
    || fail "python-build ${version}t failed"
else
  say "building CPython $version with configure --disable-gil into $prefix"
  tar -xJf "$tarballs/Python-$version.tar.xz" -C "$work"
  (
    cd "$work/Python-$version"
    ./configure --disable-gil --prefix="$prefix" --with-ensurepip=install >"$work/configure.log" 2>&1 \
      || { tail -n 40 "$work/configure.log" >&2; exit 1; }
    make -j"$jobs" >"$work/make.log" 2>&1 || { tail -n 40 "$work/make.log" >&2; exit 1; }
    make install >"$work/install.log" 2>&1 || { tail -n 40 "$work/install.log" >&2; exit 1; }
  ) || fail "building CPython $version failed"
fi

python=$prefix/bin/python${series}t
is_free_threaded "$python" || fail "$python was built but is not free-threaded"
touch "$prefix/.complete"
say "CPython ${version}t built in $((SECONDS - started)) s: $python"
echo "$python"
