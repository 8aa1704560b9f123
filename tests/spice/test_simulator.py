import tempfile

import pytest

from dcim.eda.tools import ToolNotFoundError
from dcim.spice import SimulationError, find_ngspice_library, run_deck
from dcim.spice.simulator import informational_messages

DIVIDER = "divider\nv1 a 0 1\nr1 a b 1k\nr2 b 0 3k\n.dc v1 0 2 1\n.end\n"


def test_run_deck_returns_the_vectors():
    vectors = run_deck(DIVIDER)
    assert list(vectors["v-sweep"]) == [0.0, 1.0, 2.0]
    assert vectors["b"] == pytest.approx([0.0, 0.75, 1.5])
    # Branch currents flow into the positive terminal: the source delivers, so negative.
    assert vectors["v1#branch"] == pytest.approx([0.0, -0.25e-3, -0.5e-3])


def test_failed_deck_is_kept_with_the_log(monkeypatch, tmp_path):
    # The kept deck goes to the temporary folder: here the test's own, not /tmp.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(SimulationError, match="ngspice could not run 'broken'; deck kept") as error:
        run_deck("broken\nv1 a 0 1\nx1 a 0 no_such_subcircuit\n.op\n.end\n", name="broken")
    assert "no_such_subcircuit" in error.value.deck_path.read_text()
    assert "relaxed options" in error.value.log_path.read_text()
    assert error.value.deck_path.parent.parent == tmp_path
    # The shared ngspice instance is still usable afterwards.
    assert run_deck(DIVIDER)["b"][1] == pytest.approx(0.75)


def test_missing_library_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("NGSPICE_LIBRARY_PATH", str(tmp_path / "libngspice.so.0"))
    with pytest.raises(ToolNotFoundError, match="apt-get install ngspice libngspice0"):
        find_ngspice_library()


def test_library_found_by_default(monkeypatch):
    monkeypatch.delenv("NGSPICE_LIBRARY_PATH", raising=False)
    assert find_ngspice_library().is_file()


def test_notes_on_stderr_do_not_fail_a_good_run():
    # noopiter sends ngspice straight to gmin stepping, which prints "Note: ..." lines on
    # stderr; PySpice takes any such line for an error. The divider still solves.
    deck = "gmin notes\nv1 a 0 1\nr1 a b 1k\nr2 b 0 3k\n.options noopiter\n.op\n.end\n"
    assert run_deck(deck)["b"][-1] == pytest.approx(0.75)


def test_informational_messages_tell_notes_from_errors():
    assert informational_messages("Note: Starting dynamic gmin stepping\n"
                                  "Trying gmin =   1.0000E-03 Note: One successful gmin step\n"
                                  "Warning: v1: no DC value, transient time 0 value used")
    assert not informational_messages("Note: Starting dynamic gmin stepping\n"
                                      "Error: gmin stepping failed")
    assert not informational_messages("doAnalyses: TRAN:  Timestep too small")


def test_simulator_identity_names_the_ngspice_build(monkeypatch):
    from dcim.spice import simulator

    identity = simulator.simulator_identity()
    assert identity.startswith("ngspice-") and ", built " in identity
    # Read from ngspice's own banner once, then kept.
    monkeypatch.setattr(simulator, "_ngspice", lambda: pytest.fail("ngspice asked again"))
    assert simulator.simulator_identity() == identity
