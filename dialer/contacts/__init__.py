"""Contact lists: reading CSV files as they come, and importing them into campaigns."""
