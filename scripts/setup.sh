#!/usr/bin/env bash
# Installs everything dcim needs on a Debian machine, as root: the open EDA tools from Debian's
# packages and the Python package with its test extras in ./.venv. Safe to run again: it skips
# what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(yosys iverilog verilator opensta ngspice libngspice0)
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
# Editable install: the demo and tests run the code in this checkout. The nn extra pins the
# CPU build of torch; never add torchvision (it fails to import beside that build).
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,nn,spice]'

# dcim.spice's FreePDK45 transistor models are data files of OpenRAM's wheel. Installing the
# wheel would bring volare, unittest2 and more for nothing, so only its model cards are unpacked.
spice_models=.venv/share/dcim/freepdk45
if [ ! -f "$spice_models/models_nom/NMOS_VTG.inc" ]; then
    echo "setup: unpacking the FreePDK45 model cards of openram==1.2.48 into $spice_models"
    wheel_dir=$(mktemp -d)
    .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps \
        openram==1.2.48 -d "$wheel_dir"
    .venv/bin/python - "$wheel_dir"/openram-*.whl "$spice_models" <<'PY'
import sys, zipfile
from pathlib import Path

wheel, target = sys.argv[1], Path(sys.argv[2])
prefix = "openram/technology/freepdk45/models/"
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        # The tran_models cards and the licence; the hspice_*.include files need a full install.
        relative = name[len(prefix):].replace("tran_models/", "")
        if name.startswith(prefix) and (name.endswith(".inc") or name.endswith(".txt")):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            (target / relative).write_bytes(archive.read(name))
PY
    rm -rf "$wheel_dir"
fi

# The PDK is configuration, never copied into the repository (see README).
if [ -z "${DCIM_PDK_ROOT:-}" ] && [ -d ../shared/pdk ]; then
    echo "setup: technology files found at ../shared/pdk (set DCIM_PDK_ROOT to use others)"
fi
