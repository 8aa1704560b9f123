import io
import json

import pytest

from dcim.cli import main


def run(*argv):
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_compressors_prints_each_truth_table_and_error_statistics():
    code, text = run("compressors")
    assert code == 0
    assert "acci1" in text and "0 1 1 2 1 2 2 3 1 2 2 3 2 3 3 3" in text
    # acci1 errs only on 1111: probability (1/4)^4 = 0.00391 at P(1) = 1/4.
    line = next(line for line in text.splitlines() if line.startswith("acci1"))
    assert "0.00391" in line


def test_compressors_json():
    code, text = run("compressors", "--json")
    records = {r["name"]: r for r in json.loads(text)}
    assert records["sabetz"]["truth_table"][0] == 1
    assert records["exact42"]["error_rate"] == 0.0


def test_mult_prints_metrics_and_compressor_counts(tmp_path):
    verilog = tmp_path / "m.v"
    code, text = run("mult", "--width", "6", "--kind", "approx", "--option", "compressor=ha",
                     "--verilog", str(verilog))
    assert code == 0
    assert "compressors per column" in text and " ha" in text
    assert "MRED" in text and "all 4,096 pairs" in text
    assert "module mul6u_approx_haxw" in verilog.read_text()


def test_mult_from_design_file_as_json():
    code, text = run("mult", "designs/mul8u_exact_dadda.toml", "--json")
    data = json.loads(text)
    assert data["design"]["name"] == "mul8u_exact"
    assert data["metrics"]["er"] == 0.0


def test_mult_option_values_are_typed():
    code, text = run("mult", "--kind", "drum", "--option", "k=4", "--json")
    assert json.loads(text)["design"]["name"] == "mul8u_drum_k4"


@pytest.mark.parametrize(("argv", "message"), [
    (["mult", "--width", "40"], "width must be 2 to 32, not 40"),
    (["mult", "--kind", "drum", "--option", "k=99"], "k must be at most width"),
    (["mult", "missing.toml"], "No such file"),
])
def test_mult_errors_are_reported_without_traceback(argv, message, capsys):
    code, _ = run(*argv)
    assert code == 2
    assert message in capsys.readouterr().err


def test_bad_option_syntax_is_a_usage_error(capsys):
    with pytest.raises(SystemExit):
        run("mult", "--option", "k")
    assert "key=value" in capsys.readouterr().err
