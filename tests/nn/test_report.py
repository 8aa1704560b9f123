"""evaluate_design and compare_designs on the digits task, and the dcim nn commands: the
figures add up (MACs per layer, energy per inference, drop, saved), they match the pieces
measured separately, and bad input is named before any network runs."""

import io
import json

import pytest
from nn_helpers import loaded

from dcim.arith import MultiplierSpec
from dcim.cli import main
from dcim.nn import convert, operand_metrics, tasks
from dcim.nn.report import compare_designs, evaluate_design, exact_counterpart
from dcim.nn_commands import parse_design

MITCHELL_4 = MultiplierSpec(4, signed=False, kind="mitchell")
EXACT_4 = MultiplierSpec(4, signed=False, kind="exact")
# digits' CNN: conv 1->16 3x3 on 8x8, conv 16->32 3x3 on 4x4, linear 128->10.
DIGITS_MACS = {"0": 16 * 64 * 9, "3": 32 * 16 * 16 * 9, "7": 128 * 10}


@pytest.fixture(scope="module")
def mitchell(trained, pdk_root):
    trained("digits")
    return evaluate_design("digits", MITCHELL_4, samples=512, operand_inputs=64,
                           pdk_root=pdk_root)


def test_the_evaluation_adds_up(mitchell, trained):
    result = mitchell
    task = loaded("digits")
    converted = convert(trained("digits").model, MITCHELL_4,
                        calibration=task.tensors("train")[0][:512])
    assert result.accuracy == tasks.evaluate(converted, task)
    assert result.float_accuracy == trained("digits").accuracy
    assert result.exact == "mul4u_exact" and result.drop == result.exact_accuracy - result.accuracy
    assert {layer.name: layer.macs for layer in result.layers} == DIGITS_MACS
    assert [layer.macs for layer in result.exact_layers] == list(DIGITS_MACS.values())
    for layer in result.layers + result.exact_layers:
        assert layer.energy.energy_per_mac_pj > 0
        assert layer.energy_pj == layer.macs * layer.energy.energy_per_mac_pj
    assert result.energy_pj == sum(layer.energy_pj for layer in result.layers)
    assert result.energy_saved == pytest.approx(1 - result.energy_pj / result.exact_energy_pj)
    assert all(layer.metrics.mred == 0 for layer in result.exact_layers)
    assert all(0 < layer.metrics.mred < 0.2 for layer in result.layers)
    assert result.uniform_metrics.mred == MITCHELL_4.metrics().mred
    assert result.check.ok and result.check.vectors == 256
    data = json.loads(json.dumps(result.as_dict()))
    assert data["design"] == "mul4u_mitchell" and len(data["layers"]) == 3


def test_layer_metrics_are_those_of_the_layers_own_operands(mitchell, trained):
    task = loaded("digits")
    converted = convert(trained("digits").model, MITCHELL_4,
                        calibration=task.tensors("train")[0][:512])
    last = converted[7]
    captured = converted[:7](task.tensors("test")[0][:64]).detach()
    (x_int, w_int), = last.operands(captured)
    assert mitchell.layers[2].metrics == operand_metrics(MITCHELL_4, w_int, x_int)


def test_compare_shares_the_exact_reference_and_reports_progress(trained):
    trained("digits")
    calls = []
    results = compare_designs("digits", [EXACT_4, MITCHELL_4], energy=False,
                              operand_inputs=32, progress=lambda *a: calls.append(a))
    assert calls == [(0, 2), (1, 2), (2, 2)]
    exact, approximate = results
    assert exact.drop == 0 and exact.exact == exact.design
    assert approximate.exact_accuracy == exact.accuracy
    assert exact.energy_pj is None and exact.energy_saved is None


def test_exact_counterparts():
    assert exact_counterpart(MITCHELL_4) == EXACT_4
    from dcim.nn import AnalogCiM

    ideal = exact_counterpart(AnalogCiM(rows=32, adc_bits=5, act_encoding=2).with_noise_lsb(1))
    assert ideal == AnalogCiM(rows=1, adc_bits=5) and ideal.adc_is_lossless()
    from dcim.macro import MacroSpec

    macro = MacroSpec(rows=8, cols=2, mult="log", signed=False)
    assert exact_counterpart(macro) == MacroSpec(rows=8, cols=2, mult="exact", signed=False)


