"""A simulator of the providers' APIs, faithful to provider-docs, for demo, tests and benchmarks."""

from dialer.sandbox.app import create_sandbox_app
from dialer.sandbox.state import OUTCOME_BY_LAST_DIGIT, SandboxConfig

__all__ = ["OUTCOME_BY_LAST_DIGIT", "SandboxConfig", "create_sandbox_app"]
