"""``dcim --version``, ``dcim cache`` and ``dcim pdk`` through main()."""

import io
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import dcim
from dcim.cli import main
from dcim.flow import admin_commands

ROOT = Path(__file__).resolve().parents[2]


def run(*argv):
    out = io.StringIO()
    code = main([str(arg) for arg in argv], out=out)
    return code, out.getvalue()


# -- dcim --version ----------------------------------------------------------------------------

def test_version_in_the_package_equals_pyproject():
    with open(ROOT / "pyproject.toml", "rb") as file:
        assert dcim.__version__ == tomllib.load(file)["project"]["version"]


def test_version_option_prints_the_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run("--version")
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"dcim {metadata.version('dcim')}\n"


def test_version_falls_back_to_the_package_when_not_installed(monkeypatch):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(admin_commands.metadata, "version", not_installed)
    assert admin_commands.package_version() == dcim.__version__
