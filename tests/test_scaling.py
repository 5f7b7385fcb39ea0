"""Beyond one array in memory: a Dask cluster of worker processes and JAX arrays sharded over
four (host) devices. Both run on this machine only (loopback, CPU)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers import expected_relu, expected_relu_dash

from anyrelu import relu, relu_dash

pytestmark = pytest.mark.thread_unsafe  # a cluster and a subprocess per test are enough


@pytest.fixture(scope="module")
def dask_client():
    pytest.importorskip("dask.array", reason="dask is not installed")
    distributed = pytest.importorskip("distributed", reason="distributed is not installed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_dask_cluster_computes_relu_relu_dash_and_prelu(dask_client):
    import dask.array as da

    values = np.random.default_rng(3).standard_normal((600, 8)).astype(np.float32)
    values[::5] = 0
    x = da.from_array(values, chunks=(100, 8))
    leaks = np.linspace(0, 0.5, 8, dtype=np.float32)
    results = dask_client.compute(
        [relu(x), relu_dash(x, 0.1, max_value=1.0), relu(x, da.from_array(leaks, chunks=4))], sync=True
    )
    np.testing.assert_array_equal(results[0], expected_relu(values))
    np.testing.assert_array_equal(results[1], expected_relu_dash(values, 0.1, 1.0))
    np.testing.assert_array_equal(results[2], expected_relu(values, leaks))
    assert len(dask_client.scheduler_info()["workers"]) == 2


SHARDING_SCRIPT = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    from anyrelu import relu, relu_dash, leaky_relu

    assert len(jax.devices()) == 4, jax.devices()
    mesh = Mesh(np.array(jax.devices()), ("d",))
    sharding = NamedSharding(mesh, P("d"))
    values = np.linspace(-4, 4, 64, dtype=np.float32)
    x = jax.device_put(values, sharding)
    for name, function, expected in (
        ("relu", relu, np.where(values <= 0, 0, values)),
        ("leaky_relu", lambda v: leaky_relu(v, 0.1), np.where(values <= 0, np.float32(0.1) * values, values)),
        ("relu_dash", relu_dash, np.where(values <= 0, 0, 1).astype(np.float32)),
    ):
        for mode, call in (("eager", function), ("jit", jax.jit(function))):
            y = call(x)
            assert y.sharding.is_equivalent_to(x.sharding, x.ndim), (name, mode, y.sharding)
            np.testing.assert_array_equal(np.asarray(y), expected)
    shard_map = getattr(jax, "shard_map", None)
    if shard_map is None:
        from jax.experimental.shard_map import shard_map
    per_shard = shard_map(lambda v: relu(v, 0.1), mesh=mesh, in_specs=P("d"), out_specs=P("d"))
    np.testing.assert_array_equal(np.asarray(per_shard(x)), np.where(values <= 0, np.float32(0.1) * values, values))
    print("sharding kept")
    """
)


def test_jax_sharded_arrays_keep_their_sharding_eager_jit_and_shard_map():
    pytest.importorskip("jax", reason="jax is not installed")
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", SHARDING_SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "sharding kept" in result.stdout
