"""Adapters: AWS behind the small interfaces in chalicelib.services.ports. Clients are created lazily."""
