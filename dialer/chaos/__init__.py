"""`dialer chaos`: a campaign through the sandbox while workers are killed, Redis restarts and
the provider misbehaves; then a count of what went wrong."""
