import numpy as np
import pytest

from dcim.macro import MacroSpec, SimulationResult
from dcim.macro import check as check_module
from dcim.macro.check import check_macro, load_operands, random_operands

SPEC = MacroSpec(rows=4, cols=2, weight_bits=4, act_bits=4)


def test_random_operands_are_seeded_and_in_range():
    weights, activations = random_operands(SPEC, 10, seed=3)
    again = random_operands(SPEC, 10, seed=3)
    other = random_operands(SPEC, 10, seed=4)
    assert weights.shape == (4, 2) and activations.shape == (10, 4)
    assert np.array_equal(weights, again[0]) and np.array_equal(activations, again[1])
    assert not np.array_equal(activations, other[1])
    assert weights.min() >= -8 and weights.max() <= 7
    assert activations.min() >= -8 and activations.max() <= 7


def test_extremes_put_the_widest_sums_first():
    weights, activations = random_operands(SPEC, 5, seed=0, extremes=True)
    assert activations[:3].tolist() == [[0] * 4, [7] * 4, [-8] * 4]
    assert weights[0].tolist() == [7, 7] and weights[1].tolist() == [-8, -8]
    assert random_operands(SPEC, 1, extremes=True)[1].tolist() == [[0] * 4]


@pytest.mark.parametrize(("vectors", "seed", "error", "message"), [
    (0, 0, ValueError, "vectors must be at least 1, not 0"),
    (2.5, 0, TypeError, "vectors must be an int, not 2.5"),
    (4, -1, ValueError, "seed must be at least 0, not -1"),
    (True, 0, TypeError, "vectors must be an int, not True"),
])
def test_random_operands_reject_bad_counts(vectors, seed, error, message):
    with pytest.raises(error, match=message):
        random_operands(SPEC, vectors, seed)


def test_numpy_integers_are_accepted_as_counts():
    assert random_operands(SPEC, np.int64(2), np.int32(1))[1].shape == (2, 4)


def test_check_passes_on_the_amaranth_engine():
    report = check_macro(SPEC, vectors=6, seed=1, engine="amaranth", extremes=True)
    assert report.ok and report.mismatches == 0 and report.examples == ()
    assert (report.vectors, report.engine, report.design) == (6, "amaranth", SPEC.name)
    assert report.cycles > 6 and report.seconds > 0
    assert report.operands == "random, seed 1"
    assert report.as_dict()["ok"] is True


def test_check_of_given_operands_with_passes():
    rng = np.random.default_rng(0)
    weights = rng.integers(-8, 8, size=(6, 2))      # two passes of the 4-row macro
    activations = rng.integers(-8, 8, size=(3, 6))
    report = check_macro(SPEC, weights, activations, engine="amaranth", operands="w.npy")
    assert report.ok and report.vectors == 3 and report.operands == "w.npy"


def test_a_mismatch_is_counted_and_shown(monkeypatch):
    real = check_module.simulate

    def wrong_by_one(spec, weights, activations, **options):
        outcome = real(spec, weights, activations, **options)
        results = outcome.results.copy()
        results[1, 0] += 1
        return SimulationResult(results, outcome.cycles, outcome.act_cycles,
                                outcome.result_cycles, outcome.engine)

    monkeypatch.setattr(check_module, "simulate", wrong_by_one)
    report = check_macro(SPEC, vectors=3, engine="amaranth")
    assert not report.ok and report.mismatches == 1
    vector, column, hardware, model = report.examples[0]
    assert (vector, column, hardware - model) == (1, 0, 1)


def test_check_needs_both_operands_or_neither():
    with pytest.raises(ValueError, match="give both weights and activations, or neither"):
        check_macro(SPEC, np.zeros((4, 2), dtype=int))


def test_check_names_a_bad_engine():
    with pytest.raises(ValueError, match="engine must be one of .*, not 'spice'"):
        check_macro(SPEC, vectors=1, engine="spice")


def _save(path, array):
    np.save(path, np.asarray(array))
    return path


def test_load_operands_reads_two_files(tmp_path):
    weights = _save(tmp_path / "w.npy", np.arange(8).reshape(4, 2) - 4)
    activations = _save(tmp_path / "a.npy", np.ones(4, dtype=np.int8))
    w, a = load_operands(SPEC, weights, activations)
    assert w.shape == (4, 2) and a.tolist() == [1, 1, 1, 1]


@pytest.mark.parametrize(("weights", "activations", "message"), [
    (np.zeros((4, 3), int), np.zeros((1, 4), int),
     r"--weights file '.*w.npy' must have shape \(R, 2\) .* not \(4, 3\)"),
    (np.zeros(4, int), np.zeros((1, 4), int),
     r"--weights file '.*w.npy' must have shape \(R, 2\)"),
    (np.zeros((4, 2), int), np.zeros((1, 5), int),
     r"--activations file '.*a.npy' must have shape \(n, 4\) or \(4,\) .* not \(1, 5\)"),
    (np.zeros((4, 2), int), np.zeros((0, 4), int),
     r"--activations file '.*a.npy' must have shape \(n, 4\)"),
    (np.full((4, 2), 8), np.zeros((1, 4), int),
     r"--weights file '.*w.npy' holds 8, outside \[-8, 7\] for dcim_r4c2"),
    (np.zeros((4, 2), int), np.full((2, 4), -9),
     r"--activations file '.*a.npy' holds -9, outside \[-8, 7\]"),
    (np.zeros((4, 2)), np.zeros((1, 4), int),
     r"--weights file '.*w.npy' must hold integers, not float64"),
])
def test_load_operands_names_the_file_and_the_problem(tmp_path, weights, activations,
                                                       message):
    with pytest.raises(ValueError, match=message):
        load_operands(SPEC, _save(tmp_path / "w.npy", weights),
                      _save(tmp_path / "a.npy", activations))


def test_load_operands_refuses_missing_foreign_and_pickled_files(tmp_path):
    activations = _save(tmp_path / "a.npy", np.zeros(4, int))
    with pytest.raises(FileNotFoundError, match=r"--weights file '.*nope.npy' does not exist"):
        load_operands(SPEC, tmp_path / "nope.npy", activations)
    (tmp_path / "folder.npy").mkdir()
    with pytest.raises(ValueError, match=r"--weights file '.*folder.npy' is a folder, not a file"):
        load_operands(SPEC, tmp_path / "folder.npy", activations)
    with pytest.raises(ValueError, match=r"--weights file '.*w.txt' must be a .npy file; "
                                         r"not '.txt'"):
        load_operands(SPEC, tmp_path / "w.txt", activations)
    (tmp_path / "junk.npy").write_text("not numpy")
    with pytest.raises(ValueError, match=r"--weights file '.*junk.npy' is not a NumPy array"):
        load_operands(SPEC, tmp_path / "junk.npy", activations)
    np.save(tmp_path / "objects.npy", np.array([[1, None]] * 4, dtype=object))
    with pytest.raises(ValueError, match=r"--weights file '.*objects.npy' is not a NumPy"):
        load_operands(SPEC, tmp_path / "objects.npy", activations)
