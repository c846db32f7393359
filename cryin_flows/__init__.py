"""cryin-flows: jobflow workflows for the CryinGAN study of disordered battery interfaces."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cryin-flows")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
