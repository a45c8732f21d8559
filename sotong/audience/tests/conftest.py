from sotong.simulator.testing import running_simulator, sim  # noqa: F401
