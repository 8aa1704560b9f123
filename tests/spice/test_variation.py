import math
from types import SimpleNamespace

import numpy as np
import pytest

from dcim.spice import (
    DEFAULT_A_VT_MV_UM,
    MismatchModel,
    failure_probability,
    importance_sampling,
    mismatch_limit_state,
)

CELL = [("pd_l", 205e-9, 50e-9), ("pu_l", 90e-9, 50e-9), ("pg_l", 135e-9, 50e-9)]


def test_pelgrom_sigma_of_the_6t_pull_down():
    # A_Vt / sqrt(W L) = 1.2 mV um / sqrt(0.205 um * 0.05 um).
    assert MismatchModel().sigma_vt(205e-9, 50e-9) == pytest.approx(
        DEFAULT_A_VT_MV_UM * 1e-3 / math.sqrt(0.205 * 0.05))
    assert MismatchModel(a_vt_mv_um=2.5).sigma_vt(1e-6, 1e-6) == pytest.approx(2.5e-3)


def test_four_times_the_area_halves_the_sigma():
    model = MismatchModel(a_vt_mv_um=3)
    assert model.sigma_vt(400e-9, 100e-9) == pytest.approx(model.sigma_vt(200e-9, 50e-9) / 2)


def test_shifts_scale_each_column_and_invert():
    model = MismatchModel()
    z = np.random.default_rng(0).standard_normal((5, 3))
    shifts = model.vt_shifts(CELL, z)
    assert shifts.shape == (5, 3)
    np.testing.assert_allclose(shifts[:, 1], z[:, 1] * model.sigma_vt(90e-9, 50e-9))
    np.testing.assert_allclose(model.standard_normal(CELL, shifts), z)
    assert model.vt_shifts(CELL, [1.0, 0.0, 0.0]).shape == (1, 3)


def test_transistors_with_attributes_are_accepted():
    transistors = [SimpleNamespace(name=name, width=width, length=length)
                   for name, width, length in CELL]
    np.testing.assert_array_equal(MismatchModel().sigmas(transistors),
                                  MismatchModel().sigmas(CELL))


def test_the_model_is_frozen_and_named():
    model = MismatchModel(a_vt_mv_um=2)
    assert model == MismatchModel(a_vt_mv_um=2.0) and hash(model) == hash(MismatchModel(2.0))
    assert model.name == "pelgrom_avt2"
    with pytest.raises(AttributeError):
        model.a_vt_mv_um = 3


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, "1.2", True])
def test_a_bad_coefficient_is_refused(bad):
    with pytest.raises(ValueError, match=r"a_vt_mv_um must be a positive number of mV um"):
        MismatchModel(a_vt_mv_um=bad)


def test_bad_transistors_are_refused():
    model = MismatchModel()
    with pytest.raises(ValueError, match=r"must be given in metres \(e.g. 205e-9\), not 205"):
        model.sigma_vt(205, 50e-9)
    with pytest.raises(ValueError, match=r"transistor 'pd': length must be a positive length"):
        model.sigmas([("pd", 205e-9, 0.0)])
    with pytest.raises(ValueError, match="at least one transistor"):
        model.sigmas([])
    with pytest.raises(ValueError, match="names must be unique"):
        model.sigmas([CELL[0], CELL[0]])
    with pytest.raises(ValueError, match="must have a name, width and length"):
        model.sigmas(["pd"])
    with pytest.raises(ValueError, match=r"z must have shape \(n, 3\)"):
        model.vt_shifts(CELL, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="vt_shifts must be finite"):
        model.standard_normal(CELL, [[0.0, math.nan, 0.0]])


def test_a_margin_of_shifts_becomes_a_limit_state_with_a_known_yield():
    # The margin 60 mV - sum(dVt) fails with probability Phi(-0.06 / sqrt(sum sigma^2)).
    model = MismatchModel()
    seen = []

    def margin_of_shifts(shifts):
        seen.append(shifts.shape)
        return 0.06 - shifts.sum(axis=1)

    limit_state = mismatch_limit_state(margin_of_shifts, CELL, model=model, threshold=0.0)
    beta = 0.06 / float(np.linalg.norm(model.sigmas(CELL)))
    estimate = importance_sampling(limit_state, len(CELL), target_rse=0.05, seed=3)
    assert estimate.converged
    assert estimate.shift_sigma == pytest.approx(beta, abs=0.02)
    assert estimate.probability == pytest.approx(failure_probability(beta), rel=0.15)
    assert all(shape[1] == 3 for shape in seen)


def test_the_limit_state_adapter_checks_its_arguments():
    with pytest.raises(TypeError, match="margin_of_shifts must be callable"):
        mismatch_limit_state(0.1, CELL)
    with pytest.raises(ValueError, match="model must be a MismatchModel"):
        mismatch_limit_state(np.sum, CELL, model=1.2)
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        mismatch_limit_state(np.sum, CELL, threshold=math.nan)


def test_limit_state_clips_shifts_to_the_limit_given():
    seen = []

    def margin(shifts):
        seen.append(np.asarray(shifts))
        return np.zeros(len(shifts))

    transistors = CELL
    far = np.full((2, len(transistors)), 40.0)  # some 40 sigma out: volts of shift
    mismatch_limit_state(margin, transistors)(far)
    assert np.abs(seen[-1]).max() > 0.45
    mismatch_limit_state(margin, transistors, shift_limit=0.45)(far)
    assert np.abs(seen[-1]).max() == pytest.approx(0.45)
    near = np.full((1, len(transistors)), 0.5)
    mismatch_limit_state(margin, transistors, shift_limit=0.45)(near)
    assert np.array_equal(seen[-1], MismatchModel().vt_shifts(transistors, near))
    for bad in (0.0, -1.0, float("nan"), True, "0.4"):
        with pytest.raises(ValueError, match="shift_limit must be a positive number of volts"):
            mismatch_limit_state(margin, transistors, shift_limit=bad)
