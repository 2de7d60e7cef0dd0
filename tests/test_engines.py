import subprocess
import sys

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from forwardgrad import engines


def test_namespace_of_numpy_and_jax():
    assert engines.namespace(np.zeros(3)) is np
    assert engines.namespace(1.0) is anp
    seen = []
    autograd.grad(lambda x: seen.append(engines.namespace(x)) or x.sum())(np.zeros(3))
    assert seen == [anp]
    jax = engines.load_jax()
    assert engines.namespace(jax.numpy.zeros(3)) is jax.numpy
    seen = []
    jax.jit(lambda x: seen.append(engines.namespace(x)) or x)(jax.numpy.zeros(2))
    assert seen == [jax.numpy]


def test_jax_runs_in_float64():
    jax = engines.load_jax()
    assert jax.numpy.zeros(2).dtype == np.float64


def test_unknown_engine():
    with pytest.raises(ValueError, match="autograd, jax"):
        engines.check_engine("torch")


def test_missing_jax_gives_install_hint():
    code = (
        "import sys; sys.modules['jax'] = None\n"
        "import numpy as np, forwardgrad as fg\n"
        "assert not fg.engines.has_jax()\n"
        "f = lambda x: (x**2).sum(-1)\n"
        "print(fg.oracles.true_gradient(f, np.ones((2, 3)))[0])\n"
        "try:\n"
        "    fg.oracles.true_gradient(f, np.ones((2, 3)), engine='jax')\n"
        "except ImportError as e:\n"
        "    print('ERR', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "[3. 3.]" in out
    assert "ERR" in out and "pip install forwardgrad[jax]" in out


def test_every_module_of_the_package_is_a_lazy_attribute():
    # `forwardgrad.<module>` works without an import statement for every module of the package
    from pathlib import Path

    import forwardgrad

    root = Path(forwardgrad.__file__).parent
    modules = {p.stem for p in root.glob("*.py") if not p.stem.startswith("_")}
    modules |= {p.parent.name for p in root.glob("*/__init__.py")}
    assert modules == set(forwardgrad.SUBMODULES)
