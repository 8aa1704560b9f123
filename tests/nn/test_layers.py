"""DCiMLinear and DCiMConv2d against integer references written here, independently of the
library's unfold and product paths; their state, conversion back to float, the weight
cache, and fine-tuning gradients."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dcim.arith import MULTIPLIER_KINDS, MultiplierSpec
from dcim.macro import MacroSpec
from dcim.nn import (
    AnalogCiM,
    DCiMConv2d,
    DCiMLinear,
    WeightFaults,
    approx_matmul,
    flip_weight_bits,
    layer_quantization,
)
from dcim.nn import matmul as matmul_module

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None)
EXACT_S8 = MultiplierSpec(8, signed=True, kind="exact")
EXACT_U8 = MultiplierSpec(8, signed=False, kind="exact")
MITCHELL_U8 = MultiplierSpec(8, signed=False, kind="mitchell")


def quantized_weight(weight, weight_max):
    """Per output channel symmetric, written with NumPy: ``(w_int, scale)``."""
    flat = weight.detach().reshape(weight.shape[0], -1)
    peak = flat.abs().amax(dim=1)
    scale = torch.where(peak > 0, peak / weight_max, torch.ones_like(peak))
    view = scale.numpy().reshape(-1, *([1] * (weight.dim() - 1)))
    w_int = np.clip(np.round(weight.detach().numpy() / view), -weight_max, weight_max)
    return w_int.astype(np.int64), scale


def quantized_input(layer, x):
    q = layer.quantization
    scale = np.float32(layer.act_scale.item())
    return np.clip(np.round(x.numpy() / scale), q.act_min, q.act_max).astype(np.int64)


def rescaled(layer, acc, scale, channel_axis):
    """``acc * (act_scale * s_n) + bias`` in float32, as the layers document it."""
    shape = [1] * acc.ndim
    shape[channel_axis] = -1
    out = torch.from_numpy(acc).to(torch.float32) * (layer.act_scale * scale).reshape(shape)
    if layer.bias is not None:
        out = out + layer.bias.detach().reshape(shape)
    return out


def linear_reference(layer, x, products=None):
    """The integer linear layer: exact ``x @ w`` or, given ``products(w, x)``, their sums."""
    w_int, scale = quantized_weight(layer.weight, layer.quantization.weight_max)
    x_int = quantized_input(layer, x)
    if products is None:
        acc = x_int @ w_int.T
    else:
        acc = products(w_int.T[None, :, :], x_int[:, :, None]).sum(axis=1)
    return rescaled(layer, acc, scale, 1)


def conv_reference(layer, x):
    """The integer convolution by explicit windows (NumPy), every option of nn.Conv2d."""
    w_int, scale = quantized_weight(layer.weight, layer.quantization.weight_max)
    x_int = quantized_input(layer, x)
    kh, kw = layer.kernel_size
    dh, dw = layer.dilation
    sh, sw = layer.stride
    if layer.padding == "same":
        pads = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                for k, d in ((kh, dh), (kw, dw))]
    elif layer.padding == "valid":
        pads = [(0, 0), (0, 0)]
    else:
        pads = [(layer.padding[0],) * 2, (layer.padding[1],) * 2]
    x_int = np.pad(x_int, ((0, 0), (0, 0), *pads))
    batch, channels, height, width = x_int.shape
    out_h = (height - dh * (kh - 1) - 1) // sh + 1
    out_w = (width - dw * (kw - 1) - 1) // sw + 1
    groups = layer.groups
    cin, cout = channels // groups, layer.out_channels // groups
    acc = np.zeros((batch, layer.out_channels, out_h, out_w), dtype=np.int64)
    for g in range(groups):
        for i in range(kh):
            for j in range(kw):
                window = x_int[:, g * cin:(g + 1) * cin,
                               i * dh:i * dh + sh * (out_h - 1) + 1:sh,
                               j * dw:j * dw + sw * (out_w - 1) + 1:sw]
                acc[:, g * cout:(g + 1) * cout] += np.einsum(
                    "bchw,oc->bohw", window, w_int[g * cout:(g + 1) * cout, :, i, j])
    return rescaled(layer, acc, scale, 1)


def test_linear_on_the_exact_design_is_the_integer_layer():
    torch.manual_seed(0)
    layer = DCiMLinear.from_float(nn.Linear(20, 7), EXACT_S8, act_scale=0.02, act_signed=True)
    x = torch.randn(33, 20)
    assert torch.equal(layer(x), linear_reference(layer, x))


def test_linear_on_an_approximate_design_sums_its_products_sign_magnitude():
    torch.manual_seed(1)
    layer = DCiMLinear.from_float(nn.Linear(12, 5), MITCHELL_U8, act_scale=0.01)
    x = torch.rand(9, 12) * 2.5     # beyond the range too: clamped to 255
    assert layer.quantization.sign_magnitude and layer.quantization.weight_max == 255

    def products(w, x):
        magnitude = MITCHELL_U8.model(np.abs(w), np.abs(x)).astype(np.int64)
        return np.where((w < 0) != (x < 0), -magnitude, magnitude)

    assert torch.equal(layer(x), linear_reference(layer, x, products))


def test_leading_dimensions_pass_through_a_linear_layer():
    layer = DCiMLinear.from_float(nn.Linear(6, 3), EXACT_S8, act_scale=0.05, act_signed=True)
    x = torch.randn(2, 4, 6)
    assert torch.equal(layer(x), layer(x.reshape(8, 6)).reshape(2, 4, 3))


@SETTINGS
@given(kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       stride=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       padding=st.one_of(st.tuples(st.integers(0, 2), st.integers(0, 2)),
                         st.sampled_from(["same", "valid"])),
       dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       groups=st.sampled_from([1, 2]), bias=st.booleans(), signed=st.booleans(),
       seed=st.integers(0, 1000))
def test_conv2d_takes_every_option_of_nn_conv2d(kernel, stride, padding, dilation, groups,
                                                bias, signed, seed):
    if padding == "same":
        stride = (1, 1)                 # as nn.Conv2d requires
    torch.manual_seed(seed)
    float_conv = nn.Conv2d(4, 6, kernel, stride=stride, padding=padding, dilation=dilation,
                           groups=groups, bias=bias)
    design = EXACT_S8 if signed else EXACT_U8
    layer = DCiMConv2d.from_float(float_conv, design, act_scale=0.03, act_signed=signed)
    x = torch.randn(3, 4, 7, 6) if signed else torch.rand(3, 4, 7, 6) * 4
    got = layer(x)
    assert got.shape == float_conv(x).shape
    assert torch.equal(got, conv_reference(layer, x))


def test_a_layer_on_a_macro_computes_the_macros_model():
    macro = MacroSpec(rows=4, cols=2, weight_bits=4, act_bits=4, signed=True,
                      mult={"kind": "drum", "options": {"k": 3}}, acc_width=12)
    torch.manual_seed(2)
    layer = DCiMLinear.from_float(nn.Linear(10, 3, bias=False), macro, act_scale=0.2,
                                  act_signed=True)
    x = torch.randn(5, 10)
    w_int, scale = quantized_weight(layer.weight, layer.quantization.weight_max)
    acc = approx_matmul(quantized_input(layer, x), w_int.T, macro)
    assert torch.equal(layer(x), rescaled(layer, acc, scale, 1))


def test_converting_back_to_float_keeps_the_weights():
    torch.manual_seed(3)
    conv = nn.Conv2d(2, 3, 3, padding=1, dilation=1, groups=1)
    layer = DCiMConv2d.from_float(conv, EXACT_U8, act_scale=0.1)
    back = layer.to_float()
    assert isinstance(back, nn.Conv2d) and back.padding == conv.padding
    x = torch.rand(2, 2, 5, 5)
    assert torch.equal(back(x), conv(x))
    linear = nn.Linear(4, 2)
    assert torch.equal(DCiMLinear.from_float(linear, EXACT_U8, act_scale=1.0).to_float()(
        x[:, 0, 0, :4]), linear(x[:, 0, 0, :4]))


def test_the_state_dict_carries_the_design_and_refuses_another():
    torch.manual_seed(4)
    layer = DCiMLinear.from_float(nn.Linear(4, 2), MITCHELL_U8, act_scale=0.5)
    state = layer.state_dict()
    assert set(state) == {"weight", "bias", "act_scale", "_extra_state"}
    assert state["_extra_state"]["design"]["spec"]["kind"] == "mitchell"
    fresh = DCiMLinear(4, 2, MITCHELL_U8)
    fresh.load_state_dict(state)
    x = torch.rand(3, 4)
    assert torch.equal(fresh(x), layer(x))
    other = DCiMLinear(4, 2, EXACT_U8)
    with pytest.raises(ValueError, match="built for mul8u_mitchell.*convert the model"):
        other.load_state_dict(state)
    assert "design=mul8u_mitchell, weight_bits=8, act_bits=8 unsigned" in repr(layer)


def test_the_prepared_weights_are_rebuilt_only_when_the_weights_change():
    layer = DCiMLinear.from_float(nn.Linear(4, 2), EXACT_S8, act_scale=0.5, act_signed=True)
    x = torch.randn(3, 4)
    first = layer(x)
    prepared = layer._prepared
    assert torch.equal(layer(x), first) and layer._prepared is prepared
    with torch.no_grad():
        layer.weight.mul_(-1)
    assert layer._prepared_weights() is not prepared
    assert torch.equal(layer(x), linear_reference(layer, x))
    # A write through .data leaves weight._version as it was; the values still tell.
    prepared = layer._prepared
    layer.weight.data.mul_(0.5)
    assert layer._prepared_weights() is not prepared
    assert torch.equal(layer(x), linear_reference(layer, x))


def test_assigned_faults_are_checked_and_used_like_set_faults():
    layer = DCiMLinear.from_float(nn.Linear(16, 8), EXACT_S8, act_scale=0.5, act_signed=True)
    x = torch.randn(3, 16)
    clean = layer(x)
    layer.faults = WeightFaults(rate=0.2, seed=3)
    faulted = layer(x)
    assert not torch.equal(faulted, clean)
    twin = DCiMLinear.from_float(nn.Linear(16, 8), EXACT_S8, act_scale=0.5, act_signed=True)
    twin.load_state_dict(layer.state_dict())
    assert torch.equal(twin(x), faulted)
    layer.faults = None
    assert torch.equal(layer(x), clean)
    with pytest.raises(TypeError, match="faults must be a WeightFaults or None, not 0.2"):
        layer.faults = 0.2
    assert layer.faults is None and torch.equal(layer(x), clean)


def test_training_mode_gives_the_same_values_and_straight_through_gradients():
    torch.manual_seed(5)
    layer = DCiMLinear.from_float(nn.Linear(8, 3), MITCHELL_U8, act_scale=0.01)
    x = torch.rand(6, 8, requires_grad=True)
    layer.eval()
    with torch.no_grad():
        expected = layer(x)
    layer.train()
    out = layer(x)
    assert torch.equal(out.detach(), expected)
    out.sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_weight_and_activation_bits_narrow_the_ranges():
    q = layer_quantization(EXACT_S8, weight_bits=4, act_bits=6, act_signed=True)
    assert (q.weight_max, q.act_max, q.act_min, q.sign_magnitude) == (7, 31, -31, False)
    q = layer_quantization(EXACT_U8, weight_bits=3)
    assert (q.weight_max, q.act_max, q.act_min, q.sign_magnitude) == (7, 255, 0, True)
    layer = DCiMLinear.from_float(nn.Linear(5, 2), EXACT_S8, act_scale=0.1, weight_bits=4,
                                  act_signed=True)
    assert int(layer.quantized_weight().abs().max()) == 7


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="weight_bits must be at most the 8 bits of mul8s_exact, "
                                         "not 9"):
        layer_quantization(EXACT_S8, weight_bits=9)
    with pytest.raises(ValueError, match="act_bits must be at least 2"):
        layer_quantization(EXACT_S8, act_bits=1)
    with pytest.raises(TypeError, match="design must be a MultiplierSpec, MacroSpec, "
                                        "DCiMMacro or AnalogCiM, not 'exact'"):
        DCiMLinear(2, 2, "exact")
    with pytest.raises(ValueError, match="act_scale must be a positive finite number, not -1"):
        DCiMLinear(2, 2, EXACT_S8, act_scale=-1)
    with pytest.raises(TypeError, match="faults must be a WeightFaults or None"):
        DCiMLinear(2, 2, EXACT_S8, faults=0.1)
    with pytest.raises(ValueError, match="padding_mode must be 'zeros', not 'reflect'"):
        DCiMConv2d(2, 2, 3, EXACT_S8, padding_mode="reflect")
    with pytest.raises(TypeError, match="module must be a torch.nn.Linear"):
        DCiMLinear.from_float(nn.Conv2d(1, 1, 1), EXACT_S8, act_scale=1.0)
    layer = DCiMLinear(3, 2, EXACT_S8)
    with pytest.raises(ValueError, match=r"input must have 3 features .* not shape \(4, 5\)"):
        layer(torch.zeros(4, 5))
    conv = DCiMConv2d(2, 2, 3, EXACT_S8)
    with pytest.raises(ValueError, match=r"input must have shape \(batch, 2, height, width\)"):
        conv(torch.zeros(1, 3, 5, 5))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        conv(torch.zeros(1, 2, 2, 2))


def test_an_ideal_analog_array_is_the_integer_layer():
    ideal = AnalogCiM(weight_bits=8, act_bits=8, rows=1)       # every partial sum exact
    torch.manual_seed(6)
    layer = DCiMLinear.from_float(nn.Linear(12, 4), ideal, act_scale=0.01)
    q = layer.quantization
    assert (q.weight_max, q.act_max, q.act_signed, q.sign_magnitude) == (127, 255, False, False)
    x = torch.rand(7, 12) * 3
    assert torch.equal(layer(x), linear_reference(layer, x))
    signed = DCiMConv2d.from_float(nn.Conv2d(2, 3, 3, padding=1), ideal, act_scale=0.02,
                                   act_signed=True)
    assert signed.quantization.act_max == 127
    x = torch.randn(2, 2, 5, 5)
    assert torch.equal(signed(x), conv_reference(signed, x))


def test_analog_noise_is_seeded_per_layer_and_advances_batch_by_batch():
    noisy = AnalogCiM(rows=16, adc_bits=6).with_noise_lsb(1.0)
    torch.manual_seed(7)
    layer = DCiMLinear.from_float(nn.Linear(32, 4), noisy, act_scale=0.01)
    x = torch.rand(64, 32) * 2
    first, second = layer(x), layer(x)
    assert not torch.equal(first, second)
    layer.reseed(noisy.seed)
    assert torch.equal(layer(x), first)
    error = (first - linear_reference(layer, x)).abs().mean()
    assert 0 < error < 0.2 * linear_reference(layer, x).abs().mean()


def test_faults_flip_the_stored_weights_reproducibly():
    torch.manual_seed(8)
    linear = nn.Linear(16, 8)
    clean = DCiMLinear.from_float(linear, EXACT_S8, act_scale=0.05, act_signed=True)
    none = DCiMLinear.from_float(linear, EXACT_S8, act_scale=0.05, act_signed=True,
                                 faults=WeightFaults(0.0))
    assert torch.equal(none.quantized_weight(), clean.quantized_weight())
    faulty = DCiMLinear.from_float(linear, EXACT_S8, act_scale=0.05, act_signed=True,
                                   faults=WeightFaults(0.05, seed=3))
    expected = flip_weight_bits(clean.quantized_weight().numpy(), bits=8, encoding="twos",
                                rate=0.05, seed=3)
    assert np.array_equal(faulty.quantized_weight().numpy(), expected)
    assert not np.array_equal(expected, clean.quantized_weight().numpy())
    unsigned = DCiMLinear.from_float(linear, EXACT_U8, act_scale=0.05, act_signed=True,
                                     faults=WeightFaults(0.05, seed=3))
    assert np.array_equal(unsigned.quantized_weight().numpy(), flip_weight_bits(
        DCiMLinear.from_float(linear, EXACT_U8, act_scale=0.05).quantized_weight().numpy(),
        bits=8, encoding="sign-magnitude", rate=0.05, seed=3))
    x = torch.randn(5, 16)
    assert torch.equal(faulty(x), rescaled(faulty, quantized_input(faulty, x)
                                           @ expected.T, faulty.weight_scale(), 1))
# -- the inference paths: convolutions without unfolding, unchecked products -----------------

def conv_products_reference(layer, x, products):
    """The convolution by explicit windows (NumPy) summing ``products(w, x)`` of any design:
    stride, padding, dilation and groups as :func:`conv_reference` takes them."""
    w_int, scale = quantized_weight(layer.weight, layer.quantization.weight_max)
    x_int = quantized_input(layer, x)
    (kh, kw), (dh, dw), (sh, sw) = layer.kernel_size, layer.dilation, layer.stride
    (ph, pw) = layer.padding
    x_int = np.pad(x_int, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out_h = (x_int.shape[2] - dh * (kh - 1) - 1) // sh + 1
    out_w = (x_int.shape[3] - dw * (kw - 1) - 1) // sw + 1
    groups = layer.groups
    cin, cout = x_int.shape[1] // groups, layer.out_channels // groups
    acc = np.zeros((x_int.shape[0], layer.out_channels, out_h, out_w), dtype=np.int64)
    for g in range(groups):
        for i in range(kh):
            for j in range(kw):
                window = x_int[:, g * cin:(g + 1) * cin,
                               i * dh:i * dh + sh * (out_h - 1) + 1:sh,
                               j * dw:j * dw + sw * (out_w - 1) + 1:sw]
                weights = w_int[g * cout:(g + 1) * cout, :, i, j]
                acc[:, g * cout:(g + 1) * cout] += products(
                    weights[None, :, :, None, None], window[:, None]).sum(axis=2)
    return rescaled(layer, acc, scale, 1)


def design_products(design):
    """``products(w, x)`` of a design as the layers run it (sign-magnitude when unsigned)."""
    def products(w, x):
        if design.signed:
            return design.model(w, x).astype(np.int64)
        magnitude = design.model(np.abs(w), np.abs(x)).astype(np.int64)
        return np.where((w < 0) != (x < 0), -magnitude, magnitude)
    return products


def conv_path(layer):
    """How the layer's first group convolves: "tables", "factors" or None (unfolded)."""
    run = layer._prepared_weights()[1][0]._run
    return {"_Gathered": "tables", "_Factored": "factors"}.get(type(run).__name__)


