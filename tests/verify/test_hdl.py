
import numpy as np
import pytest
from amaranth.back import verilog as amaranth_verilog
from doubles import FakeSpec, Multiplier

from dcim.eda.tools import ToolError, ToolNotFoundError
from dcim.eda.verilog import emit_verilog
from dcim.verify.hdl import LintError, lint_verilog, simulate_icarus


@pytest.mark.parametrize("spec", [FakeSpec(8, False), FakeSpec(8, True), FakeSpec(5, True, True),
                                  FakeSpec(16, False, True)], ids=lambda spec: spec.name)
def test_emitted_verilog_lints_clean(tmp_path, spec):
    path = tmp_path / "anything.v"
    emit_verilog(spec, path)
    assert lint_verilog(path, top=spec.name, workdir=tmp_path / "lint") == ""


def test_amaranth_verilog_is_not_lint_clean_and_errors_name_the_log(tmp_path):
    # The reason emit_verilog exists: Amaranth's own output trips -Wall with WIDTH warnings.
    text = amaranth_verilog.convert(Multiplier(4, False, wrong=True), name="raw",
                                    emit_src=False)
    with pytest.raises(LintError, match="WIDTH") as caught:
        lint_verilog(text, top="raw", workdir=tmp_path)
    assert any(warning.startswith("%Warning-WIDTH") for warning in caught.value.warnings)
    assert caught.value.log_path == tmp_path / "lint.log"
    assert "WIDTH" in caught.value.log_path.read_text()
    assert isinstance(caught.value, ToolError)


_TWO_MODULES = """\
module inner (a, y);
  input wire a;
  output wire y;
  assign y = ~a;
endmodule
// a comment between modules
module outer (a, y);
  input wire a;
  output wire y;
  inner child (.a(a), .y(y));
endmodule
"""


def test_each_module_is_linted_in_a_file_of_its_own_name(tmp_path):
    # Verilator's DECLFILENAME would flag `inner` in a file named outer.v.
    assert lint_verilog(_TWO_MODULES, top="outer", workdir=tmp_path) == ""
    assert sorted(path.name for path in tmp_path.glob("*.v")) == ["inner.v", "outer.v"]
    # A module defined twice is linted as written, in one file: Verilator reports it.
    with pytest.raises(LintError, match="inner"):
        lint_verilog(_TWO_MODULES + _TWO_MODULES.split("// a comment")[0], top="outer",
                     workdir=tmp_path / "twice")
    assert [path.name for path in (tmp_path / "twice").glob("*.v")] == ["outer.v"]


def test_lint_rejects_a_bad_top_name():
    with pytest.raises(ValueError, match="top must be a Verilog identifier, not 'a b'"):
        lint_verilog("module x; endmodule\n", top="a b")


@pytest.mark.parametrize("spec", [FakeSpec(8, False), FakeSpec(8, True), FakeSpec(3, True)],
                         ids=lambda spec: spec.name)
def test_icarus_results_equal_the_model(tmp_path, spec):
    rng = np.random.default_rng(spec.width)
    low, high = (-(1 << (spec.width - 1)), (1 << (spec.width - 1)) - 1) if spec.signed \
        else (0, (1 << spec.width) - 1)
    a = np.concatenate([[low, low, high, 0, high], rng.integers(low, high + 1, 200)])
    b = np.concatenate([[low, high, high, low, 0], rng.integers(low, high + 1, 200)])
    products = simulate_icarus(spec, a, b, workdir=tmp_path)
    np.testing.assert_array_equal(products, spec.model(a, b))
    assert products.dtype == np.int64
    assert (tmp_path / "vvp.log").exists() and (tmp_path / f"{spec.name}.v").exists()


def test_icarus_sees_the_wrong_product():
    products = simulate_icarus(FakeSpec(4, False, True), [3, 3, 2], [5, 4, 5])
    assert products.tolist() == [14, 12, 10]


def test_icarus_simulates_a_component_directly():
    products = simulate_icarus(Multiplier(6, True), [-32, 31], [-32, -1])
    assert products.tolist() == [1024, -31]


def test_icarus_rejects_out_of_range_operands():
    with pytest.raises(ValueError, match=r"a has values outside 0\.\.15 \(unsigned 4 bits\)"):
        simulate_icarus(FakeSpec(4, False), [16], [0])


def test_missing_iverilog_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("DCIM_IVERILOG", str(tmp_path / "no-such-iverilog"))
    with pytest.raises(ToolNotFoundError, match="apt-get install iverilog"):
        simulate_icarus(FakeSpec(2, False), [1], [1], workdir=tmp_path)
