#!/usr/bin/env bash
# Type-checks wsdeck_car.ino (g++ -fsyntax-only, warnings as errors for the sketch, not for the
# libraries) against the real Arduino-ESP32 core, ESPAsyncWebServer and AsyncTCP headers, in the
# configurations a person is told they may choose: access point and station mode, TELEMETRY_HZ 0,
# with and without the app's wsdeck_assets.h. wsdeck does not ship those libraries and CI does
# not run this: obtain them yourself (see docs/FIRMWARE.md, "Checking the sketch").
#
#   firmware/arduino/typecheck.sh CORE SDK WEBSERVER ASYNCTCP
#
# CORE       an Arduino-ESP32 core: a checkout of espressif/arduino-esp32 (2.0.x or 3.x) or the
#            board package, e.g. ~/.arduino15/packages/esp32/hardware/esp32/3.3.0
# SDK        its ESP-IDF headers and flags, the folder that holds flags/ and include/:
#            core 2.0.x: CORE/tools/sdk/esp32; core 3.x:
#            ~/.arduino15/packages/esp32/tools/esp32-arduino-libs/<version>/esp32
# WEBSERVER  ESPAsyncWebServer by ESP32Async (3.11 or later), e.g. ~/Arduino/libraries/ESPAsyncWebServer
# ASYNCTCP   AsyncTCP by ESP32Async (3.5 or later), e.g. ~/Arduino/libraries/Async_TCP
#
# CXXSTD picks the language (default gnu++17; core 3.x builds with gnu++2b).
# CXX picks the compiler: by default the board package's xtensa-esp32-elf-g++ when it is on PATH
# (Arduino IDE: ~/.arduino15/packages/esp32/tools/*/*/bin), else the host's g++ (which parses
# the same headers; sizes of long and pointers then differ from the chip's).
set -euo pipefail

if [ $# -ne 4 ]; then
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
core=$(cd "$1" && pwd)
sdk=$(cd "$2" && pwd)
webserver=$(cd "$3" && pwd)
asynctcp=$(cd "$4" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
sketch="$here/wsdeck_car"
repo=$(cd "$here/../.." && pwd)

for f in "$core/cores/esp32/Arduino.h" "$sdk/flags/includes" "$sdk/flags/defines" \
  "$webserver/src/ESPAsyncWebServer.h" "$asynctcp/src/AsyncTCP.h"; do
  [ -f "$f" ] || { echo "typecheck: $f is missing (see the usage: $0 with no arguments)" >&2; exit 2; }
done

if [ -z "${CXX:-}" ]; then
  if command -v xtensa-esp32-elf-g++ > /dev/null; then CXX=xtensa-esp32-elf-g++; else CXX=g++; fi
fi

# The IDF include folders, as the core's platform.txt gives them (-iprefix SDK/include/ plus
# -iwithprefixbefore X), turned into -isystem so that only the sketch's own warnings count.
idf_includes=()
prefixed=0
for word in $(cat "$sdk/flags/includes"); do
  case "$word" in
    -iwithprefixbefore) prefixed=1 ;;
    -iwithprefixbefore*) idf_includes+=(-isystem "$sdk/include/${word#-iwithprefixbefore}") ;;
    -I*) idf_includes+=(-isystem "${word#-I}") ;;
    *) if [ $prefixed = 1 ]; then idf_includes+=(-isystem "$sdk/include/$word"); prefixed=0; fi ;;
  esac
done
# sdkconfig.h: one folder per flash mode; any will do for a type-check.
sdkconfig=$(dirname "$(ls "$sdk"/*/include/sdkconfig.h | head -n 1)")

libraries=()
for dir in "$core"/libraries/*/src; do libraries+=(-isystem "$dir"); done

flags=(
  -x c++ -std="${CXXSTD:-gnu++17}" -fsyntax-only -fno-rtti -Wall -Wextra -Werror
  -DESP32 -DARDUINO=10819 -DARDUINO_ARCH_ESP32 -DARDUINO_ESP32_DEV '-DARDUINO_BOARD="ESP32_DEV"'
  '-DARDUINO_VARIANT="esp32"' -DF_CPU=240000000L -DCORE_DEBUG_LEVEL=0 -DARDUINO_RUNNING_CORE=1
  -DARDUINO_EVENT_RUNNING_CORE=1 -DARDUINO_USB_CDC_ON_BOOT=0
  "@$sdk/flags/defines"
  "${idf_includes[@]}" -isystem "$sdkconfig"
  -isystem "$core/cores/esp32" -isystem "$core/variants/esp32" "${libraries[@]}"
  -isystem "$webserver/src" -isystem "$asynctcp/src"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
# variant name, then a sed expression applied to a copy of the sketch.
check() {
  local name=$1 edit=$2 assets=$3
  rm -rf "$work/wsdeck_car"
  cp -R "$sketch" "$work/wsdeck_car"
  rm -f "$work/wsdeck_car/wsdeck_assets.h"
  if [ -n "$assets" ]; then cp "$assets" "$work/wsdeck_car/wsdeck_assets.h"; fi
  sed -i.orig -e "$edit" "$work/wsdeck_car/wsdeck_car.ino"
  if cmp -s "$work/wsdeck_car/wsdeck_car.ino" "$work/wsdeck_car/wsdeck_car.ino.orig" && [ -n "$edit" ]; then
    echo "typecheck: $name: the edit '$edit' changed nothing (has the sketch's configuration moved?)" >&2
    failed=1
    return
  fi
  if "$CXX" "${flags[@]}" -I"$work/wsdeck_car" "$work/wsdeck_car/wsdeck_car.ino"; then
    echo "ok - $name"
  else
    echo "not ok - $name"
    failed=1
  fi
}

assets=""
if [ -f "$repo/target/flash/wsdeck_assets.h" ]; then assets="$repo/target/flash/wsdeck_assets.h"; fi
echo "typecheck: $CXX against $core, $webserver, $asynctcp"
check "access point (the default), no app header" "" ""
check "station mode" 's/^#define WSDECK_SOFTAP 1$/#define WSDECK_SOFTAP 0/' ""
check "TELEMETRY_HZ = 0" 's/TELEMETRY_HZ = 20;/TELEMETRY_HZ = 0;/' ""
check "a pairing token" 's/PAIRING_TOKEN = "";/PAIRING_TOKEN = "blue-tiger-42";/' ""
if [ -n "$assets" ]; then
  check "with target/flash/wsdeck_assets.h" "" "$assets"
else
  echo "skip - with the app's header (run cargo xtask dist first to check that too)"
fi
exit $failed
