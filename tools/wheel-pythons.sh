#!/usr/bin/env bash
# The interpreters `make wheel` builds a wheel for, and that tests/test_wheel.py installs each wheel
# with: every CPython that onnxruntime 1.32.0 (the release the lock holds) has wheels for and that
# ortbind's locks cover, where this machine has it. onnxruntime 1.32.0 has cp311, cp312, cp313,
# cp314, cp313t and cp314t wheels; requirements/wheel.txt and dev.txt cover every regular Python from
# 3.10 on, requirements/wheel-free-threaded.txt and free-threaded.txt the free-threaded 3.13 (their
# numpy, 2.4.6, is the newest with a cp313t wheel), so 3.14t is not built.
#
# Prints one line per interpreter found, "TAG PATH" (TAG as in the wheel's name: cp312, cp313t);
# for each one not found, a line on stderr saying it is skipped and why. Builds and installs nothing.
#
# Where each is looked for:
#   X.Y     pythonX.Y on PATH, else the newest X.Y.* of pyenv's versions
#   3.13t   tools/free-threaded-python.sh's interpreter, once built (or ORTBIND_FT_PYTHON)
#   a path  (anything with a "/") that interpreter, as is
#
# Usage: wheel-pythons.sh [WHICH...]   (default: $ORTBIND_WHEEL_PYTHONS, else "3.11 3.12 3.13 3.14 3.13t")
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if (($# == 0)); then
  read -ra wanted <<<"${ORTBIND_WHEEL_PYTHONS:-3.11 3.12 3.13 3.14 3.13t}"
  set -- "${wanted[@]}"
fi

skip() { echo "ortbind: no wheel for $1: $2" >&2; }

# The interpreter's wheel tag (cp312, cp313t) and its real path, or nothing where it does not run.
describe() {
  "$1" -c 'import sys, sysconfig
free = "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""
print(f"{sys.implementation.name[:2]}{sys.version_info[0]}{sys.version_info[1]}{free} {sys.executable}")' 2>/dev/null
}

pyenv_root=
command -v pyenv >/dev/null && pyenv_root=${PYENV_ROOT:-$(pyenv root)}

# pyenv's shims are passed over: they run only the versions pyenv has selected, slowly, and the
# versions themselves are looked at next.
find_regular() {
  local series=$1 candidate
  candidate=$(command -v "python$series") || candidate=
  if [[ -n $candidate && ( -z $pyenv_root || $candidate != "$pyenv_root/shims/"* ) ]]; then
    echo "$candidate"
    return
  fi
  [[ -n $pyenv_root ]] || return 1
  candidate=$(ls -d "$pyenv_root/versions/$series".* 2>/dev/null | grep -E "/$series\.[0-9]+$" | sort -V | tail -n 1) || return 1
  echo "$candidate/bin/python$series"
}

for which in "$@"; do
  case $which in
    */*) python=$which ;;
    3.13t)
      python=$(bash "$here/free-threaded-python.sh" --find 2>&1) || { skip "$which" "${python#ortbind: }"; continue; }
      ;;
    3.[0-9]*t)
      skip "$which" "requirements/ holds no lock for free-threaded $which"
      continue
      ;;
    3.[0-9]*)
      python=$(find_regular "$which") || { skip "$which" "no python$which on PATH or among pyenv's versions"; continue; }
      ;;
    *)
      echo "ortbind: unknown interpreter '$which' (expected 3.12, 3.13t or a path)" >&2
      exit 2
      ;;
  esac
  found=$(describe "$python") || { skip "$which" "$python does not run"; continue; }
  tag=${found%% *}
  if [[ $which != */* && $tag != "cp${which/./}" ]]; then
    skip "$which" "$python is $tag"
    continue
  fi
  echo "$found"
done
