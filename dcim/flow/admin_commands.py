"""``dcim --version``: argument parsing and printing only.

:func:`add_version_option` adds the option to the ``dcim`` parser.
"""

from importlib import metadata

__all__ = ["add_version_option", "package_version"]


def package_version():
    """The installed distribution's version, or ``dcim.__version__`` when not installed.

    Running from a source tree without ``pip install`` leaves no distribution metadata; the
    version written in the package (kept equal to ``pyproject.toml``'s by a test) still holds.
    """
    try:
        return metadata.version("dcim")
    except metadata.PackageNotFoundError:
        from .. import __version__

        return __version__


def add_version_option(parser):
    """Add ``--version`` to the top-level ``dcim`` parser ``parser``."""
    parser.add_argument("--version", action="version", version=f"dcim {package_version()}")
