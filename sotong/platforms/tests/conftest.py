from sotong.simulator.testing import image_server, running_simulator, sim  # noqa: F401
