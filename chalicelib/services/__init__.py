"""Service functions: the platform's use cases, over the ports in .ports."""
