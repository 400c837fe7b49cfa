# Sourced by the Makefile and CI: keeps Reflex from reaching hosts this network cannot reach.
export REFLEX_USE_SYSTEM_BUN=1
export NPM_CONFIG_REGISTRY=https://registry.npmjs.org
export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_CHECK_LATEST_VERSION=0
export PATH="$PWD/.tools/node_modules/.bin:$PATH"