def conv_sums(layer):
    """``(dtype, number of parts)`` of the first group's convolution sums."""
    run = layer._prepared_weights()[1][0]._run
    (built,) = run._convs.values()
    if conv_path(layer) == "tables":
        table, _, parts = built
        return table.dtype, len(parts)
    dtype, channel_parts, _ = built
    return dtype, len(channel_parts)


@SETTINGS
@given(kind=st.sampled_from(sorted(MULTIPLIER_KINDS)), signed=st.booleans(),
       act_signed=st.booleans(), kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       stride=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       groups=st.sampled_from([1, 2]), seed=st.integers(0, 1000))
def test_conv2d_inference_of_every_kind_equals_its_products(kind, signed, act_signed, kernel,
                                                            stride, padding, dilation, groups,
                                                            seed):
    torch.manual_seed(seed)
    design = MultiplierSpec(8, signed=signed, kind=kind)
    float_conv = nn.Conv2d(4, 6, kernel, stride=stride, padding=padding, dilation=dilation,
                           groups=groups)
    layer = DCiMConv2d.from_float(float_conv, design, act_scale=0.02, act_signed=act_signed)
    # Beyond the range too (clamped), and zeros: padded zeros and real ones meet p(w, 0).
    x = torch.randn(3, 4, 7, 6) * 3 if act_signed else torch.rand(3, 4, 7, 6) * 6
    x[0, :, :2] = 0
    with torch.no_grad():
        got = layer(x)
    assert conv_path(layer) is not None
    assert torch.equal(got, conv_products_reference(layer, x, design_products(design)))


