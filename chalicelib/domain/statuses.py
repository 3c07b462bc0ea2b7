"""The reform's lifecycle statuses (CDAR codes) with their Chorus Pro names: the platform's one status model."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Status:
    code: int
    name: str
    label: str
    chorus_pro: str | None  # the name Chorus Pro integrators know; None where Chorus Pro has no such status

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "label": self.label, "chorus_pro": self.chorus_pro}


# Reform code, name, French label, Chorus Pro name (reference: chorus-pro.md §5.4). None where Chorus Pro has no
# invoice status of that meaning: 207 (its SUSPENDUE is the reform's 208, which the supplier answers with 209,
# while a dispute is not answered that way), 212 (supplier-declared, no equivalent) and 213 (a platform rejection
# is a flux IN_REJETE / an invoice in listeErreurDP: the invoice never gets a Chorus Pro status).
_STATUSES = [
    Status(200, "DEPOSEE", "Déposée", "DEPOSEE"),
    Status(201, "EMISE", "Émise par la plateforme", "EN_COURS_ACHEMINEMENT"),
    Status(202, "RECUE", "Reçue par la plateforme", "EN_COURS_ACHEMINEMENT"),
    Status(203, "MISE_A_DISPOSITION", "Mise à disposition", "MISE_A_DISPOSITION"),
    Status(204, "PRISE_EN_CHARGE", "Prise en charge", "PRISE_EN_COMPTE_DESTINATAIRE"),
    Status(205, "APPROUVEE", "Approuvée", "SERVICE_FAIT"),
    Status(206, "APPROUVEE_PARTIELLEMENT", "Approuvée partiellement", "SERVICE_FAIT"),
    Status(207, "EN_LITIGE", "En litige", None),
    Status(208, "SUSPENDUE", "Suspendue", "SUSPENDUE"),
    Status(209, "COMPLETEE", "Complétée", "COMPLETEE"),
    Status(210, "REFUSEE", "Refusée", "REJETEE"),
    Status(211, "PAIEMENT_TRANSMIS", "Paiement transmis", "MISE_EN_PAIEMENT"),
    Status(212, "ENCAISSEE", "Encaissée", None),
    Status(213, "REJETEE", "Rejetée", None),
    Status(220, "ANNULEE", "Annulée", "SUPPRIMEE"),
    Status(221, "ERREUR_ROUTAGE", "Erreur de routage", "A_RECYCLER"),
]

STATUSES: dict[int, Status] = {status.code: status for status in _STATUSES}

DEPOSEE = STATUSES[200]
MISE_A_DISPOSITION = STATUSES[203]
REJETEE = STATUSES[213]
ERREUR_ROUTAGE = STATUSES[221]


def status(code: int) -> Status:
    """The status with this reform code; KeyError for an unknown code."""
    return STATUSES[code]
