"""Sotong (소통): the citizen-communication hub for city halls."""

__version__ = "0.1.0"
