"""Service wiring, built lazily once per container (tests may rebuild it).

The services and what they load (PynamoDB models, argon2, boto3, key material)
are imported on the first `services()` call, not by `import app`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.config import get_settings
from chalicelib.services import Clock, utc_now

if TYPE_CHECKING:
    from chalicelib.auth.api_keys import ApiKeyVerifier
    from chalicelib.services.accounts import AccountService
    from chalicelib.services.address_space import AddressSpaceService, UplinkService
    from chalicelib.services.alerts import AlertService
    from chalicelib.services.audit import AuditLog
    from chalicelib.services.brand import BrandService
    from chalicelib.services.compliance import ComplianceService
    from chalicelib.services.dashboard import DashboardService
    from chalicelib.services.fas import FasService
    from chalicelib.services.guest import GuestService
    from chalicelib.services.issuing import IssuingService
    from chalicelib.services.ledger import LedgerService
    from chalicelib.services.nas import NasDirectory, NasService
    from chalicelib.services.payments import PaymentService
    from chalicelib.services.plans import PlanService
    from chalicelib.services.quality import QualityService
    from chalicelib.services.radius import RadiusService
    from chalicelib.services.radius_keys import RadiusKeyService
    from chalicelib.services.redeeming import RedeemService
    from chalicelib.services.reporting import ReportingService
    from chalicelib.services.selling import SellingService
    from chalicelib.services.settlement import SettlementService
    from chalicelib.services.shifts import ShiftService
    from chalicelib.services.sites import SiteService
    from chalicelib.services.topups import TopupService
    from chalicelib.services.vouchers import VoucherService


@dataclass(frozen=True)
class Services:
    accounts: AccountService
    sites: SiteService
    audit: AuditLog
    plans: PlanService
    issuing: IssuingService
    redeem: RedeemService
    vouchers: VoucherService
    selling: SellingService
    reports: ReportingService
    ledger: LedgerService
    settlements: SettlementService
    dashboard: DashboardService
    api_keys: ApiKeyVerifier
    radius_keys: RadiusKeyService
    nas: NasService
    nas_directory: NasDirectory
    radius: RadiusService
    guest: GuestService
    fas: FasService
    shifts: ShiftService
    alerts: AlertService
    address_space: AddressSpaceService
    uplinks: UplinkService
    compliance: ComplianceService
    brand: BrandService
    quality: QualityService
    payments: PaymentService
    topups: TopupService


_services: Services | None = None


def configure(clock: Clock = utc_now, monotonic: Callable[[], float] = time.monotonic) -> Services:
    from chalicelib.auth.api_keys import ApiKeyVerifier
    from chalicelib.auth.signing_keys import get_key_set
    from chalicelib.messaging import send_batch_job
    from chalicelib.payments import provider
    from chalicelib.services.accounts import AccountService
    from chalicelib.services.address_space import AddressSpaceService, UplinkService
    from chalicelib.services.alerts import AlertService
    from chalicelib.services.audit import AuditLog
    from chalicelib.services.brand import BrandService
    from chalicelib.services.compliance import ComplianceGate, ComplianceService
    from chalicelib.services.dashboard import DashboardService
    from chalicelib.services.fas import FasService
    from chalicelib.services.guest import GuestService
    from chalicelib.services.issuing import IssuingService
    from chalicelib.services.ledger import LedgerService
    from chalicelib.services.nas import NasDirectory, NasService
    from chalicelib.services.payments import MerchantKeys, PaymentService
    from chalicelib.services.plans import PlanService
    from chalicelib.services.quality import QualityService
    from chalicelib.services.radius import RadiusService
    from chalicelib.services.radius_keys import RadiusKeyService
    from chalicelib.services.ratelimit import Budget
    from chalicelib.services.redeeming import RedeemService
    from chalicelib.services.reporting import ReportingService
    from chalicelib.services.selling import SellingService
    from chalicelib.services.settlement import SettlementService
    from chalicelib.services.shifts import ShiftService
    from chalicelib.services.sites import SiteService
    from chalicelib.services.topups import TopupService
    from chalicelib.services.vouchers import VoucherService

    global _services
    settings = get_settings()
    audit = AuditLog(clock)
    alerts = AlertService(settings, clock, monotonic)
    audit.subscribe(alerts.observe)
    verifier = ApiKeyVerifier(settings.api_key_cache_seconds, monotonic)
    gate = ComplianceGate(settings.api_key_cache_seconds, monotonic)
    plans = PlanService(audit, clock)
    sites = SiteService(audit, verifier, clock)
    accounts = AccountService(settings, get_key_set(), audit, clock)
    redeem = RedeemService(settings, clock, monotonic, alerts=alerts, gate=gate)
    nas_directory = NasDirectory(settings.api_key_cache_seconds, monotonic)
    reports = ReportingService()
    settlements = SettlementService(audit, reports, clock)
    quality = QualityService(clock)
    address_space = AddressSpaceService(audit, clock, monotonic, ttl=settings.api_key_cache_seconds)
    compliance = ComplianceService(
        audit,
        gate,
        accounts,
        sites,
        clock,
        warn=alerts.compliance_warning,
        quality=quality.days,
        revenue=lambda org_id, start, end: reports.sales(org_id, start, end).total.amount,
        overdue=settlements.overdue,
    )
    uplinks = UplinkService(address_space, alerts, clock, on_trigger=compliance.trigger)
    compliance.uplinks = uplinks.sites
    vouchers = VoucherService(audit, clock, redeem.sites)
    selling = SellingService(audit, plans, sites, gate, clock)
    payments = PaymentService(
        settings, audit, selling, vouchers, gate, alerts, providers=provider,
        keys=MerchantKeys(settings, settings.api_key_cache_seconds, monotonic), clock=clock,
    )  # fmt: skip
    _services = Services(
        accounts=accounts,
        sites=sites,
        audit=audit,
        plans=plans,
        issuing=IssuingService(
            audit, send_batch_job, gate, Budget(settings.issue_max_vouchers_per_hour, 3600, clock), clock
        ),
        redeem=redeem,
        vouchers=vouchers,
        selling=selling,
        reports=reports,
        ledger=LedgerService(),
        settlements=settlements,
        dashboard=DashboardService(clock),
        api_keys=verifier,
        radius_keys=RadiusKeyService(audit, verifier, clock),
        nas=NasService(audit, nas_directory, clock),
        nas_directory=nas_directory,
        radius=RadiusService(
            redeem, nas_directory, audit, interim_seconds=settings.radius_interim_seconds, monotonic=monotonic,
            uplinks=uplinks, clock=clock,
        ),
        guest=GuestService(settings, vouchers, clock),
        topups=TopupService(audit, plans, sites, vouchers, gate, clock),
        fas=FasService(settings, audit, redeem, clock, uplinks=uplinks),
        shifts=ShiftService(audit, sites, clock),
        alerts=alerts,
        address_space=address_space,
        uplinks=uplinks,
        compliance=compliance,
        brand=BrandService(audit, clock, monotonic),
        quality=quality,
        payments=payments,
    )
    return _services


def services() -> Services:
    return _services or configure()
