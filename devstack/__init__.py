"""The local platform: moto stands in for AWS, an event pump stands in for Lambda's event sources.

Not deployed: this package is for `make run` and the tests. The handlers it calls are the real ones.
"""
