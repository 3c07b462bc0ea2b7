"""The invoice domain: statuses, the invoice record and its lifecycle. No AWS, no Chalice."""
