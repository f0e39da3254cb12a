"""PynamoDB models: the one seam between Kuota and DynamoDB.

Access patterns (keep this table true; every request path reads by key or
queries an index, never scans):

| pattern                             | table / index | key                                              | cost          |
|-------------------------------------|---------------|--------------------------------------------------|---------------|
| get org                             | app           | PK=ORG#<org>, SK=META                            | 1 RCU         |
| change org settings (pos_only_sales) | app, audit   | TransactWriteItems: UpdateItem ORG#<org>/META if exists + event | 2 WCU x 2 |
| list orgs (platform admin)          | app GSI1      | GSI1PK=ORGS, GSI1SK begins ORG#, in id order, page <= 200 (the jobs: every page) | query |
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
| issue budget of an org (per hour)   | app           | UpdateItem PK=RL#issue:<org>, SK=<hour start>: ADD quantity if the sum stays <= the limit (given back if the batch is not written), TTL | 1 WCU (2 on a failed write) |
| room check before a create (sites, users, plans, NASes, active keys) | app (GSI1 for keys) | Query Select=COUNT over the listing above (limits in chalicelib/services/limits.py) | query, on creates only |
| get / list plans of an org            | app           | PK=ORG#<org>, SK=PLAN#<id> / begins PLAN#            | 1 RCU / query |
| code shapes of an org (+ counters)   | app           | PK=ORG#<org>, SK=SHAPES / SHAPE#<shape>             | 1 RCU, 1 WCU  |
| get batch                            | app           | PK=ORG#<org>, SK=BATCH#<id>                         | 1 RCU         |
| batches of an org (list)             | app           | PK=ORG#<org>, SK begins BATCH#, in batch id order (ids are random: no time order), page <= 200 | query |
| voucher by code (redeem, lookup)     | app           | PK=V#<hmac(org, code)>, SK=META                     | 1 WCU redeem  |
| guest status (code + org)            | app           | GetItem V#<hmac(org, code)> (+ RL#guest-ip:<hash> counter read; a write per unknown code) | 1-2 RCU |
| release a device slot (guest)        | app           | UpdateItem V#: DELETE devices, ADD released_devices, outbox entry, if contains(devices) | 1 RCU + 1 WCU |
| release a device slot (staff)        | app, audit    | TransactWriteItems: the same update of V# + the audit event | 2 RCU + 2 WCU x 2 |
| issue vouchers                       | app           | BatchWriteItem of V# items (no index entries)       | 1 WCU each    |
| sale                                 | app           | PK=ORG#<org>, SK=SALE#<id>                          | 1 RCU         |
| sell (sale + vouchers + audit)       | app, audit    | TransactWriteItems: SALE#<id>, V#<hmac> x n, LEDGER# line (+GSI3), event, chain head | 2 WCU x (n+4) + 1 RCU |
| void (reversal line, revoke, stamp)  | app, audit    | TransactWriteItems: LEDGER#..#void (+GSI3), event, SALE#, V# x n, chain head | 2 WCU x (n+4) + 1 RCU |
| refund one voucher                   | app, audit    | TransactWriteItems: LEDGER#..#refund (+GSI3), event, V#, chain head | 2 WCU x 4 + 1 RCU |
| POS Idempotency-Key record           | idempotency   | id=kuota.sale#<sha256(caller#key)>, TTL expiration  | 1-2 WCU, 0-1 RCU |
| due expiries (vouchers, batches)     | app GSI2      | GSI2PK=EXP#<shard 0..15>, GSI2SK<=<now> (sparse)     | 16 queries/run + 1 WCU per due voucher |
| revenue lines of a local day         | app GSI3      | GSI3PK=ORG#<org>#DAY#<yyyy-mm-dd> (rev_kind: sale, redeem_sale, void, refund): ledger lines, and printed vouchers' own lines until their ledger copy is written (same GSI3SK, counted once) | query/day |
| sales report, from..to (<= 366 days) | app GSI3, app | one query per local day above, rev_* read; names: one query of the org's SITE# / PLAN# / USER# | days + extra 1 MB pages + 1 (a month: <= 31 + pages + 1) |
| monthly statement of a site          | app, app GSI3 | get SITE#; one query per local day of the month, filtered to rev_site; one query PLAN# for names | <= 31 + pages + 2 |
| revenue share history of an org      | app           | PK=ORG#<org>, SK begins SHARE# (<effective_from>#<set_at>#<id>); set: put if absent + event | query / 1 WCU x 2 |
| settlements, a settlement + adjustments | app        | PK=PLATFORM, SK begins SETTLEMENT# / SETTLEMENT#<id>; the list: filtered on kind, newest period first, page <= 200 | query |
| issue a settlement                   | app, audit    | per org with sales: the sales report by day (days queries) + its shares query; then TransactWriteItems: SETTLEMENTS counter (issued = n), SETTLEMENT#<id>, one LedgerEntry PLATFORM/LEDGER#<time>#settlement#<id> holding every line (no GSI3 keys), event, chain heads: <= 500 orgs with sales per settlement (item size) | orgs x (days + 1) queries + ~14 WCU |
| adjust a settlement                  | app, audit    | TransactWriteItems: SETTLEMENT#<id>#ADJ#<at>#<adj>, LedgerEntry PLATFORM/LEDGER#<time>#settlement_adjustment#<adj>, event, chain heads | 2 WCU x 5 |
| record a settlement payment         | app, audit    | the settlement query above (balance), then TransactWriteItems: SETTLEMENT#<id>#PAID#<org> (paid so far) if amount = read (or absent), SETTLEMENT#<id>#PAY#<at>#<payment> if absent, event, chain head | query + 2 WCU x 4 |
| reverse a payment (once)             | app, audit    | the settlement query above, then TransactWriteItems: SETTLEMENT#<id>#PAID#<org> if amount = read, SETTLEMENT#<id>#REV#<payment> if absent (a second reversal fails it), event, chain head | query + 2 WCU x 4 |
| overdue settlements (compliance job) | app           | PK=PLATFORM, SK between SETTLEMENT#<yyyymmdd 400 days ago> and SETTLEMENT#~ (settlement ids start with the period's first day): settlements with their adjustments, payments and reversals | 1 query/run (+ pages) |
| audit events of an org, by time     | audit         | PK=ORG#<org> or PLATFORM, SK=<iso time>#<id>     | query         |
| ledger entries of an org's UTC day  | app           | PK=ORG#<org>, SK between LEDGER#<day> and LEDGER#<day>~ (sale, redeem_sale, void, refund, settlement) | query |
| chain head (append a record)        | app           | PK=CHAIN#<ORG#org or PLATFORM>, SK=<utc day>#<site or ->: GetItem (consistent), then UpdateItem in the record's transaction, on seq = what was read | 1 RCU + 1 WCU per chain |
| a day's chain heads (seal, verify)  | app           | PK=CHAIN#<owner>, SK begins <utc day>#           | query         |
| daily digest (signed)               | audit         | PK=DIGEST#<owner>, SK=<utc day>; put once        | 1 WCU / query |
| verify an org, from..to (<= 92 days) | audit, app, app GSI3 | per UTC day: heads query, audit events query, ledger query, digest get; per local day: the sales-index query; audit events of the period once more (reconciliation) | ~5 queries/day |
| open a shift (shift + claim + audit) | app, audit    | TransactWriteItems: SHIFT#<id> (does_not_exist), OPENSHIFT#<user> (does_not_exist: one open shift per person), event | 2 WCU x 3 |
| caller's open shift                  | app           | PK=ORG#<org>, SK=OPENSHIFT#<user>, then SHIFT#<id> | 2 RCU         |
| a console sale's shift               | app           | PK=ORG#<org>, SK=OPENSHIFT#<seller> (before the sell transaction) | 1 RCU |
| void: sale_before_shift              | app           | the voider's OPENSHIFT# and SHIFT#, the sale's SHIFT# | 1-3 RCU     |
| close a shift                        | app, audit    | TransactWriteItems: update SHIFT#<id> if status=open, delete OPENSHIFT#<user> if shift_id=, event | 2 WCU x 3 |
| shifts of an org, from..to (UTC days) | app          | PK=ORG#<org>, SK between SHIFT#<from> and SHIFT#<to>~ (ids start with the opening time), newest first, page <= 200; a cashier's: filtered on user_id | query |
| sales of an org by time (list, takings) | app GSI1   | GSI1PK=ORG#<org>#SALES, GSI1SK between <iso from> and <iso to>~, newest first, page <= 200; a cashier's: filtered on seller_id; a shift's: filtered on shift_id | query |
| alerts of an org, by time (+ kind filter) | app     | PK=ORG#<org>, SK between ALERT#<from> and ALERT#<to>~, newest first, limit <= 200 | query |
| raise an alert from an audit event  | app           | PutItem ALERT#<event time>#<hash(kind, event)> if not exists (+ 1 RCU site/user/org to name them) | 1 WCU |
| off hours of a staff change without a site | app     | PK=ORG#<org>, SK begins SITE# (every site closed?), per such change | query |
| raise an alert per scope and window | app           | TransactWriteItems: ALERTID#<hash(kind, scope, window)> + ALERT#<time>#<same id>, both if not exists; refusal paths only, never a successful redeem | 2 WCU x 2 |
| revokes/voids per person per window | app           | PK=RL#alert-bulk-revoke:<org>:<user>, SK=<window start>, ADD + list_append <event id>@<time> unless counted, TTL; under the limit, GetItem of the previous window's counter (sliding window) | 1 WCU + 0-1 RCU |
| quality: a login refused (redeem, RADIUS) | app    | UpdateItem ORG#<org> / QUALITY#<local day>#<site>: ADD rej_<code>, ADD iv {interval} | 1 WCU |
| quality: an accepted login          | app, audit    | in the outbox drain's transaction with its voucher.redeem event: UpdateItem QUALITY#<day>#<site> ADD accepted, iv (the redeem itself still one write) | 2 WCU more |
| quality: an accounting report       | app           | the session's write returns the old item (ALL_OLD); UpdateItem QUALITY#<day>#<site> ADD sessions, bytes (what grew), iv; at a first stop UpdateItem QUALITY#<day>#<site>#LEN#<hh> ADD len {seconds, tag} if size < 2000 (else ADD h<bucket>) | 1-2 WCU (the LEN item <= ~20 KB) |
| quality: a controller call writing nothing else (authmon poll, a stale report) | app | the interval's UpdateItem, once per site and 5 minutes per container | <= 1 WCU / 5 min |
| quality of an org, from..to (<= 92 local days) | app | query PK=ORG#<org>, SK begins SITE# (timezones, creation); query SK between QUALITY#<from> and QUALITY#<to>~ | 2 queries + 1 MB pages |
| quality of every org (platform)     | app GSI1, app | the org listing (GSI1PK=ORGS), then the two queries above per org | 1 + 2 x orgs queries + pages |
| openNDS FAS gateway of a site       | app           | PK=FAS#<site>, SK=META (faskey sealed)           | 1 RCU         |
| the ISP's brand (get, set)          | app, audit    | PK=PLATFORM, SK=BRAND (cached <= 30 s per container); set: PutItem on its version + event | 1 RCU / 2 WCU x 2 |
| FAS grants waiting for authmon      | app           | PK=FASQ#<site>, SK=<rhid>, TTL; query per poll, delete per ack | query + 1 WCU each |
| registered address space (read)     | app           | GetItem PLATFORM/ADDRSPACE (head: version, chunk count), then BatchGetItem of PLATFORM/ADDRSPACE#<version>#<n> (<= 300 KB each, 20,000 prefixes: a few chunks) only when the version changed; cached per container <= 60 s | 1 RCU per minute per container + chunks on change |
| replace the address space           | app, audit    | BatchWriteItem new chunks; TransactWriteItems: head (version = the one read) + event + chain head; BatchWriteItem delete old chunks | chunks + 2 WCU x 3 + chunks |
| record a site's / NAS's uplink      | app           | PutItem PK=ORG#<org>, SK=UPLINK#<site> (or UPLINK#<site>#NAS#<nas>) if absent or last_seen_at <= now; only when status or address change or after 5 minutes (per container memory), never per call | 0 WCU per call; 1 WCU per change |
| uplinks of an org                   | app           | PK=ORG#<org>, SK begins UPLINK#                  | query         |
| agreement of an org                 | app           | PK=ORG#<org>, SK=AGREEMENT (+ GSI2 AGREEMENT_END until the job acted on its end) | 1 RCU / 2 WCU x 2 with its event |
| stages of an org and its sites (gate, cached <= 60 s) | app | PK=ORG#<org>, SK begins STAGE# (STAGE#ORG, STAGE#SITE#<site>) | query |
| merchant account of an org (connect, read, fees) | app   | PK=ORG#<org>, SK=PAYACCT#<provider> (keys in Secrets Manager kuota/<stage>/payments/<org>/<provider>, cached <= 60 s); connect: TransactWriteItems account + PAYACCT#<account_id> ref + event | 1 RCU / 2 WCU x 3 |
| webhook's account id -> org, provider | app         | PK=PAYACCT#<account_id>, SK=META                 | 1 RCU         |
| guest page: site id -> org          | app           | PK=SITE#<site>, SK=META (written when a plan is saved as sold online there: only such sites can sell) | 1 RCU |
| plans sold online at a site         | app           | SITE# ref, query PK=ORG#<org> SK begins PAYACCT#, query SK begins PLAN# | 1 RCU + 2 queries |
| create an order                     | app           | the listing above; RL# counters per site and address; org and site (their names, kept on the order for the receipt); PutItem ORDER#<id> if absent; UpdateItem with the provider's QR | 3 WCU + 4-5 RCU |
| an order by its id (guest's link, webhook) | app    | PK=ORDER#<id>, SK=META (+ UpdateItem checked_at if <= now - 10 s, tried only when the read says so: one provider read per order per 10 s of polls) | 1 RCU (+1 WCU per 10 s) |
| fulfil a paid order (exactly once)  | app, audit    | TransactWriteItems: PAYMENT#<provider>#<payment id> if absent, SALE#, V#, LEDGER# line, event, chain head, ORDER# if unpaid and no sale_id | 2 WCU x 7 + 3 RCU |
| orders near or past expiry (reconciler) | app GSI2  | GSI2PK=PAYDUE, GSI2SK <= now + 120 s (sparse: dropped when fulfilled, a day after an unpaid order's expiry) | 1 query/run + 1 RCU per due order |
| orders of an org, from..to (UTC days) | app GSI1    | GSI1PK=ORG#<org>#ORDERS, GSI1SK between <from> and <to>~, newest first, page <= 200; a status: filtered | query |
| every merchant account (daily check) | app GSI1     | GSI1PK=PAYACCOUNTS                               | query         |
| refund an online sale               | app, audit    | the voucher refund's transaction above + UpdateItem ORDER# if fulfilled (one event) | 2 WCU x 5 + 1 RCU |
| webhooks as received (redacted)    | app           | PutItem PK=WEBHOOK#<account_id>, SK=<iso time>#<id>, TTL 400 days | 1 WCU |
| move a stage                        | app, audit    | TransactWriteItems: STAGE#<scope> if seq = read, STAGELOG#<at>#<scope>#<seq>, event, chain head | 2 WCU x 4 |
| stage history of an org             | app           | PK=ORG#<org>, SK begins STAGELOG#, newest first, <= 200 | query |
| due stage deadlines, ended agreements (job) | app GSI2 | GSI2PK=COMPLIANCE / AGREEMENT_END, GSI2SK <= now (sparse) | 2 queries/run + per due item 1 RCU + the move |
| a trigger acts once a day per scope | app           | PK=ORG#<org>, SK=TRIGGER#<day>#<scope>#<reason> if not exists, TTL | 1 WCU |
| the platform's compliance policy    | app           | PK=PLATFORM, SK=POLICY                           | 1 RCU         |

The audit table is append-only: the Lambda role may only PutItem and Query it
(see infra/), and every put is conditioned on the key not existing. Every audit
event and ledger entry is also a link of a hash chain whose head moves in the
same transaction (services/chain.py); every audited write costs one chain-head
read and one more item in its transaction.
"""

