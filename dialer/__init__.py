"""dialer: a self-hosted campaign and notification dialer for Xoxzo and Voxology."""

__version__ = "0.1.0"
