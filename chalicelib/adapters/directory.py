"""The structure directory and API keys in DynamoDB."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ..domain.directory import Service, Structure, search_key
from .tables import ApiKeyRecord, ServiceAttribute, StructureRecord


def structure_from_record(record: StructureRecord) -> Structure:
    return Structure(
        siret=record.siret,
        name=record.name,
        roles=tuple(record.roles or ()),  # type: ignore[arg-type]
        active=bool(record.active),
        requires_service_code=bool(record.requires_service_code),
        requires_engagement=bool(record.requires_engagement),
        services=tuple(
            Service(s.code, s.name, bool(s.active), bool(s.requires_engagement)) for s in record.services or []
        ),
        updated_at=record.updated_at,
    )


def structure_to_record(structure: Structure) -> StructureRecord:
    return StructureRecord(
        structure.siret,
        name=structure.name,
        name_key=search_key(structure.name),
        roles=list(structure.roles),
        active=structure.active,
        requires_service_code=structure.requires_service_code,
        requires_engagement=structure.requires_engagement,
        services=[
            ServiceAttribute(code=s.code, name=s.name, active=s.active, requires_engagement=s.requires_engagement)
            for s in structure.services
        ],
        updated_at=structure.updated_at or "",
    )


class DynamoDirectory:
    def structure(self, siret: str) -> Structure | None:
        try:
            return structure_from_record(StructureRecord.get(siret))
        except DoesNotExist:
            return None

    def siret_for_key(self, key_hash: str) -> str | None:
        try:
            return ApiKeyRecord.get(key_hash).siret
        except DoesNotExist:
            return None

    def put_structure(self, structure: Structure) -> None:
        structure_to_record(structure).save()

    def put_api_key(self, key_hash: str, siret: str, created_at: str) -> None:
        ApiKeyRecord(key_hash, siret=siret, created_at=created_at).save()
