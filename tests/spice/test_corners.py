import pytest

from dcim.spice import (
    PROCESSES,
    Corner,
    ModelsNotFoundError,
    model_folder,
    resolve_corner,
    standard_corners,
)


def test_processes_from_the_description():
    assert PROCESSES == ("TT", "FF", "SS", "FS", "SF")


def test_corner_defaults_and_name():
    corner = Corner()
    assert (corner.process, corner.vdd, corner.temp_c) == ("TT", 1.0, 25.0)
    assert corner.name == "tt_1v00_25c"
    assert Corner("SS", 0.9, -40).name == "ss_0v90_m40c"
    assert Corner("FF", 1, 25) == Corner("FF", 1.0, 25.0)


def test_standard_corners_cover_every_combination():
    corners = standard_corners()
    assert len(corners) == len(set(corners)) == 27
    assert {corner.vdd for corner in corners} == {0.9, 1.0, 1.1}
    assert {corner.temp_c for corner in corners} == {0.0, 25.0, 100.0}


@pytest.mark.parametrize(("arguments", "message"), [
    (("tt",), "process must be one of TT, FF, SS, FS, SF, not 'tt'"),
    (("XX",), "process must be one of .* not 'XX'"),
    (("TT", 2.0), "vdd must be between 0.5 and 1.3 volts, not 2.0"),
    (("TT", "1.0"), "vdd must be a finite number of volts, not '1.0'"),
    (("TT", float("nan")), "vdd must be a finite number"),
    (("TT", True), "vdd must be a finite number of volts, not True"),
    (("TT", 1.0, 200), "temp_c must be between -55.0 and 150.0 degrees C, not 200"),
])
def test_bad_corners_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        Corner(*arguments)


def test_model_cards_exist_for_every_process():
    for process in PROCESSES:
        nmos, pmos = Corner(process).model_cards()
        assert nmos.is_file() and pmos.is_file()
    nmos, pmos = Corner("FS").model_cards()
    assert nmos.parent.name == "models_ff" and pmos.parent.name == "models_ss"


def test_model_folder_from_configuration(monkeypatch, tmp_path):
    monkeypatch.setenv("DCIM_SPICE_MODELS", str(tmp_path))
    with pytest.raises(ModelsNotFoundError, match="DCIM_SPICE_MODELS=.*run scripts/setup.sh"):
        model_folder()


def test_resolve_corner_takes_a_process_name_or_a_corner_and_overrides():
    assert resolve_corner("SS") == Corner("SS")
    assert resolve_corner("FF", vdd=0.9) == Corner("FF", 0.9, 25.0)
    assert resolve_corner(Corner("TT", 1.1, 0.0), temp_c=100) == Corner("TT", 1.1, 100.0)
    with pytest.raises(ValueError, match="corner must be"):
        resolve_corner(1.0)
    with pytest.raises(ValueError, match="vdd"):
        resolve_corner("TT", vdd=5.0)
