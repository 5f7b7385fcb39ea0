"""anyrelu.torch: one nn.Module per function, whose forward is that function."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed")

from helpers import TORCH_GUARDS_ON_PYTHON_3_13_0, TORCH_JIT_DEPRECATED  # noqa: E402

import anyrelu  # noqa: E402
import anyrelu.torch as modules  # noqa: E402

# module, its arguments, the function and its keyword arguments
CASES = [
    (modules.ReLU, {}, anyrelu.relu, {}),
    (modules.LeakyReLU, {"negative_slope": 0.2}, anyrelu.relu, {"leak": 0.2}),
    (modules.ReLU6, {}, anyrelu.relu6, {}),
    (modules.ELU, {"alpha": 0.5}, anyrelu.elu, {"alpha": 0.5}),
    (modules.SELU, {}, anyrelu.selu, {}),
    (modules.CELU, {"alpha": 2.0}, anyrelu.celu, {"alpha": 2.0}),
    (modules.GELU, {"approximate": "tanh"}, anyrelu.gelu, {"approximate": True}),
    (modules.GELU, {}, anyrelu.gelu, {}),
    (modules.SiLU, {}, anyrelu.silu, {}),
    (modules.Softplus, {"beta": 2.0}, anyrelu.softplus, {"beta": 2.0}),
    (modules.Mish, {}, anyrelu.mish, {}),
    (modules.HardSigmoid, {}, anyrelu.hard_sigmoid, {}),
    (modules.HardSwish, {}, anyrelu.hard_swish, {}),
    (modules.Squareplus, {"b": 0.5}, anyrelu.squareplus, {"b": 0.5}),
]
IDS = [f"{m.__name__}{kw}" for m, kw, _, _ in CASES]


@pytest.mark.parametrize(("module", "arguments", "function", "kwargs"), CASES, ids=IDS)
def test_a_module_is_its_function_in_value_and_gradient(module, arguments, function, kwargs):
    x = torch.linspace(-8, 8, 101, dtype=torch.float64, requires_grad=True)
    layer = module(**arguments)
    y = torch.nn.Sequential(layer)(x)
    assert torch.equal(y, function(x, **kwargs))
    (grad,) = torch.autograd.grad(y.sum(), x)
    dash = getattr(anyrelu, f"{function.__name__}_dash")
    assert torch.equal(grad, dash(x.detach(), **kwargs))
    assert all(f"{k}=" in repr(layer) for k in arguments) or not arguments


def test_prelu_learns_one_slope_per_channel_as_torch_prelu():
    x = torch.randn(4, 3, 5, dtype=torch.float64, requires_grad=True)
    ours, theirs = modules.PReLU(3, init=0.1).double(), torch.nn.PReLU(3, init=0.1).double()
    assert torch.equal(ours(x), theirs(x))
    (mine,) = torch.autograd.grad(ours(x).sum(), ours.weight)
    (reference,) = torch.autograd.grad(theirs(x).sum(), theirs.weight)
    torch.testing.assert_close(mine, reference, rtol=1e-12, atol=0)
    assert repr(ours) == "PReLU(num_parameters=3)"


def test_prelu_with_one_slope_trains_in_a_sequential():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), modules.PReLU(), torch.nn.Linear(8, 1))
    slope = model[1].weight.detach().clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.randn(16, 4)).pow(2).mean()
    loss.backward()
    optimizer.step()
    assert not torch.equal(model[1].weight.detach(), slope)


def test_bad_module_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match=r"GELU\(\) needs approximate"):
        modules.GELU("fast")
    with pytest.raises(ValueError, match=r"PReLU\(\) needs num_parameters"):
        modules.PReLU(0)
    with pytest.raises(ValueError, match=r"PReLU\(\) has 3 slopes for dim 1"):
        modules.PReLU(3)(torch.zeros(2, 4))


# torch's own warnings: the deprecation when AOTAutograd's forward-mode helpers load, and the
# guards' on Python 3.13.0
@TORCH_JIT_DEPRECATED
@TORCH_GUARDS_ON_PYTHON_3_13_0
def test_a_model_with_the_modules_compiles_and_exports_with_the_same_values():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), modules.GELU(), torch.nn.Linear(8, 8), modules.PReLU(8),
                                torch.nn.Linear(8, 2), modules.Softplus())  # fmt: skip
    x = torch.randn(5, 4)
    expected = model(x)
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    got = compiled(x)
    # a compiled CPU float32 GELU is its own float32 kernel: within the bound, not eager's bits
    torch.testing.assert_close(got, expected, rtol=2e-6, atol=1e-6)
    got.sum().backward()
    assert model[3].weight.grad is not None
    exported = torch.export.export(model, (x,))
    torch.testing.assert_close(exported.module()(x), expected, rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize(("module", "arguments", "function", "kwargs"), CASES, ids=IDS)
def test_modules_run_on_cuda_tensors(module, arguments, function, kwargs):
    x = torch.linspace(-8, 8, 101, dtype=torch.float32, device="cuda", requires_grad=True)
    y = module(**arguments).cuda()(x)
    assert y.device == x.device
    torch.testing.assert_close(y.cpu(), function(x.detach().cpu(), **kwargs), rtol=4e-7, atol=1e-30)
    (grad,) = torch.autograd.grad(y.sum(), x)
    assert grad.device == x.device
