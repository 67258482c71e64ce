"""Client webhooks: events written with the change that caused them, signed, sent until taken."""
