"""site-builder: a static archival site generator for crisis timelines."""

__version__ = "0.1.0"
