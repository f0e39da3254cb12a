"""Query and response models of the service-quality figures."""

from __future__ import annotations

from datetime import date

from pydantic import ConfigDict, Field

from chalicelib.api.report_schemas import Day
from chalicelib.api.schemas import Out, Strict


class QualityQuery(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Day = Field(alias="from")
    to: Day


class OrgQualityQuery(QualityQuery):
    site_id: str | None = Field(default=None, max_length=64, description="Only this site")


class QualityDayOut(Out):
    org_id: str
    site_id: str
    day: date = Field(description="The site's local day")
    accepted: int = Field(description="Logins accepted (reconnects included)")
    rejected: dict[str, int] = Field(description="Logins rejected, by error code")
    reject_rate: float = Field(
        description="Rejects other than invalid_code and service_suspended, over those and the accepted; 0 when none"
    )
    sessions: int = Field(description="Sessions first reported by accounting that day")
    bytes: int = Field(description="Data reported by accounting that day (upload and download)")
    median_session_s: float | None = Field(description="Median length of the sessions that stopped; null when none")
    median_exact: bool = Field(description="False when the day had more stopped sessions than are kept exactly")
    availability: float = Field(
        description="Share of the day's 288 five-minute intervals (today: of those elapsed) with a controller call"
    )


class QualityOut(Out):
    days: list[QualityDayOut]
