# Shared set-up of scripts/demo and scripts/test (sourced, not run).
# Installs what a fresh Debian machine lacks (PostgreSQL, Chromium, build headers), builds the
# pinned venv once per requirements file, and exposes this checkout to Odoo as "payment_alma".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_PATH=${ODOO_PATH:-/opt/odoo18}
CACHE_DIR=${PAYMENT_ALMA_CACHE:-$HOME/.cache/payment_alma}
PYTHON=${PYTHON:-python3.11}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31mError: %s\033[0m\n' "$*" >&2; exit 2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "'$*' needs root (no sudo here)."; fi
}

find_odoo() {
    if [ ! -f "$ODOO_PATH/odoo-bin" ] || [ ! -d "$ODOO_PATH/odoo/addons/base" ]; then
        die "Odoo 18.0 was not found at ODOO_PATH=$ODOO_PATH.
Get the Odoo 18.0 Community source (a clone of https://github.com/odoo/odoo branch 18.0, or the
official 18.0 nightly source build) into $ODOO_PATH, or point ODOO_PATH at it, then run this again."
    fi
    grep -q "version_info = (18, 0" "$ODOO_PATH/odoo/release.py" \
        || die "$ODOO_PATH holds an Odoo that is not 18.0."
    # Nightly builds keep every add-on under odoo/addons; a git clone also has addons/.
    ODOO_ADDONS="$ODOO_PATH/odoo/addons"
    if [ -d "$ODOO_PATH/addons/point_of_sale" ]; then ODOO_ADDONS="$ODOO_PATH/addons,$ODOO_ADDONS"; fi
}

apt_install_missing() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "Please install: ${missing[*]}"
    log "Installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

system_packages() {
    command -v "$PYTHON" >/dev/null || PYTHON=python3
    "$PYTHON" -c 'import sys; assert sys.version_info[:2] >= (3, 10)' \
        || die "Odoo 18.0 needs Python 3.10 or newer ($PYTHON is older)."
    local pkgs=(libldap2-dev libsasl2-dev libpq-dev gcc)
    # A python built outside Debian (pyenv) brings its own headers and venv.
    [ -f "$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ] \
        || pkgs+=(python3-dev)
    "$PYTHON" -c 'import ensurepip' 2>/dev/null || pkgs+=(python3-venv)
    command -v psql >/dev/null || pkgs+=(postgresql-client)
    if ! command -v pg_ctlcluster >/dev/null \
        && ! { command -v pg_isready >/dev/null && pg_isready -q -h "${PGHOST:-127.0.0.1}"; }; then
        pkgs+=(postgresql)
    fi
    if [ "${1:-}" = browser ] && ! command -v chromium >/dev/null; then pkgs+=(chromium); fi
    apt_install_missing "${pkgs[@]}"
}

start_postgres() {
    export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432}
    if ! pg_isready -q; then
        log "Starting PostgreSQL"
        local version
        version=$(ls /etc/postgresql | sort -V | tail -n1)
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        for _ in $(seq 30); do pg_isready -q && break; sleep 1; done
        pg_isready -q || die "PostgreSQL did not start on $PGHOST:$PGPORT."
    fi
    if ! psql -d postgres -qtAc 'select 1' >/dev/null 2>&1; then
        log "Creating the PostgreSQL role $(id -un)"
        as_root su postgres -c "createuser --superuser $(id -un)" \
            || die "Cannot create a PostgreSQL role for $(id -un)."
        # Debian's default is peer authentication on the socket: use it.
        psql -d postgres -qtAc 'select 1' >/dev/null 2>&1 || export PGHOST=/var/run/postgresql
    fi
}

