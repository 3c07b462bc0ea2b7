"""Chorale: serverless e-invoicing exchange platform."""
