#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks need, if missing:
# chromium (browser tests), postgresql (the scale-out database tests), gettext (the check that
# every interface string is translated), wrk (benchmarks).
# Never downloads a browser of its own: Playwright drives Debian's chromium.
set -euo pipefail

want=()
for what in "$@"; do
  case "$what" in
    chromium) command -v chromium >/dev/null 2>&1 || want+=(chromium fonts-noto-cjk) ;;
    postgresql) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || want+=(postgresql) ;;
    wrk) command -v wrk >/dev/null 2>&1 || want+=(wrk) ;;
    gettext) command -v xgettext >/dev/null 2>&1 || want+=(gettext) ;;
    *) echo "system-deps: unknown component $what" >&2; exit 2 ;;
  esac
done
[ ${#want[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
  echo "system-deps: need root to install: ${want[*]} (apt-get install ${want[*]})" >&2; exit 1
fi
echo "system-deps: installing ${want[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
