"""PynamoDB models: the one seam between Kuota and DynamoDB.

Access patterns (keep this table true; every request path reads by key or
queries an index, never scans):

| pattern                             | table / index | key                                              | cost          |
|-------------------------------------|---------------|--------------------------------------------------|---------------|
| get org                             | app           | PK=ORG#<org>, SK=META                            | 1 RCU         |
| list orgs (platform admin)          | app GSI1      | GSI1PK=ORGS, GSI1SK begins ORG#                  | query         |
| login: email -> user                | app           | PK=EMAIL#<email>, SK=META (uniqueness claim)     | 1 RCU + 1 RCU |
| get user (every authenticated call) | app           | PK=ORG#<org> or PLATFORM, SK=USER#<id>           | 1 RCU         |
| list users / sites of an org        | app           | PK=ORG#<org>, SK begins USER# / SITE#            | query         |
| get site                            | app           | PK=ORG#<org>, SK=SITE#<id>                       | 1 RCU         |
| API key by id (cached <= 60 s)      | app           | PK=KEY#<key_id>, SK=META                         | 1 RCU         |
| list keys of a site                 | app GSI1      | GSI1PK=ORG#<org>#SITE#<site>                     | query         |
| list radius keys of an org / platform | app GSI1    | GSI1PK=ORG#<org>#KEYS / PLATFORM#KEYS            | query         |
| list NASes of a site                | app           | PK=ORG#<org>, SK begins NAS#<site>#              | query         |
| RADIUS request -> NAS -> org, site  | app           | PK=NASID#<NAS-Identifier>, else PK=NASIP#<NAS-IP-Address>, SK=META: one namespace for every org, so an identifier or address is registered once in all Kuota (a platform key serves every org: a second claim would be ambiguous for it; the second registration is a 409); cached <= 60 s | 1 RCU (2 when only the address is registered) |
| register / delete a NAS             | app, audit    | TransactWriteItems: NAS#<site>#<nas>, its NASID# and NASIP# claims (does_not_exist / nas_id =), event | 2 WCU x 3-4 |
| refresh token by hash               | app           | PK=RT#<sha256(token)>, SK=META                   | 1 RCU         |
| refresh token family                | app           | PK=RTF#<family>, SK=META                         | 1 RCU         |
| rate-limit counter (login, redeem)  | app           | PK=RL#<scope>, SK=<window start>, TTL            | 1 WCU         |
| get / list plans of an org            | app           | PK=ORG#<org>, SK=PLAN#<id> / begins PLAN#            | 1 RCU / query |
| code shapes of an org (+ counters)   | app           | PK=ORG#<org>, SK=SHAPES / SHAPE#<shape>             | 1 RCU, 1 WCU  |
| get batch                            | app           | PK=ORG#<org>, SK=BATCH#<id>                         | 1 RCU         |
| voucher by code (redeem, lookup)     | app           | PK=V#<hmac(org, code)>, SK=META                     | 1 WCU redeem  |
| guest status (code + org)            | app           | GetItem V#<hmac(org, code)> (+ RL#guest-ip:<hash> counter read; a write per unknown code) | 1-2 RCU |
| release a device slot (guest)        | app           | UpdateItem V#: DELETE devices, ADD released_devices, outbox entry, if contains(devices) | 1 RCU + 1 WCU |
| release a device slot (staff)        | app, audit    | TransactWriteItems: the same update of V# + the audit event | 2 RCU + 2 WCU x 2 |
| issue vouchers                       | app           | BatchWriteItem of V# items (no index entries)       | 1 WCU each    |
| sale                                 | app           | PK=ORG#<org>, SK=SALE#<id>                          | 1 RCU         |
| sell (sale + vouchers + audit)       | app, audit    | TransactWriteItems: SALE#<id>, V#<hmac> x n, event  | 2 WCU x (n+2) |
| void (reversal line, revoke, stamp)  | app, audit    | TransactWriteItems: VOID#<sale> (+GSI3), V# x n, SALE#, event | 2 WCU x (n+3) |
| POS Idempotency-Key record           | idempotency   | id=kuota.sale#<sha256(caller#key)>, TTL expiration  | 1-2 WCU, 0-1 RCU |
| due expiries (vouchers, batches)     | app GSI2      | GSI2PK=EXP#<shard 0..15>, GSI2SK<=<now> (sparse)     | 16 queries/run + 1 WCU per due voucher |
| revenue lines of a local day         | app GSI3      | GSI3PK=ORG#<org>#DAY#<yyyy-mm-dd> (rev_kind: sale, redeem_sale, void, refund) | query/day     |
| sales report, from..to (<= 366 days) | app GSI3, app | one query per local day above, rev_* read; names: one query of the org's SITE# / PLAN# / USER# | days + extra 1 MB pages + 1 (a month: <= 31 + pages + 1) |
| monthly statement of a site          | app, app GSI3 | get SITE#; one query per local day of the month, filtered to rev_site; one query PLAN# for names | <= 31 + pages + 2 |
| revenue share history of an org      | app           | PK=ORG#<org>, SK begins SHARE# (<effective_from>#<set_at>#<id>); set: put if absent + event | query / 1 WCU x 2 |
| settlements, a settlement + adjustments | app        | PK=PLATFORM, SK begins SETTLEMENT# / SETTLEMENT#<id> | query         |
| issue a settlement                   | app, audit    | per org with sales: the sales report by day (days queries) + its shares query; then TransactWriteItems: SETTLEMENTS counter (issued = n), SETTLEMENT#<id>, one LedgerEntry ORG#<org>/SETTLEMENT#<id> per org (no GSI3 keys), event: <= 100 items, so <= 97 orgs with sales per settlement | orgs x (days + 1) queries + 2 WCU x (orgs + 3) |
| adjust a settlement                  | app, audit    | TransactWriteItems: SETTLEMENT#<id>#ADJ#<at>#<adj>, LedgerEntry ORG#<org>/SETTLEMENT#<id>#ADJ#<adj>, event | 2 WCU x 3 |
| audit events of an org, by time     | audit         | PK=ORG#<org> or PLATFORM, SK=<iso time>#<id>     | query         |
| openNDS FAS gateway of a site       | app           | PK=FAS#<site>, SK=META (faskey sealed)           | 1 RCU         |
| FAS grants waiting for authmon      | app           | PK=FASQ#<site>, SK=<rhid>, TTL; query per poll, delete per ack | query + 1 WCU each |

The audit table is append-only: the Lambda role may only PutItem and Query it
(see infra/), and every put is conditioned on the key not existing.
"""

from __future__ import annotations

from chalicelib.models.accounts import ApiKey, EmailClaim, Nas, NasClaim, Org, Site, User
from chalicelib.models.audit import AuditEvent
from chalicelib.models.base import AppTable
from chalicelib.models.settlement import RevenueShare, SettlementCounter, SettlementRecord
from chalicelib.models.tokens import RateCounter, RefreshToken, TokenFamily
from chalicelib.models.vouchers import Batch, LedgerEntry, Plan, Sale, ShapeCounter, ShapeRegistry, Voucher

__all__ = [
    "ApiKey",
    "AppTable",
    "AuditEvent",
    "Batch",
    "EmailClaim",
    "LedgerEntry",
    "Nas",
    "NasClaim",
    "Org",
    "Plan",
    "RateCounter",
    "RefreshToken",
    "RevenueShare",
    "Sale",
    "SettlementCounter",
    "SettlementRecord",
    "ShapeCounter",
    "ShapeRegistry",
    "Site",
    "TokenFamily",
    "User",
    "Voucher",
]