def test_bad_input_is_named_before_any_network_runs(pdk_root):
    with pytest.raises(ValueError, match="task must be one of digits, mnist5k, mnist1d, "
                                         "not 'cifar10'"):
        evaluate_design("cifar10", EXACT_4)
    with pytest.raises(ValueError, match="corner"):
        evaluate_design("digits", EXACT_4, corner="hot", pdk_root=pdk_root)
    with pytest.raises(TypeError, match="design must be a MultiplierSpec"):
        evaluate_design("digits", "log")
    with pytest.raises(ValueError, match="samples must be at least 2"):
        evaluate_design("digits", EXACT_4, samples=1)
    with pytest.raises(ValueError, match="designs must hold at least one design"):
        compare_designs("digits", [])
    with pytest.raises(TypeError, match=r"designs\[1\]: design must be"):
        compare_designs("digits", [EXACT_4, 3])
    with pytest.raises(TypeError, match="unknown keywords colour"):
        compare_designs("digits", [EXACT_4], colour="red")


def test_designs_are_parsed_from_kinds_with_options_or_files(tmp_path):
    assert parse_design("drum:k=3") == MultiplierSpec(8, kind="drum", options={"k": 3})
    assert parse_design("log", width=6, signed=True) == MultiplierSpec(6, signed=True,
                                                                       kind="log")
    path = tmp_path / "m.toml"
    path.write_text('[multiplier]\nwidth = 4\nkind = "mitchell"\n')
    assert parse_design(str(path)) == MITCHELL_4
    with pytest.raises(ValueError, match="design 'logg': kind must be one of approx, drum"):
        parse_design("logg")
    from dcim.nn import AnalogCiM

    assert parse_design("analog:adc_bits=6:noise_lsb=1") == AnalogCiM(adc_bits=6) \
        .with_noise_lsb(1)
    with pytest.raises(ValueError, match="design 'analog:colour=1': .*colour"):
        parse_design("analog:colour=1")
    with pytest.raises(ValueError, match="design 'drum:k': --option must look like "
                                         "key=value"):
        parse_design("drum:k")
    with pytest.raises(FileNotFoundError, match="design file .*missing.toml' does not exist"):
        parse_design(str(tmp_path / "missing.toml"))


def test_the_commands_print_the_tables_and_json(trained, capsys):
    trained("digits")
    out = io.StringIO()
    assert main(["nn", "eval", "--task", "digits", "--design", "mitchell", "--width", "4",
                 "--no-energy"], out) == 0
    text = out.getvalue()
    assert "task digits: float" in text and "mul4u_mitchell" in text
    assert "layers of mul4u_mitchell" in text and "netlist check: product table" in text
    out = io.StringIO()
    assert main(["nn", "compare", "--task", "digits", "--designs", "exact", "mitchell",
                 "--width", "4", "--no-energy", "--json"], out) == 0
    data = json.loads(out.getvalue())
    assert [row["design"] for row in data] == ["mul4u_exact", "mul4u_mitchell"]
    out = io.StringIO()
    assert main(["nn", "compare", "--task", "digits", "--designs", "exact", "--width", "4",
                 "--no-energy", "--csv"], out) == 0
    assert out.getvalue().splitlines()[0].startswith("task,design,spec.width")
    assert main(["nn", "eval", "--task", "cifar10", "--design", "log"], io.StringIO()) == 2
    assert "dcim nn: error: task must be one of" in capsys.readouterr().err
    out = io.StringIO()
    assert main(["nn", "eval", "--task", "digits", "--design", "analog:rows=8:noise_lsb=0.5",
                 "--json"], out) == 0
    data = json.loads(out.getvalue())
    assert data["design"] == "acim_w8a8_adc8_r8_n0.5lsb" and data["energy_pj"] is None
    assert data["exact"] == "acim_w8a8_adc8_r1" and data["network_mred"] is None
    out = io.StringIO()
    assert main(["nn", "eval", "--task", "digits", "--design", "drum:k=2", "--width", "4",
                 "--no-energy", "--finetune", "1", "--json"], out) == 0
    data = json.loads(out.getvalue())
    assert data["accuracy_before_finetune"] is not None and 0 < data["accuracy"] <= 1
