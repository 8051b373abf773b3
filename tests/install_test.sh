#!/usr/bin/env bash
# install_test.sh BUILD_DIR SOURCE_DIR LIBDIR CC: install the build into a
# temporary prefix and use it as a newcomer would (see tests/install.cmake).
set -euo pipefail
build=$1 src=$2 libdir=$3 cc=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix lib=$tmp/prefix/$libdir
fail() { echo "install test: $*" >&2; exit 1; }
names() { tr '\n' ' ' | cut -c1-400; }  # a list of symbols on one line, cut short
# What embed.c prints: the version and the logits' shape (N x out_channels x 32 x 32).
expect='^glia [0-9]+\.[0-9]+\.[0-9]+: unet2d output 1x[0-9]+x32x32$'
check_run() {  # check_run NAME COMMAND...: runs the program, checks its one line
  local out
  out=$("${@:2}") || fail "$1 exited with $?"
  [[ $out =~ $expect ]] || fail "$1 printed '$out'"
  echo "$1: $out"
}

cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/glia include/glia/glia.h "$libdir"/libglia.a "$libdir"/libglia.so "$libdir"/pkgconfig/glia.pc \
         "$libdir"/cmake/glia/glia-config.cmake "$libdir"/cmake/glia/glia-config-version.cmake; do
  [ -e "$prefix/$f" ] || fail "$f is not installed"
done
# the manual page: every command's section, from the command's own help
man1=$prefix/share/man/man1/glia.1
[ -e "$man1" ] || fail "share/man/man1/glia.1 is not installed"
for c in devices bench train eval infer dataset synth; do
  grep -q "^.SH \"GLIA ${c^^}\"" "$man1" || fail "glia.1 has no section for $c"
done
grep -q -- '--bucket-mb' "$man1" || fail "glia.1 lacks glia help train's options"
soname=$(readelf -d "$lib/libglia.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libglia.so.0 ] || fail "SONAME is '$soname', not libglia.so.0"

# Exports: exactly the functions the installed headers declare (glia.h includes
# them all) that the library defines, each at version GLIA_0; nothing internal
# (names ending in '_', backend functions) and no other library's symbols.
"$cc" -E -P -I"$prefix/include" "$prefix/include/glia/glia.h" |
  grep -oE '(^|[^A-Za-z0-9_])glia_[A-Za-z0-9_]+[[:space:]]*\([[:space:]]*[^*[:space:]]' |
  grep -oE 'glia_[A-Za-z0-9_]+' | sort -u >"$tmp/declared"
nm --defined-only "$lib/libglia.a" 2>/dev/null | awk '$2 == "T" {print $3}' | sort -u >"$tmp/defined"
comm -12 "$tmp/declared" "$tmp/defined" >"$tmp/public"
nm -D --defined-only "$lib/libglia.so" | awk '$3 != "GLIA_0" {print $3}' | sort >"$tmp/exports"
unversioned=$(grep -v '@@GLIA_0$' "$tmp/exports" | names || true)
[ -z "$unversioned" ] || fail "exported without version GLIA_0: $unversioned"
sed -i 's/@@GLIA_0$//' "$tmp/exports"
extra=$(comm -23 "$tmp/exports" "$tmp/public" | names)
[ -z "$extra" ] || fail "exported but not public: $extra"
missing=$(comm -13 "$tmp/exports" "$tmp/public" | names)
[ -z "$missing" ] || fail "public but not exported: $missing"
echo "exports: $(wc -l <"$tmp/exports") public functions, nothing else"

# pkg-config, the shared library.
export PKG_CONFIG_PATH=$lib/pkgconfig
# shellcheck disable=SC2046
"$cc" "$src/examples/embed.c" $(pkg-config --cflags --libs glia) -o "$tmp/embed_pc"
readelf -d "$tmp/embed_pc" | grep -q 'NEEDED.*\[libglia\.so\.0\]' || fail "embed_pc does not need libglia.so.0"
check_run pkg-config env LD_LIBRARY_PATH="$lib" "$tmp/embed_pc"

# pkg-config --static, the static library: its dependencies come from Libs.private
# and Requires.private (-l:libglia.a makes the linker take the archive).
libs=$(pkg-config --static --libs glia)
# shellcheck disable=SC2046,SC2086
"$cc" "$src/examples/embed.c" $(pkg-config --cflags glia) ${libs/-lglia /-l:libglia.a } -o "$tmp/embed_static"
! readelf -d "$tmp/embed_static" | grep -q 'libglia' || fail "embed_static needs libglia.so"
check_run pkg-config-static "$tmp/embed_static"

# find_package(glia) and glia::glia; CMake's build RPATH finds the library.
cmake -S "$src/tests/install_app" -B "$tmp/app" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_C_COMPILER="$cc" -DEMBED_SOURCE="$src/examples/embed.c" >/dev/null
cmake --build "$tmp/app" >/dev/null
check_run find_package "$tmp/app/app"