build_venv() {
    local digest
    digest=$(cat "$ROOT/requirements.txt" "$ROOT/scripts/pip-constraints.txt" | sha256sum | cut -c1-12)
    VENV=${VENV:-$CACHE_DIR/venv-$digest}
    if [ ! -f "$VENV/.complete" ]; then
        log "Building the Python venv $VENV (once per requirements.txt)"
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
        PIP_CONSTRAINT="$ROOT/scripts/pip-constraints.txt" "$VENV/bin/pip" install -q --disable-pip-version-check \
            -r "$ROOT/requirements.txt"
        touch "$VENV/.complete"
    fi
    # "import odoo" from the venv: for the linters and pytest.
    echo "$ODOO_PATH" > "$VENV/lib/python$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')/site-packages/odoo-path.pth"
}

link_addon() {
    # Odoo finds modules by folder name; the checkout may be named anything.
    ADDON_DIR="$CACHE_DIR/addons-$(echo "$ROOT" | sha256sum | cut -c1-8)"
    mkdir -p "$ADDON_DIR"
    ln -sfn "$ROOT" "$ADDON_DIR/payment_alma"
    ADDONS_PATH="$ODOO_ADDONS,$ADDON_DIR"
}

setup_all() {
    find_odoo
    system_packages "${1:-}"
    start_postgres
    build_venv
    link_addon
}

# The OCA's packaging tools, apart from Odoo's venv: whool and build (scripts/wheel), manifestoo
# (scripts/test's manifest checks).
tools_venv() {
    TOOLS=$CACHE_DIR/venv-tools
    if [ ! -f "$TOOLS/.complete" ]; then
        log "Building the OCA tools' venv $TOOLS (whool, build, manifestoo)"
        rm -rf "$TOOLS"
        "$PYTHON" -m venv "$TOOLS"
        "$TOOLS/bin/pip" install -q --disable-pip-version-check whool==1.3.1 \
            build==1.2.2.post1 manifestoo==1.1 manifestoo-core==1.16.1
        touch "$TOOLS/.complete"
    fi
}

# Prettier (with its XML plugin) and ESLint, as OCA's pre-commit runs them (npm's registry).
NODE_PACKAGES="prettier@3.3.3 @prettier/plugin-xml@3.4.1 eslint@9.9.1"
node_tools() {
    NODE_TOOLS=$CACHE_DIR/node-tools
    # The packages are named in the marker: a new pin installs them again.
    if [ "$(cat "$NODE_TOOLS/.complete" 2>/dev/null)" != "$NODE_PACKAGES" ]; then
        command -v npm >/dev/null || die "npm is missing: install Node.js (apt-get install npm)"
        log "Installing $NODE_PACKAGES into $NODE_TOOLS"
        rm -rf "$NODE_TOOLS" && mkdir -p "$NODE_TOOLS"
        # shellcheck disable=SC2086  # One word per package.
        npm install --prefix "$NODE_TOOLS" --no-audit --no-fund --loglevel=error \
            $NODE_PACKAGES >&2
        echo "$NODE_PACKAGES" >"$NODE_TOOLS/.complete"
    fi
    PRETTIER=("$NODE_TOOLS/node_modules/.bin/prettier"
              "--plugin=$NODE_TOOLS/node_modules/@prettier/plugin-xml/src/plugin.js")
}

# odoo_pytest DB [PYTEST ARGS…]: pytest-odoo on database DB, from the add-on's folder as Odoo
# sees it (named payment_alma), HttpCase tests included, the browser tours left to Odoo's runner
# (scripts/pytest_alma.py). Paths under tests/ are the checkout's.
odoo_pytest() {
    local db=$1 arg args=()
    shift
    for arg in "$@"; do
        case $arg in
            tests|tests/*|./tests|./tests/*) args+=("$ADDON_DIR/payment_alma/${arg#./}") ;;
            *) args+=("$arg") ;;
        esac
    done
    (cd "$ADDON_DIR" && PYTHONPATH="$ROOT/scripts" "$VENV/bin/python" -m pytest \
        -p no:cacheprovider -p pytest_alma --odoo-http --odoo-database="$db" \
        --odoo-addons-path="$ADDONS_PATH" "${args[@]}")
}

odoo_bin() { "$VENV/bin/python" "$ODOO_PATH/odoo-bin" --addons-path="$ADDONS_PATH" "$@"; }
