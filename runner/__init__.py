"""runner: run Azure-ML-style command jobs on your own machine."""

__version__ = "0.1.0"
