#!/usr/bin/env bash
# Debian packages that make pictune's output richer and that the test suite exercises:
#   abcm2ps              engraves multi-voice ABC to SVG (verovio, the fallback, drops voices)
#   timgm6mb-soundfont   a small General MIDI SoundFont for realistic audio
#   chromium             the headless browser the report and web-page tests drive
# pictune works without them (verovio and a built-in synthesizer take over); this script only
# installs them where it can do so without asking: as root on a machine with apt-get.
set -u
need=()
command -v abcm2ps >/dev/null 2>&1 || need+=(abcm2ps)
[ -e /usr/share/sounds/sf2/TimGM6mb.sf2 ] || need+=(timgm6mb-soundfont)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "note: optional system packages missing (${need[*]}); pictune falls back to verovio and its built-in synthesizer." >&2
    exit 0
fi
echo "installing system packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq "${need[@]}" >/dev/null