from __future__ import annotations

from chalicelib.models.accounts import ApiKey, EmailClaim, Nas, NasClaim, Org, Site, User
from chalicelib.models.address_space import AddressSpaceChunk, AddressSpaceHead, Uplink
from chalicelib.models.alerts import Alert, AlertClaim
from chalicelib.models.audit import AuditEvent, ChainDigest
from chalicelib.models.base import AppTable
from chalicelib.models.brand import Brand
from chalicelib.models.compliance import Agreement, CompliancePolicy, StageRecord, StageTransition, TriggerClaim
from chalicelib.models.quality import QualityRollup
from chalicelib.models.settlement import RevenueShare, SettlementCounter, SettlementRecord
from chalicelib.models.shifts import OpenShiftClaim, Shift
from chalicelib.models.tokens import RateCounter, RefreshToken, TokenFamily
from chalicelib.models.vouchers import Batch, ChainHead, LedgerEntry, Plan, Sale, ShapeCounter, ShapeRegistry, Voucher

__all__ = [
    "AddressSpaceChunk",
    "AddressSpaceHead",
    "Agreement",
    "Alert",
    "AlertClaim",
    "ApiKey",
    "AppTable",
    "AuditEvent",
    "Batch",
    "Brand",
    "ChainDigest",
    "ChainHead",
    "CompliancePolicy",
    "EmailClaim",
    "LedgerEntry",
    "Nas",
    "NasClaim",
    "OpenShiftClaim",
    "Org",
    "Plan",
    "QualityRollup",
    "RateCounter",
    "RefreshToken",
    "RevenueShare",
    "Sale",
    "SettlementCounter",
    "SettlementRecord",
    "ShapeCounter",
    "ShapeRegistry",
    "Shift",
    "Site",
    "StageRecord",
    "StageTransition",
    "TokenFamily",
    "TriggerClaim",
    "Uplink",
    "User",
    "Voucher",
]
