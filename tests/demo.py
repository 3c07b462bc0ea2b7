"""The demo directory (devstack/demo-seed.json) as tests use it."""

SUPPLIER_KEY = "demo-supplier-atelier-key"  # Atelier Numérique SARL 81234567800013, supplier
SUPPLIER2_KEY = "demo-supplier-lumiere-key"  # Bureau d'Études Lumière SAS 82345678900010, supplier + recipient
MAIRIE_KEY = "demo-recipient-mairie-key"  # Mairie 21750000100011: requires a service code
CHR_KEY = "demo-recipient-chr-key"  # CHR 13000123400017: requires an engagement number
ADMIN_KEY = "demo-admin-key"


def auth(key: str, **headers) -> dict:
    return {"Authorization": f"Bearer {key}", **headers}
