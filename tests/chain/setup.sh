#!/usr/bin/env bash
# Local EVM chain for the integration tests: installs anvil (the @foundry-rs/anvil npm
# package, which ships a prebuilt Linux binary) and solc-js at the versions pinned in
# package.json, compiles TestUSDT.sol to build/TestUSDT.json and checks that anvil runs.
#
#   npm ci     when node_modules is missing or the installed anvil/solc differ from the pins
#   build.js   when build/TestUSDT.json is missing or older than TestUSDT.sol or build.js
#
# All progress goes to stderr; the last (only) line on stdout is the absolute path of the
# real anvil binary (not the node wrapper in node_modules/.bin), so callers can do
#   ANVIL=$(bash tests/chain/setup.sh | tail -1)
# Anything that cannot be installed or run fails the script: nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")"
CHAIN_DIR=$PWD

log() { printf '\n==> chain: %s\n' "$*" >&2; }
die() { printf '\nFATAL (chain): %s\n' "$*" >&2; exit 1; }

# --- tools ------------------------------------------------------------------------
command -v node >/dev/null || die "node is missing (Node 20 or later is needed)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "node $(node --version) is too old: 20 or later is needed"
command -v npm >/dev/null || die "npm is missing"

# Serialise concurrent runs (parallel test binaries) so two npm ci never race.
mkdir -p build
if command -v flock >/dev/null; then
  exec 9>build/.setup.lock
  flock 9 || die "cannot lock $CHAIN_DIR/build/.setup.lock"
fi

# Prints the pinned version of dependency $1 from package.json.
pinned() { node -p "require('./package.json').dependencies['$1'] || ''"; }
# Prints the installed version of package $1, or nothing when it is not installed.
installed() {
  node -p "try { require('./node_modules/$1/package.json').version } catch { '' }"
}
# Node expression for the platform package that holds the real anvil binary.
ANVIL_PLATFORM_PKG='`@foundry-rs/anvil-${process.platform}-${{x64: "amd64", arm64: "arm64"}[process.arch] || process.arch}`'

anvil_pin=$(pinned @foundry-rs/anvil)
solc_pin=$(pinned solc)
[ -n "$anvil_pin" ] && [ -n "$solc_pin" ] || die "package.json must pin @foundry-rs/anvil and solc"
anvil_pkg=$(node -p "$ANVIL_PLATFORM_PKG")

need_install=
if [ ! -d node_modules ]; then
  need_install="node_modules is missing"
elif [ "$(installed @foundry-rs/anvil)" != "$anvil_pin" ]; then
  need_install="@foundry-rs/anvil $(installed @foundry-rs/anvil) is installed, $anvil_pin is pinned"
elif [ "$(installed "$anvil_pkg")" != "$anvil_pin" ]; then
  need_install="$anvil_pkg $(installed "$anvil_pkg") is installed, $anvil_pin is pinned"
elif [ "$(installed solc)" != "$solc_pin" ]; then
  need_install="solc $(installed solc) is installed, $solc_pin is pinned"
fi

rebuild=
if [ -n "$need_install" ]; then
  log "npm ci ($need_install)"
  npm ci --no-audit --no-fund --loglevel=error >&2 || die "npm ci failed in tests/chain"
  [ "$(installed @foundry-rs/anvil)" = "$anvil_pin" ] || die "npm ci did not install @foundry-rs/anvil $anvil_pin"
  [ "$(installed "$anvil_pkg")" = "$anvil_pin" ] \
    || die "npm ci did not install $anvil_pkg $anvil_pin (the anvil binary for $(uname -sm); optional dependencies omitted?)"
  [ "$(installed solc)" = "$solc_pin" ] || die "npm ci did not install solc $solc_pin"
  rebuild=1
fi

# --- TestUSDT -----------------------------------------------------------------------
artifact=build/TestUSDT.json
if [ -n "$rebuild" ] || [ ! -s "$artifact" ] || [ TestUSDT.sol -nt "$artifact" ] || [ build.js -nt "$artifact" ]; then
  log "compiling TestUSDT.sol"
  node build.js >&2 || die "build.js failed to compile TestUSDT.sol"
  [ -s "$artifact" ] || die "build.js did not write $CHAIN_DIR/$artifact"
fi

# --- anvil --------------------------------------------------------------------------
anvil_bin=$(node -p "require.resolve($ANVIL_PLATFORM_PKG + '/bin/anvil')" 2>/dev/null) \
  || die "cannot find the anvil binary in $anvil_pkg (delete tests/chain/node_modules and rerun)"
[ -x "$anvil_bin" ] || die "$anvil_bin is not executable"
anvil_version=$("$anvil_bin" --version 2>&1) || die "$anvil_bin --version failed: $anvil_version"
case "$anvil_version" in
  *"anvil Version: $anvil_pin"*) ;;
  *) die "$anvil_bin reports '$(printf '%s' "$anvil_version" | head -n1)', $anvil_pin is pinned" ;;
esac
log "anvil $anvil_pin ready, TestUSDT compiled"

printf '%s\n' "$anvil_bin"
