#!/usr/bin/env bash
# Installs the Debian packages vanthu needs when they are missing.
#   install-deps.sh run    PostgreSQL server binaries and npm, for `make run`
#   install-deps.sh test   everything the test suite starts or calls
#   install-deps.sh check  print what `test` would install; exit 1 if anything
# Go itself is not installed here: go.mod's toolchain line fetches the right
# version through GOTOOLCHAIN=auto.
set -euo pipefail
want=${1:-test}
case "$want" in run | test | check) ;; *)
  echo "usage: $0 [run|test|check]" >&2
  exit 2
  ;;
esac

# Debian package -> a command (or file) that shows it is there. A package is
# also taken as present when dpkg says it is installed.
declare -A probe
probe[postgresql]=postgres
# npm installs the pages' front-end packages (make assets, before every build).
probe[npm]=npm
if [ "$want" != run ]; then
  probe[softhsm2]=softhsm2-util
  probe[poppler-utils]=pdfsig
  probe[qpdf]=qpdf
  probe[chromium]=chromium
  probe[fonts-liberation2]=/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf
fi

present() { # package probe
  case "$2" in
  /*) [ -e "$2" ] && return 0 ;;
  postgres) compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && return 0 ;&
  *) command -v "$2" >/dev/null 2>&1 && return 0 ;;
  esac
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for pkg in "${!probe[@]}"; do present "$pkg" "${probe[$pkg]}" || missing+=("$pkg"); done
[ ${#missing[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$want" = check ]; then
  echo "missing: $pkgs"
  exit 1
fi
echo "installing missing Debian packages: $pkgs" >&2
if [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo apt-get update -qq
  # shellcheck disable=SC2086
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs
else
  echo "missing Debian packages; install them with: sudo apt-get install -y $pkgs" >&2
  exit 1
fi
