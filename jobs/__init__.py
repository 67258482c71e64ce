"""arq jobs: thin wrappers that call the services with the worker's runtime."""
