"""Exceptions with messages meant for users: they name the file, frame or field at fault."""


class CryinError(Exception):
    """Base class: the CLI prints these without a traceback and exits non-zero."""


class ConfigurationError(CryinError):
    """A setting, preset or parameter is invalid or unknown."""


class StoreConnectionError(CryinError):
    """A results store (MongoDB) cannot be reached."""


class SlabError(CryinError):
    """A slab cannot be built with the requested Miller index, layers or termination."""


class MatchingError(CryinError):
    """No in-plane supercell pair matches within the strain limits."""


class RegionFillError(CryinError):
    """The disordered region cannot hold its atoms at the requested minimum distances."""


class TemplateMismatchError(CryinError):
    """A structure does not fit an InterfaceTemplate (atom count, species order or lattice)."""
