#!/usr/bin/env bash
# Installs whatever is missing, and nothing that is already there:
#   scripts/bootstrap.sh run    Python deps, the PWA's npm deps and its build (and xmlsec1 for SAML, as root)
#   scripts/bootstrap.sh test   the above, plus test deps, Debian packages and test npm deps
# Each step keeps a stamp of the file it installed from, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"
PY="${PYTHON:-python3}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

command -v "$PY" >/dev/null 2>&1 || { echo "Python 3.11+ is needed ($PY not found)." >&2; exit 1; }
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed." >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "Node.js 20 and npm are needed to build the web app." >&2; exit 1; }

# --- Debian packages (tests only; needs root, as on CI and the build machines) -------------
if [ "$mode" = "test" ]; then
  need=()
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
  command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)  # validates docker-compose.yml
  command -v caddy >/dev/null 2>&1 || need+=(caddy)  # runs deploy/Caddyfile in front of two instances
  command -v xmlsec1 >/dev/null 2>&1 || need+=(xmlsec1)  # SAML signatures (pysaml2) in tests/sso
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      say "Installing Debian packages: ${need[*]}"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
      echo "Missing ${need[*]}: install them with 'sudo apt-get install ${need[*]}' and run again." >&2
      exit 1
    fi
  fi
elif ! command -v xmlsec1 >/dev/null 2>&1; then
  # SAML sign-in (api/sso/saml.py) checks signatures with xmlsec1; everything else runs without it.
  if [ "$(id -u)" = 0 ]; then
    say "Installing Debian packages: xmlsec1"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null
  else
    echo "Note: SAML single sign-on needs xmlsec1 ('sudo apt-get install xmlsec1'); the rest runs without it." >&2
  fi
fi

# --- Python --------------------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  say "Creating the virtual environment (.venv)"
  if ! "$PY" -m venv .venv 2>/dev/null; then
    # Debian splits venv out of python3; install it when we can.
    rm -rf .venv
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$PY" -m venv .venv
    else
      echo "Python's venv module is missing: run 'sudo apt-get install python3-venv' and try again." >&2
      exit 1
    fi
  fi
fi
extras=""
[ "$mode" = "test" ] && extras="[test]"
base=".venv/.installed-$(hash_of pyproject.toml)"
stamp="$base${extras:+-test}"
# The test install is a superset of the run one: after `make test`, `make run` installs nothing
# (before, it reinstalled the package, which took minutes inside the suite's own make-run test).
if [ ! -f "$stamp" ] && { [ "$mode" = "test" ] || [ ! -f "$base-test" ]; }; then
  say "Installing Python packages${extras:+ (with test tools)}"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
  touch "$stamp"
fi

# --- npm -----------------------------------------------------------------------------------
npm_ci() {  # folder
  local dir="$1"
  [ -f "$dir/package-lock.json" ] || return 0
  local s="$dir/node_modules/.installed-$(hash_of "$dir/package-lock.json")"
  if [ ! -f "$s" ]; then
    say "Installing npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$s"
  fi
}
npm_ci pwa
if [ "$mode" = "test" ]; then
  npm_ci tests/node
  npm_ci pwa/lint  # ESLint, with the TypeScript 6 API it needs (the app builds with TypeScript 7)
fi

# --- the PWA build -------------------------------------------------------------------------
if [ -f pwa/package.json ]; then
  src_hash=$(find pwa -path pwa/node_modules -prune -o -path pwa/dist -prune -o -path pwa/lint -prune \
             -o -type f -print0 \
             | sort -z | xargs -0 cat | sha256sum | cut -c1-16)
  if [ ! -f "pwa/dist/.built-$src_hash" ]; then
    say "Building the web app"
    (cd pwa && npm run --silent build)
    touch "pwa/dist/.built-$src_hash"
  fi
fi
