#!/usr/bin/env bash
# Makes TorchSharp's native glue load on systems whose libstdc++ predates GCC 13 (Debian 12).
# libLibTorchSharp.so needs GLIBCXX_3.4.32 for exactly one symbol, std::ios_base_library_init(); we supply it
# from a one-line shim library, drop the symbol's version, add the shim as a dependency and mark the version
# requirement weak. Runs after every build (MSBuild target in Directory.Build.targets), is idempotent, and
# does nothing where the system libstdc++ already has the version (GCC 13+: Ubuntu 24.04, Debian 13).
# Usage: torchsharp-fix.sh OUTPUT_DIR
set -euo pipefail
out=${1:?usage: torchsharp-fix.sh OUTPUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
native="$out/runtimes/linux-x64/native"
lib="$native/libLibTorchSharp.so"
[ -f "$lib" ] || exit 0

need=GLIBCXX_3.4.32
sys=$( (ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}') || true)
[ -n "$sys" ] || sys=/usr/lib/x86_64-linux-gnu/libstdc++.so.6
if [ -f "$sys" ] && grep -qa "$need" "$sys"; then exit 0; fi

ensure_tool() { # tool package
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "torchsharp-fix: installing $2" >&2
    (apt-get install -y -q "$2" >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$2" >/dev/null; })
  fi
  command -v "$1" >/dev/null 2>&1 || { echo "torchsharp-fix: '$1' is needed to patch $lib (apt-get install $2)" >&2; exit 1; }
}
ensure_tool patchelf patchelf
ensure_tool g++ g++

if patchelf --print-needed "$lib" | grep -qx libstdcxx_compat.so; then exit 0; fi

# Serialise concurrent builds (several projects may patch at once).
exec 9>"$native/.torchsharp-fix.lock"
flock 9
if patchelf --print-needed "$lib" | grep -qx libstdcxx_compat.so; then exit 0; fi

cache="$here/.cache"
mkdir -p "$cache"
if [ ! -f "$cache/libstdcxx_compat.so" ]; then
  printf '#include <ios>\nnamespace std { void ios_base_library_init() { static ios_base::Init init; } }\n' > "$cache/shim.cpp"
  g++ -O2 -shared -fPIC -o "$cache/libstdcxx_compat.so.tmp" "$cache/shim.cpp"
  mv "$cache/libstdcxx_compat.so.tmp" "$cache/libstdcxx_compat.so"
fi
if [ ! -x "$cache/weaken_verneed" ] || [ "$here/weaken_verneed.c" -nt "$cache/weaken_verneed" ]; then
  gcc -O2 -o "$cache/weaken_verneed.tmp" "$here/weaken_verneed.c" && mv "$cache/weaken_verneed.tmp" "$cache/weaken_verneed"
fi

tmp="$lib.fixing"
cp "$lib" "$tmp"
patchelf --clear-symbol-version _ZSt21ios_base_library_initv "$tmp"
patchelf --add-needed libstdcxx_compat.so "$tmp"
"$cache/weaken_verneed" "$tmp" "$need" >/dev/null
cp "$cache/libstdcxx_compat.so" "$native/libstdcxx_compat.so"
mv "$tmp" "$lib"
echo "torchsharp-fix: patched $lib for $(basename "$sys") without $need"