@pytest.mark.parametrize("kind", ["exact", "drum", "mitchell"])
def test_wide_convolutions_sum_in_exact_parts(monkeypatch, kind):
    # 300 channels of 3x3 at the largest magnitudes: 2700 * 255**2 is beyond 2**24.
    design = MultiplierSpec(8, signed=False, kind=kind)
    conv = nn.Conv2d(300, 2, 3, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.weight[1, ::7] = -0.5
    layer = DCiMConv2d.from_float(conv, design, act_scale=1.0)
    x = torch.full((2, 300, 4, 3), 255.0)
    x[1, ::5] = 17.0
    expected = conv_products_reference(layer, x, design_products(design))
    with torch.no_grad():
        assert torch.equal(layer(x), expected)
    dtype, parts = conv_sums(layer)
    # exact: 28 channels of 9 * 255**2 per part below 2**24.
    assert dtype == torch.float32 and parts == (11 if kind == "exact" else parts) and parts > 1
    # One channel (or one position) beyond float32: float64 convolutions or tables.
    monkeypatch.setattr(matmul_module, "_EXACT_FLOAT", {torch.float32: 1 << 10,
                                                        torch.float64: 1 << 53})
    fresh = DCiMConv2d.from_float(conv, design, act_scale=1.0)
    with torch.no_grad():
        assert torch.equal(fresh(x), expected)
    assert conv_sums(fresh) == (torch.float64, 1)


def test_the_output_is_laid_out_as_the_input():
    torch.manual_seed(6)
    for design in (EXACT_U8, MITCHELL_U8):
        conv = nn.Conv2d(3, 5, 3, padding=1)
        layer = DCiMConv2d.from_float(conv, design, act_scale=0.01)
        x = torch.rand(2, 3, 6, 6)
        with torch.no_grad():
            plain, last = layer(x), layer(x.contiguous(memory_format=torch.channels_last))
        assert plain.is_contiguous() and torch.equal(plain, last)
        assert last.is_contiguous(memory_format=torch.channels_last) and not last.is_contiguous()
        # Models that view a convolution's output flat still work.
        assert plain.view(2, -1).shape == (2, 180)


def test_a_convolution_not_known_to_be_exact_is_unfolded():
    torch.manual_seed(7)
    layer = DCiMConv2d.from_float(nn.Conv2d(2, 3, 3), EXACT_S8, act_scale=0.02,
                                  act_signed=True)
    x = torch.randn(16, 2, 5, 5)
    torch.backends.mkldnn.conv.fp32_precision = "bf16"
    try:
        probe = torch.zeros(16, 2, 5, 5), torch.zeros(3, 2, 3, 3)
        assert not matmul_module._exact_conv(*probe, (1, 1), (0, 0), (1, 1))
        with torch.no_grad():
            assert torch.equal(layer(x), conv_reference(layer, x))
    finally:
        torch.backends.mkldnn.conv.fp32_precision = "none"
    assert matmul_module._exact_conv(*probe, (1, 1), (0, 0), (1, 1))
    assert not matmul_module._exact_conv(probe[0].to("meta"), probe[1].to("meta"), (1, 1),
                                         (0, 0), (1, 1))


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_other_input_dtypes_round_the_sums_as_int64_does(dtype):
    torch.manual_seed(8)
    for design in (EXACT_S8, MITCHELL_U8):
        layer = DCiMConv2d.from_float(nn.Conv2d(2, 3, 3), design, act_scale=0.02,
                                      act_signed=design.signed).to(dtype)
        x = (torch.randn(2, 2, 6, 6) * 2).to(dtype)
        with torch.no_grad():
            fast = layer(x)
            layer.train()                 # without gradients: the unfolded integer path
            unfolded = layer(x)
        assert fast.dtype == dtype and torch.equal(fast, unfolded)


def test_exact_sums_convert_as_int64():
    from dcim.nn.layers import _exact_as

    values = torch.tensor([(1 << 24) + 1, (1 << 30) + 3, -(1 << 52) - 1, 2**53 - 1, 0, -7])
    for dtype in (torch.float32, torch.float16, torch.bfloat16, torch.float64):
        expected = values.to(dtype)
        assert torch.equal(_exact_as(values.to(torch.float64), dtype), expected)
        assert torch.equal(_exact_as(values, dtype), expected)
    small = torch.tensor([3.0, -(2.0**23), 2.0**24 - 1])
    assert _exact_as(small, torch.float32) is small
    assert torch.equal(_exact_as(small, torch.bfloat16), small.to(torch.int64).to(torch.bfloat16))


def test_inference_with_gradients_on_gives_the_bias_its_gradient_only():
    torch.manual_seed(9)
    for design in (EXACT_U8, MITCHELL_U8):
        layer = DCiMConv2d.from_float(nn.Conv2d(2, 3, 3, padding=1), design,
                                      act_scale=0.01).eval()
        x = torch.rand(2, 2, 5, 5, requires_grad=True)
        out = layer(x)
        out.sum().backward()
        assert x.grad is None and torch.equal(layer.bias.grad, torch.full((3,), 50.0))
        with torch.no_grad():
            assert torch.equal(out.detach(), layer(x))
