"""Provider adapters. They speak the providers' HTTP APIs and never touch the database."""
