#!/usr/bin/env bash
# Installs everything dcim needs on a Debian machine, as root: the open EDA tools from Debian's
# packages and the Python package with its test extras in ./.venv. Safe to run again: it skips
# what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(yosys iverilog verilator opensta)
missing=()
for package in "${debian_packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
python3 -m venv --help >/dev/null 2>&1 || missing+=(python3-venv)
if ((${#missing[@]})); then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
# Editable install: the demo and tests run the code in this checkout.
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,nn]'

# The PDK is configuration, never copied into the repository (see README).
if [ -z "${DCIM_PDK_ROOT:-}" ] && [ -d ../shared/pdk ]; then
    echo "setup: technology files found at ../shared/pdk (set DCIM_PDK_ROOT to use others)"
fi
