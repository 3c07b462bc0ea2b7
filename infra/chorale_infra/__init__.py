"""Chorale's deployment definition (CDK): the stack, its resources derived from the app, monitoring."""
