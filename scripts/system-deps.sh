#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing (needs root or sudo):
# PostgreSQL server binaries (the suite starts its own server), Chromium for browser tests,
# poppler-utils to read PDFs back (text, page images, font lists), Pango for WeasyPrint, fonts, and Redis (the
# reliability runs share the throttling store of several app instances through it).
set -euo pipefail

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || have_cmd initdb || need+=(postgresql)
have_cmd chromium || [ -x /usr/bin/chromium ] || need+=(chromium)
have_cmd pdftotext && have_cmd pdftoppm && have_cmd pdffonts || need+=(poppler-utils)
# WeasyPrint renders the certificates through Pango (the fonts themselves ship in pdf_templates/fonts)
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || need+=(libpango-1.0-0 libpangoft2-1.0-0)
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
have_cmd redis-server || [ -x /usr/bin/redis-server ] || need+=(redis-server)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if have_cmd sudo; then SUDO=sudo; else
    echo "missing system packages: ${need[*]} (install them as root: apt-get install ${need[*]})" >&2
    exit 1
  fi
else
  SUDO=
fi
echo "installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
