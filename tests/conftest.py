"""Set-up shared by every test: a result cache of the session's own.

Flow results, trained networks and compiled simulators go to a temporary cache folder for the
whole session, so that tests never read or write ``~/.cache/dcim`` and tests that need the same
design or network build it once.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory):
    """The session's cache folder, set as ``DCIM_CACHE_DIR`` while the tests run."""
    folder = tmp_path_factory.mktemp("dcim-cache")
    old = os.environ.get("DCIM_CACHE_DIR")
    os.environ["DCIM_CACHE_DIR"] = str(folder)
    yield folder
    if old is None:
        del os.environ["DCIM_CACHE_DIR"]
    else:
        os.environ["DCIM_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def pdk_root():
    """The technology files: ``$DCIM_PDK_ROOT``, else ``../shared/pdk`` beside the checkout."""
    configured = os.environ.get("DCIM_PDK_ROOT")
    root = Path(configured) if configured else ROOT.parent / "shared" / "pdk"
    if not (root / "nangate45").is_dir():
        pytest.fail(f"the flow tests need the technology files at {root} "
                    f"(set DCIM_PDK_ROOT to a folder like ../shared/pdk)")
    return root.resolve()
