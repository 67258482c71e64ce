"""Users' templates (campaign messages, fallback texts), rendered under a time budget and a
memory limit in processes of their own."""

from dialer.user_templates.pool import RendererUnavailable, RenderFailed, TemplatePool

__all__ = ["RenderFailed", "RendererUnavailable", "TemplatePool"]
