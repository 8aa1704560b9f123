"""convert on the tasks' trained networks: the exact design against an integer network
written here, bit for bit on every test input, and within a point of float; the conversion's
conventions (copy, in place, exclude, per layer); calibration; the netlist check; errors."""

import copy

import numpy as np
import pytest
import torch
from nn_helpers import loaded
from torch import nn

from dcim.arith import MultiplierSpec
from dcim.eda import cache
from dcim.macro import DCiMMacro
from dcim.nn import (
    DCiMConv2d,
    DCiMLinear,
    DesignCheckError,
    check_design,
    convert,
    converted_layers,
    tasks,
)
from dcim.nn import check as check_module
from dcim.nn import matmul as matmul_module

EXACT_U8 = MultiplierSpec(8, signed=False, kind="exact")
EXACT_S8 = MultiplierSpec(8, signed=True, kind="exact")


def integer_network(model, x):
    """The converted network evaluated by an integer implementation of each layer.

    Reads each converted layer's float weights, bias and calibrated scale, and computes in
    int64 NumPy: the convolution by explicit windows, the linear layer by ``@``; float32
    rescaling as the layers document; the other modules run as they are.
    """
    for module in model:
        if isinstance(module, (DCiMConv2d, DCiMLinear)):
            q = module.quantization
            flat = module.weight.detach().reshape(module.weight.shape[0], -1)
            peak = flat.abs().amax(dim=1)
            scale = torch.where(peak > 0, peak / q.weight_max, torch.ones_like(peak))
            view = scale.numpy().reshape(-1, *([1] * (module.weight.dim() - 1)))
            w_int = np.clip(np.round(module.weight.detach().numpy() / view), -q.weight_max,
                            q.weight_max).astype(np.int64)
            act_scale = np.float32(module.act_scale.item())
            x_int = np.clip(np.round(x.numpy() / act_scale), q.act_min,
                            q.act_max).astype(np.int64)
            if isinstance(module, DCiMLinear):
                acc = x_int @ w_int.T
            else:
                (ph, pw), (kh, kw) = module.padding, module.kernel_size
                x_int = np.pad(x_int, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
                out_h, out_w = x_int.shape[2] - kh + 1, x_int.shape[3] - kw + 1
                acc = sum(np.einsum("bchw,oc->bohw", x_int[:, :, i:i + out_h, j:j + out_w],
                                    w_int[:, :, i, j]) for i in range(kh) for j in range(kw))
            shape = (1, -1) + (1,) * (acc.ndim - 2)
            x = (torch.from_numpy(acc).to(torch.float32)
                 * (module.act_scale * scale).reshape(shape) + module.bias.detach().reshape(shape))
        else:
            x = module(x)
    return x


@pytest.mark.parametrize("name", ["digits", "mnist5k", "mnist1d"])
@pytest.mark.parametrize("design", [EXACT_U8, EXACT_S8], ids=lambda spec: spec.name)
def test_the_exact_design_is_the_integer_network_and_within_a_point_of_float(trained, name,
                                                                            design):
    task, result = loaded(name), trained(name)
    x_train, _ = task.tensors("train")
    converted = convert(result.model, design, calibration=x_train[:512])
    x_test, y_test = task.tensors("test")
    with torch.no_grad():
        logits = converted(x_test)
    assert torch.equal(logits, integer_network(converted, x_test))
    accuracy = int((logits.argmax(1) == y_test).sum()) / len(y_test)
    assert accuracy == tasks.evaluate(converted, task)
    assert accuracy >= result.accuracy - 0.01


def test_convert_copies_unless_in_place_and_keeps_the_mode(trained):
    model = trained("digits").model
    before = copy.deepcopy(model.state_dict())
    x = loaded("digits").tensors("train")[0][:64]
    converted = convert(model, EXACT_U8, calibration=x)
    assert converted is not model and all(
        torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert [name for name, _ in converted_layers(converted)] == ["0", "3", "7"]
    assert not converted.training
    own = copy.deepcopy(model).train()
    same = convert(own, EXACT_U8, calibration=[(x, None)], inplace=True)
    assert same is own and same.training and isinstance(own[0], DCiMConv2d)


def test_exclude_and_per_layer_choose_the_designs(trained):
    model = trained("digits").model
    x = loaded("digits").tensors("train")[0][:64]
    kept = convert(model, EXACT_U8, calibration=x, exclude=["7"])
    assert isinstance(kept[7], nn.Linear) and isinstance(kept[0], DCiMConv2d)
    log = MultiplierSpec(8, signed=False, kind="mitchell")
    seen = []

    def choose(name, module):
        seen.append((name, type(module).__name__))
        return {"0": None, "3": log}.get(name, EXACT_U8)

    mixed = convert(model, None, calibration=x, per_layer=choose)
    assert seen == [("0", "Conv2d"), ("3", "Conv2d"), ("7", "Linear")]
    assert isinstance(mixed[0], nn.Conv2d) and mixed[3].design == log
    assert mixed[7].design == EXACT_U8
    macro = convert(model, DCiMMacro(rows=16, cols=4, mult="exact", signed=False),
                    calibration=x, exclude=["0", "3"])
    assert macro[7].design.rows == 16


def test_calibration_picks_unsigned_after_a_relu_and_signed_otherwise():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Linear(3, 2))
    x = torch.randn(100, 4)
    converted = convert(model, EXACT_S8, calibration=[x[:50], x[50:]], check=False)
    first, second, third = (module for _, module in converted_layers(converted))
    assert first.quantization.act_signed and not second.quantization.act_signed
    assert third.quantization.act_signed
    # MinMax: the scale maps the largest magnitude seen onto the largest code.
    assert first.act_scale.item() == pytest.approx(float(x.abs().max()) / 127, rel=1e-6)
    hidden = torch.relu(model[0](x)).detach()
    assert second.act_scale.item() == pytest.approx(float(hidden.max()) / 127, rel=1e-6)


def test_each_design_is_checked_against_its_netlist_once_and_cached(monkeypatch):
    design = MultiplierSpec(6, signed=False, kind="drum", options={"k": 3})
    verdict = check_design(design)
    assert verdict.ok and verdict.scope == "product table" and verdict.vectors == 4096
    assert check_design(design) is verdict
    monkeypatch.setattr(check_module, "_CHECKED", {})
    again = check_design(design)
    assert again.ok and again.cached and again.vectors == 4096
    assert cache.cache_info("nn-check").entries >= 1


def test_a_design_whose_table_differs_from_its_netlist_is_refused(monkeypatch):
    design = MultiplierSpec(4, signed=True, kind="mitchell")
    real = matmul_module.product_table

    def corrupted(spec, **options):
        table = real(spec, **options)
        return table + (table == table.max())

    monkeypatch.setattr(check_module, "_CHECKED", {})
    monkeypatch.setattr(matmul_module, "product_table", corrupted)
    verdict = check_design(design)
    assert not verdict.ok and verdict.mismatches >= 1 and not verdict.cached
    model = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(DesignCheckError, match="mul4s_mitchell: its gate netlist differs"):
        convert(model, design, calibration=torch.randn(4, 3))


def test_bit_serial_macros_have_nothing_to_synthesize():
    macro = DCiMMacro(rows=8, cols=2, datapath="bitserial", signed=False)
    verdict = check_design(macro)
    assert verdict.ok and verdict.scope.startswith("bit-serial") and verdict.vectors == 0


def test_bad_input_is_named(trained):
    model = trained("digits").model
    x = loaded("digits").tensors("train")[0][:8]
    with pytest.raises(ValueError, match="weight_bits must be at most the 8 bits of "
                                         "mul8u_exact, not 9"):
        convert(model, EXACT_U8, calibration=x, weight_bits=9)
    with pytest.raises(ValueError, match=r"calibration batch 1 of shape \(8, 1, 5, 5\) does "
                                         r"not fit the model"):
        convert(model, EXACT_U8, calibration=[x, torch.zeros(8, 1, 5, 5)])
    with pytest.raises(ValueError, match="model has no nn.Linear or nn.Conv2d layer to "
                                         "convert"):
        convert(nn.Sequential(nn.ReLU()), EXACT_U8, calibration=x)
    with pytest.raises(ValueError, match="exclude names '9', not among"):
        convert(model, EXACT_U8, calibration=x, exclude=["9"])
    with pytest.raises(TypeError, match="exclude must be a collection of layer names"):
        convert(model, EXACT_U8, calibration=x, exclude="0")
    with pytest.raises(ValueError, match="calibration must hold at least one input batch"):
        convert(model, EXACT_U8, calibration=[])
    with pytest.raises(TypeError, match="calibration batch 0 must be a float tensor"):
        convert(model, EXACT_U8, calibration=[np.zeros((2, 1, 8, 8))])
    with pytest.raises(TypeError, match="calibration must be a tensor or an iterable"):
        convert(model, EXACT_U8, calibration=3)
    with pytest.raises(ValueError, match="design must be a design when per_layer is not "
                                         "given"):
        convert(model, None, calibration=x)
    with pytest.raises(TypeError, match=r"per_layer\('0', \.\.\.\) must return a design"):
        convert(model, None, calibration=x, per_layer=lambda name, module: "log")
    with pytest.raises(ValueError, match="no layer is left to convert"):
        convert(model, EXACT_U8, calibration=x, exclude=["0", "3", "7"])
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        convert("model", EXACT_U8, calibration=x)
    with pytest.raises(ValueError, match="calibration never reached layer 'spare'"):
        convert(OneUnusedLayer(), EXACT_U8, calibration=torch.randn(3, 2))


class OneUnusedLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.used, self.spare = nn.Linear(2, 2), nn.Linear(2, 2)

    def forward(self, x):
        return self.used(x)


def test_faults_and_analog_noise_are_seeded_per_layer_and_reproducible(trained):
    from dcim.nn import AnalogCiM, WeightFaults

    model = trained("digits").model
    task = loaded("digits")
    x = task.tensors("train")[0][:64]
    x_test = task.tensors("test")[0][:100]
    faulty = convert(model, EXACT_U8, calibration=x, faults=WeightFaults(0.01, seed=1))
    seeds = [layer.faults.seed for _, layer in converted_layers(faulty)]
    assert len(set(seeds)) == 3 and all(layer.faults.rate == 0.01
                                        for _, layer in converted_layers(faulty))
    again = convert(model, EXACT_U8, calibration=x, faults=WeightFaults(0.01, seed=1))
    with torch.no_grad():
        assert torch.equal(faulty(x_test), again(x_test))
    noisy = AnalogCiM(rows=32, adc_bits=6).with_noise_lsb(0.5)
    analog = convert(model, noisy, calibration=x)
    assert len({layer.noise_seed for _, layer in converted_layers(analog)}) == 3
    twin = convert(model, noisy, calibration=x)
    with torch.no_grad():
        assert torch.equal(analog(x_test), twin(x_test))
    state = analog.state_dict()
    assert state["0._extra_state"]["design"]["type"] == "analog"
    twin.load_state_dict(state)
    assert check_design(noisy).scope.startswith("analog array")
