"""Entrypoints: Chalice routes and event handlers. Parse, call one service function, map the result."""
