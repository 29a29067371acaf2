"""A local stand-in for the Alma payment API, for the add-on's tests and demo."""

from .server import StandIn

__all__ = ["StandIn"]
