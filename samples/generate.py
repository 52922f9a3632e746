#!/usr/bin/env python3
"""Generates the sample directory snapshot and findings for ResponseEngine.

    python3 samples/generate.py            # writes samples/directory.json and samples/findings/*

Standard library only, fixed seed: the output is byte-for-byte reproducible, so a change to this
script shows up as a reviewable diff of the generated files. See samples/README.md.
"""

import json
import os
import random
import uuid
from datetime import datetime, timedelta, timezone

SEED = 20261120
HERE = os.path.dirname(os.path.abspath(__file__))
GENERATED_AT = datetime(2026, 11, 20, 6, 0, 0, tzinfo=timezone.utc)
WINDOW_START = datetime(2026, 11, 13, 0, 0, 0, tzinfo=timezone.utc)
DOMAIN = "corp.example.com"
TENANT = "corp.onmicrosoft.com"

rng = random.Random(SEED)


def guid():
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def okta_id(prefix):
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return prefix + "".join(rng.choice(alphabet) for _ in range(17))


def ts(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def random_time(start=WINDOW_START, end=GENERATED_AT - timedelta(minutes=5)):
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(span))


FIRST = ["Alice", "Bruno", "Carol", "Dan", "Erin", "Frank", "Gail", "Hugo", "Ivy", "Jonas", "Kira", "Liam", "Maya",
         "Noah", "Olga", "Priya", "Quentin", "Rosa", "Sam", "Tara", "Umar", "Vera", "Wes", "Xena", "Yusuf", "Zoe",
         "Aaron", "Bea", "Chen", "Dora", "Emil", "Fatima", "Gus", "Hana", "Igor", "Jade", "Kofi", "Lena", "Marco",
         "Nadia", "Oscar", "Paula", "Raj", "Sofia", "Theo", "Uma", "Victor", "Wanda", "Yara", "Zack"]
LAST = ["Archer", "Kent", "Dunn", "Brooks", "Cole", "Diaz", "Ford", "Nolan", "Ellis", "Frost", "Garcia", "Hayes",
        "Ibsen", "Jensen", "Khan", "Lopez", "Moreau", "Novak", "Okafor", "Petrov", "Quinn", "Rossi", "Schmidt",
        "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Young", "Zimmer", "Abbott", "Baker", "Castro", "Dubois", "Evans",
        "Fischer", "Grant", "Holt", "Iqbal", "Jovanovic", "Keller", "Larsen", "Meyer", "Nakamura", "Olsen", "Park"]
DEPARTMENTS = ["Sales", "Finance", "Engineering", "HR", "Marketing", "IT", "Legal", "Operations"]


def people(count):
    """Unique (first, last) pairs; Alice Archer first, she appears in every directory."""
    result = [("Alice", "Archer")]
    seen = set(result)
    while len(result) < count:
        pair = (rng.choice(FIRST), rng.choice(LAST))
        if pair not in seen:
            seen.add(pair)
            result.append(pair)
    return result


PERSONS = people(110)
DEPT = {p: DEPARTMENTS[i % len(DEPARTMENTS)] for i, p in enumerate(PERSONS)}

# ---------------------------------------------------------------------------------------------
# Directory
# ---------------------------------------------------------------------------------------------

groups = []
users = []


def add_group(provider, name, gid=None, **extra):
    entry = {"provider": provider, "id": gid or (okta_id("00g") if provider == "okta" else guid()), "name": name}
    entry.update({k: v for k, v in extra.items() if v not in (None, False, [])})
    groups.append(entry)
    return entry


def add_user(provider, uid, name, display_name, upn=None, email=None, enabled=True, guest=False,
             groups_=(), roles=(), tags=()):
    entry = {"provider": provider, "id": uid, "name": name}
    if upn:
        entry["upn"] = upn
    if email:
        entry["email"] = email
    entry["display_name"] = display_name
    if not enabled:
        entry["enabled"] = False
    if guest:
        entry["guest"] = True
    if groups_:
        entry["groups"] = list(groups_)
    if roles:
        entry["roles"] = list(roles)
    if tags:
        entry["tags"] = list(tags)
    users.append(entry)
    return entry


# --- Active Directory ---------------------------------------------------------------------------
for name, member_of in [
    ("Administrators", []), ("Domain Admins", ["Administrators"]), ("Enterprise Admins", ["Administrators"]),
    ("Schema Admins", []), ("Account Operators", []), ("Backup Operators", []), ("Server Operators", []),
    ("Print Operators", []), ("DnsAdmins", []), ("Protected Users", []), ("Domain Users", []),
    ("Tier0 Operators", ["Domain Admins"]), ("Helpdesk Operators", ["Account Operators"]),
    ("Tier1 Server Admins", []), ("Workstation Admins", []), ("Service Accounts", []),
    ("SQL Service Accounts", ["Service Accounts"]), ("ResponseEngine Operators", []), ("VPN Users", []),
    ("Remote Desktop Users", []), ("GRP-Azure-Admins", []),
] + [(d, []) for d in DEPARTMENTS]:
    add_group("ad", name, member_of=member_of)


def ad_sam(first, last, taken):
    base = (first[0] + last).lower()
    sam, n = base, 1
    while sam in taken:
        n += 1
        sam = f"{base}{n}"
    taken.add(sam)
    return sam


ad_taken = set()
AD = {}  # role label -> list of sAMAccountNames


def ad_user(sam, display, groups_=(), enabled=True, tags=(), upn_local=None):
    entry = add_user("ad", guid(), sam, display, upn=f"{upn_local or sam}@{DOMAIN}",
                     email=f"{upn_local}@{DOMAIN}" if upn_local else None,
                     enabled=enabled, groups_=groups_, tags=tags)
    return entry


# Tier 0 administrators: separate admin accounts (adm-<sam>), no mailbox.
ad_admins = [
    ("adm-aarcher", "Alice Archer (Tier 0)", ["Domain Admins", "Enterprise Admins", "Protected Users"]),
    ("adm-bkent", "Bruno Kent (Tier 0)", ["Domain Admins", "Schema Admins", "Enterprise Admins", "Protected Users"]),
    ("adm-cdunn", "Carol Dunn (Tier 0)", ["Domain Admins", "Protected Users"]),
    ("adm-dbrooks", "Dan Brooks (Tier 0)", ["Domain Admins"]),
    ("adm-ecole", "Erin Cole (Tier 0)", ["Domain Admins", "Protected Users"]),
]
for sam, display, grp in ad_admins:
    ad_user(sam, display, grp)
    ad_taken.add(sam)
ad_user("adm-fdiaz", "Frank Diaz (Tier 0, left team)", ["Domain Admins"], enabled=False)
ad_user("t0-ops1", "Tier 0 operations 1", ["Tier0 Operators"])
ad_user("t0-ops2", "Tier 0 operations 2", ["Tier0 Operators"])
ad_user("adm-gford", "Gail Ford (DNS)", ["DnsAdmins", "Tier1 Server Admins"])
ad_user("bg-ad-01", "Break glass AD 01", ["Domain Admins"], tags=["break_glass"])
ad_user("bg-ad-02", "Break glass AD 02", ["Domain Admins", "Enterprise Admins"], tags=["break_glass"])
# Service accounts.
ad_user("svc-respond", "ResponseEngine (AD connector)", ["Service Accounts", "ResponseEngine Operators"],
        tags=["service_account", "response_engine"])
ad_user("svc-adsync", "Entra Connect sync (MSOL)", ["Service Accounts"], tags=["service_account", "directory_sync"])
for sam, grp in [("svc-sql01", ["SQL Service Accounts"]), ("svc-sql02", ["SQL Service Accounts"]),
                 ("svc-web", ["Service Accounts"]), ("svc-backup", ["Service Accounts", "Backup Operators"]),
                 ("svc-sccm", ["Service Accounts", "Workstation Admins"]), ("svc-scan", ["Service Accounts"]),
                 ("svc-exch", ["Service Accounts"]), ("svc-print", ["Service Accounts", "Print Operators"])]:
    ad_user(sam, f"Service account {sam[4:]}", grp, tags=["service_account"])
ad_user("svc-legacyftp", "Service account legacyftp (retired)", ["Service Accounts"], enabled=False, tags=["service_account"])
ad_user("svc-reports", "Service account reports", ["Service Accounts"], enabled=False, tags=["service_account"])

# Human accounts.
AD_HUMANS = []
for i, (first, last) in enumerate(PERSONS[:68]):
    sam = ad_sam(first, last, ad_taken)
    grp = ["Domain Users", DEPT[(first, last)]]
    if i % 3 == 0:
        grp.append("VPN Users")
    if DEPT[(first, last)] == "IT" and i % 16 == 5:
        grp.append("Tier1 Server Admins")
    if DEPT[(first, last)] == "IT" and i % 16 == 13:
        grp.append("Helpdesk Operators")
    if DEPT[(first, last)] == "Engineering" and i % 16 == 2:
        grp.append("GRP-Azure-Admins")
    enabled = not (i % 17 == 16)
    ad_user(sam, f"{first} {last}", grp, enabled=enabled, upn_local=f"{first}.{last}".lower())
    AD_HUMANS.append(sam)
# A user an attacker slipped into Domain Admins (the snapshot was taken after the change).
ad_user("rthomas", "Rita Thomas", ["Domain Users", "Sales", "Domain Admins"], upn_local="rita.thomas")
ad_user("kperez", "Karl Perez", ["Domain Users", "IT", "Backup Operators"], upn_local="karl.perez")
# Disabled by the engine earlier this week (cleared later as false positives).
ad_user("lmoreno", "Luis Moreno", ["Domain Users", "Finance"], enabled=False, upn_local="luis.moreno")
ad_user("svc-batch", "Service account batch", ["Service Accounts"], enabled=False, tags=["service_account"])

# --- Entra ID -----------------------------------------------------------------------------------
for name, extra in [
    ("All Employees", {"dynamic": True}), ("All Guests", {"dynamic": True}), ("Sales Team", {"dynamic": True}),
    ("Dynamic Cloud Admins", {"dynamic": True}),
    ("Entra Tier0 Admins", {}), ("Cloud Security Admins", {}), ("Exchange Admins Cloud", {}),
    ("Break Glass Accounts", {}), ("Partner Guests", {}), ("M365 E5 Licensing", {}),
    ("GRP-Azure-Admins", {"synced": True}), ("SG-VPN-Users", {"synced": True}), ("SG-Finance", {"synced": True}),
    ("SG-Engineering", {"synced": True}), ("Domain Admins", {"synced": True}),
]:
    add_group("entra", name, **extra)

ENTRA_ADMINS = []


def entra_user(name, display, upn, email=None, groups_=(), roles=(), tags=(), enabled=True, guest=False):
    return add_user("entra", guid(), name, display, upn=upn, email=email, groups_=groups_, roles=roles, tags=tags,
                    enabled=enabled, guest=guest)


# Cloud-only admin accounts.
for local, display, grp, roles, tags in [
    ("admin.alice", "Alice Archer (cloud admin)", ["Dynamic Cloud Admins"], ["Global Administrator"], ["pim_eligible"]),
    ("admin.bruno", "Bruno Kent (cloud admin)", ["Dynamic Cloud Admins"], ["Global Administrator"], ["pim_eligible"]),
    ("admin.carol", "Carol Dunn (cloud admin)", [], ["Global Administrator"], []),
    ("admin.dan", "Dan Brooks (cloud admin)", [], ["Global Administrator", "Global Reader"], []),
    ("admin.hugo", "Hugo Nolan (cloud admin)", [], ["Global Administrator"], []),
    ("admin.iris", "Iris Vance (cloud admin)", ["Entra Tier0 Admins"], ["Privileged Authentication Administrator"], ["pim_eligible"]),
    ("admin.jonas", "Jonas Frost (cloud admin)", ["Entra Tier0 Admins"], ["Privileged Role Administrator"], ["pim_eligible"]),
    ("admin.kim", "Kim Garcia (cloud admin)", ["Cloud Security Admins"], ["Security Administrator"], []),
    ("admin.lena", "Lena Hayes (cloud admin)", ["Exchange Admins Cloud"], ["Exchange Administrator"], []),
    ("admin.max", "Max Ibsen (cloud admin)", [], ["User Administrator"], []),
    ("admin.nora", "Nora Jensen (cloud admin)", [], ["Helpdesk Administrator"], []),
    ("admin.omar", "Omar Khan (cloud admin)", [], ["Intune Administrator"], []),
    ("admin.paul", "Paul Lopez (cloud admin)", ["Cloud Security Admins"], ["Conditional Access Administrator", "Security Reader"], []),
    ("admin.sven", "Sven Moreau (cloud admin)", [], ["SharePoint Administrator", "Exchange Administrator", "Reports Reader"], []),
    ("admin.tess", "Tess Novak (cloud admin)", [], ["Application Administrator", "Cloud Application Administrator"], ["pim_eligible"]),
]:
    entra_user(local, display, f"{local}@{TENANT}", groups_=grp, roles=roles, tags=tags)
    ENTRA_ADMINS.append(local)
entra_user("admin.quinn", "Quinn Okafor (cloud admin, on leave)", f"admin.quinn@{TENANT}", roles=["Global Administrator"],
           enabled=False)
entra_user("breakglass01", "Break glass 01", f"breakglass01@{TENANT}", groups_=["Break Glass Accounts"],
           roles=["Global Administrator"], tags=["break_glass"])
entra_user("breakglass02", "Break glass 02", f"breakglass02@{TENANT}", groups_=["Break Glass Accounts"],
           roles=["Global Administrator"], tags=["break_glass"])
entra_user("svc.responseengine", "ResponseEngine (Entra connector)", f"svc.responseengine@{TENANT}",
           roles=["User Administrator", "Security Operator"], tags=["service_account", "response_engine"])
entra_user("svc.mailrelay", "Mail relay", f"svc.mailrelay@{TENANT}", tags=["service_account"])
entra_user("svc.scanner", "Posture scanner (read-only)", f"svc.scanner@{TENANT}", roles=["Global Reader"],
           tags=["service_account"])

# Hybrid (synced) workforce accounts: same people as AD, UPN first.last@corp.example.com.
ENTRA_HUMANS = []
for i, (first, last) in enumerate(PERSONS[:62]):
    local = f"{first}.{last}".lower()
    grp = ["All Employees", "M365 E5 Licensing"]
    dept = DEPT[(first, last)]
    if dept == "Sales":
        grp.append("Sales Team")
    if dept == "Finance":
        grp.append("SG-Finance")
    if dept == "Engineering":
        grp.append("SG-Engineering")
        if i % 16 == 2:
            grp.append("GRP-Azure-Admins")
    if i % 3 == 0:
        grp.append("SG-VPN-Users")
    roles = []
    if dept == "IT" and i % 16 == 13:
        roles = ["Helpdesk Administrator"]
    if dept == "IT" and i % 16 == 5:
        roles = ["Reports Reader", "Message Center Reader"]
    if dept == "Legal" and i % 3 == 0:
        roles = ["Compliance Administrator"]
    enabled = not (i % 19 == 18)
    entra_user(local, f"{first} {last}", f"{local}@{DOMAIN}", email=f"{local}@{DOMAIN}", groups_=grp, roles=roles,
               enabled=enabled)
    ENTRA_HUMANS.append(local)
# Rita got into Entra Tier0 Admins by a direct write, Pia is an ordinary member of the dynamic admins group.
entra_user("rita.thomas", "Rita Thomas", f"rita.thomas@{DOMAIN}", email=f"rita.thomas@{DOMAIN}",
           groups_=["All Employees", "Sales Team", "Entra Tier0 Admins"], roles=["Privileged Role Administrator"])
entra_user("pia.sandoval", "Pia Sandoval", f"pia.sandoval@{DOMAIN}", email=f"pia.sandoval@{DOMAIN}",
           groups_=["All Employees", "Dynamic Cloud Admins", "GRP-Azure-Admins"])
entra_user("luis.moreno", "Luis Moreno", f"luis.moreno@{DOMAIN}", email=f"luis.moreno@{DOMAIN}",
           groups_=["All Employees", "SG-Finance"], enabled=False)
entra_user("old.user", "Old User (offboarded)", f"old.user@{DOMAIN}", email=f"old.user@{DOMAIN}", enabled=False)

# Guests (B2B).
ENTRA_GUESTS = []
for first, domain, extra_groups, roles in [
    ("bob", "partner.example", [], []), ("carla", "fabrikam.example", [], []), ("deepak", "contoso-consulting.example", ["Exchange Admins Cloud"], []),
    ("elena", "partner.example", [], []), ("fred", "auditfirm.example", [], ["Security Reader"]),
    ("gina", "fabrikam.example", [], []), ("hank", "lawfirm.example", [], []), ("isla", "partner.example", [], []),
]:
    mangled = f"{first}_{domain}"
    name = f"ext_{mangled}#EXT#"
    entra_user(name, f"{first.title()} ({domain})", f"{name}@{TENANT}", email=f"{first}@{domain}",
               groups_=["All Guests", "Partner Guests", *extra_groups], roles=roles, guest=True)
    ENTRA_GUESTS.append(name)

# --- Okta -----------------------------------------------------------------------------------------
for name, okta_type in [
    ("Everyone", "BUILT_IN"), ("Okta Administrators", "OKTA_GROUP"), ("Okta Super Admins", "OKTA_GROUP"),
    ("Okta Help Desk Admins", "APP_GROUP"), ("AD Domain Admins", "APP_GROUP"), ("Salesforce Users", "APP_GROUP"),
    ("Workday Users", "APP_GROUP"), ("Engineering", "OKTA_GROUP"), ("Sales", "OKTA_GROUP"), ("Finance", "OKTA_GROUP"),
    ("Contractors", "OKTA_GROUP"), ("FastPass Pilot", "OKTA_GROUP"),
]:
    add_group("okta", name, okta_type=okta_type)

OKTA_HUMANS = []


def okta_user(login, display, groups_=(), roles=(), tags=(), enabled=True):
    return add_user("okta", okta_id("00u"), login, display, upn=login, email=login,
                    groups_=["Everyone", *groups_], roles=roles, tags=tags, enabled=enabled)


for i, (first, last) in enumerate(PERSONS[:54]):
    login = f"{first}.{last}@{DOMAIN}".lower()
    dept = DEPT[(first, last)]
    grp = ["Workday Users"]
    if dept in ("Engineering", "Sales", "Finance"):
        grp.append(dept)
    if dept == "Sales":
        grp.append("Salesforce Users")
    if i % 5 == 0:
        grp.append("FastPass Pilot")
    roles = []
    if i in (0, 1, 2, 4):
        roles = ["SUPER_ADMIN"]
        grp.append("Okta Super Admins")
    elif i in (3, 7):
        roles = ["ORG_ADMIN"]
        grp.append("Okta Administrators")
    elif i == 9:
        roles = ["APP_ADMIN"]
    elif i == 11:
        roles = ["USER_ADMIN"]
    elif i in (12, 14):
        roles = ["HELP_DESK_ADMIN"]
        grp.append("Okta Help Desk Admins")
    elif i == 15:
        roles = ["READ_ONLY_ADMIN"]
    if dept == "IT" and i % 16 == 13:
        grp.append("AD Domain Admins")
    enabled = not (i % 13 == 12)
    okta_user(login, f"{first} {last}", grp, roles=roles, enabled=enabled)
    OKTA_HUMANS.append(login)
okta_user(f"okta-breakglass@{DOMAIN}", "Okta break glass", ["Okta Super Admins"], roles=["SUPER_ADMIN"], tags=["break_glass"])
okta_user(f"svc-responseengine@{DOMAIN}", "ResponseEngine (Okta connector)", roles=["ORG_ADMIN"],
          tags=["service_account", "response_engine"])
okta_user(f"svc-scim-workday@{DOMAIN}", "Workday provisioning (API)", roles=["USER_ADMIN"], tags=["service_account"])
okta_user(f"svc-jira-sync@{DOMAIN}", "Jira group sync (API)", tags=["service_account"])
# A contractor who joined Okta Super Admins via a direct API call, and one engine-suspended user.
okta_user(f"marek.wolski@{DOMAIN}", "Marek Wolski (contractor)", ["Contractors", "Okta Super Admins"], roles=["SUPER_ADMIN"])
okta_user(f"luis.moreno@{DOMAIN}", "Luis Moreno", ["Finance", "Workday Users"], enabled=False)

# Consistency checks: lookup keys unique per provider.
for provider in ("ad", "entra", "okta"):
    keys = {}
    for u in users:
        if u["provider"] != provider:
            continue
        for k in {u["name"].lower(), (u.get("upn") or "").lower(), (u.get("email") or "").lower()} - {""}:
            assert k not in keys, (provider, k)
            keys[k] = u["id"]
    names = [g["name"].lower() for g in groups if g["provider"] == provider]
    assert len(names) == len(set(names)), provider

BY = {(u["provider"], u["name"]): u for u in users}


def U(provider, name):
    return BY[(provider, name)]


def pick(provider, predicate, k=None):
    pool = [u for u in users if u["provider"] == provider and predicate(u)]
    if k is None:
        return pool
    return rng.sample(pool, min(k, len(pool)))


def has(u, key, value):
    return value in u.get(key, [])


def plain(u):
    """Enabled, non-guest human without special tags or admin roles."""
    return (u.get("enabled", True) and not u.get("guest") and not u.get("tags") and not u.get("roles")
            and not any(g in u.get("groups", []) for g in
                        ["Domain Admins", "Tier0 Operators", "Helpdesk Operators", "Backup Operators", "DnsAdmins"]))


# ---------------------------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------------------------

findings = {}  # file name -> list
counters = {}


def subject_for(u, style):
    p = u["provider"]
    if style == "name":
        return {"provider": p, "name": u["name"]}
    if style == "upn":
        return {"provider": p, "name": u.get("upn") or u["name"]}
    if style == "id":
        return {"provider": p, "id": u["id"]}
    return {"provider": p, "id": u["id"], "name": u.get("upn") or u["name"]}


def emit(file, source, id_fmt, type_, severity, subject, title, attributes=None, kind="detection", when=None):
    counters[source] = counters.get(source, 0) + 1
    n = counters[source]
    record = {
        "id": id_fmt(n),
        "source": source,
        "kind": kind,
        "type": type_,
        "severity": severity,
        "observed_at": ts(when or random_time()),
        "subject": subject,
        "title": title,
        "attributes": attributes or {},
    }
    findings.setdefault(file, []).append(record)
    return record


def ip():
    return rng.choice(["203.0.113.", "198.51.100.", "192.0.2."]) + str(rng.randrange(2, 254))


# --- ITDR detections (AD), NDJSON ----------------------------------------------------------------
ITDR = "itdr-detections.ndjson"


def itdr(type_, severity, u_or_subject, title, attributes=None, when=None, style="name"):
    subject = u_or_subject if "display_name" not in u_or_subject else subject_for(u_or_subject, style)
    return emit(ITDR, "itdr", lambda n: f"ITDR-2026-{41000 + n:06d}", type_, severity, subject, title, attributes, when=when)


ad_plain = pick("ad", plain)
hosts = [f"WS-{n:04d}" for n in range(100, 600, 7)]

# DCSync: one real incident (a workstation user and then a Domain Admin within the hour), a sensor
# storm against several accounts at once (rate limit), the sync account, DC machine accounts.
t0 = datetime(2026, 11, 18, 2, 10, tzinfo=timezone.utc)
itdr("dcsync", "critical", U("ad", AD_HUMANS[5]), "Directory replication requested from a workstation",
     {"source_host": "WS-0231", "source_is_dc": False, "replicated": ["krbtgt", "Administrator"]}, when=t0)
itdr("dcsync", "critical", U("ad", "adm-cdunn"), "Directory replication requested by a Domain Admin from a workstation",
     {"source_host": "WS-0231", "source_is_dc": False}, when=t0 + timedelta(minutes=12), style="both")
storm = datetime(2026, 11, 19, 14, 0, tzinfo=timezone.utc)
for i, u in enumerate(rng.sample(ad_plain, 5)):
    itdr("dcsync", "high", u, "Possible DCSync (DRSUAPI GetNCChanges)", {"source_host": "WS-0455", "source_is_dc": False,
         "sensor": "itdr-sensor-dc03"}, when=storm + timedelta(minutes=3 * i))
for _ in range(6):
    itdr("dcsync", "high", U("ad", "svc-adsync"), "Directory replication by the Entra Connect account",
         {"source_host": "AADC01", "source_is_dc": False})
for dc in ["DC01$", "DC02$", "DC03$"]:
    itdr("dcsync", "high", {"provider": "ad", "name": dc}, "Replication between domain controllers",
         {"source_host": dc.rstrip("$"), "source_is_dc": True})
for u in rng.sample(ad_plain, 4):
    itdr("dcsync", "medium", u, "Replication metadata query (heuristic)", {"source_host": rng.choice(hosts)})

# Service accounts: kerberoasting and compromise.
itdr("service_account_compromise", "high", U("ad", "svc-sql02"), "Service account logged on interactively",
     {"logon_type": "interactive", "host": "WS-0412"})
itdr("kerberoasting", "critical", U("ad", "svc-web"), "Roasted service ticket followed by anomalous logon",
     {"encryption": "rc4_hmac", "followed_by_anomalous_logon": True, "host": "WS-0388"}, style="both")
itdr("service_account_compromise", "critical", U("ad", "svc-respond"), "ResponseEngine account used from a workstation",
     {"logon_type": "network", "host": "WS-0107"})
itdr("service_account_compromise", "high", U("ad", "svc-legacyftp"), "Retired service account authentication attempt",
     {"logon_type": "network", "host": "FTP01"})
itdr("service_account_compromise", "medium", U("ad", "svc-scan"), "Service account used from an unusual subnet",
     {"logon_type": "network", "host": "WS-0140"})
for u in [U("ad", s) for s in ["svc-sql01", "svc-sql02", "svc-web", "svc-exch", "svc-sccm", "svc-print"]]:
    for _ in range(rng.randrange(2, 5)):
        itdr("kerberoasting", rng.choice(["medium", "high"]), u, "RC4 service ticket requested for a service account",
             {"encryption": "rc4_hmac", "requesting_account": rng.choice(AD_HUMANS), "host": rng.choice(hosts)})
for u in rng.sample(ad_plain, 3):
    itdr("kerberoasting", "high", u, "Service ticket requested for a user with an SPN",
         {"encryption": "rc4_hmac", "followed_by_anomalous_logon": True})

# Unauthorised Tier 0 group additions.
itdr("privileged_group_membership_added", "high", U("ad", "rthomas"), "Account added to Domain Admins",
     {"group": "Domain Admins", "actor": "adm-dbrooks", "dc": "DC02"})
itdr("privileged_group_membership_added", "high", U("ad", "kperez"), "Account added to Backup Operators",
     {"group": "Backup Operators", "actor": "adm-ecole", "dc": "DC01"})
itdr("privileged_group_membership_added", "high", U("ad", "adm-ecole"), "Account added to Domain Admins",
     {"group": "Domain Admins", "actor": "adm-aarcher", "change_ticket": "CHG0041187"})
itdr("privileged_group_membership_added", "medium", U("ad", "adm-gford"), "Account added to DnsAdmins",
     {"group": "DnsAdmins", "actor": "adm-bkent", "change_ticket": "CHG0041190"})
itdr("privileged_group_membership_added", "high", U("ad", "bg-ad-02"), "Break-glass account re-added to Enterprise Admins",
     {"group": "Enterprise Admins", "actor": "vault-rotation"})
itdr("privileged_group_membership_added", "high", U("ad", ad_plain[3]["name"]), "Account added to Schema Admins (already removed)",
     {"group": "Schema Admins", "actor": "adm-bkent"})
itdr("privileged_group_membership_added", "low", U("ad", ad_plain[7]["name"]), "Account added to Print Operators",
     {"group": "Print Operators", "actor": "adm-dbrooks"})

# Leaked credentials from the ITDR dark-web feed (AD).
for u in rng.sample(ad_plain, 6):
    itdr("leaked_credentials", rng.choice(["medium", "high"]), u, "Credentials found in an infostealer log",
         {"leak_source": "infostealer", "password_valid": True})
for u in rng.sample(ad_plain, 4):
    itdr("leaked_credentials", "medium", u, "Credentials found in a paste (password already changed)",
         {"leak_source": "paste", "password_valid": False})
itdr("leaked_credentials", "high", U("ad", "svc-sql01"), "Service account credentials in a public repository",
     {"leak_source": "public_repo", "password_valid": True})
for u in rng.sample(ad_plain, 5):
    itdr("leaked_credentials", "low", u, "Old breach record (no password)", {"leak_source": "breach_corpus"})

# Noise the rule set does not handle: brute force, pass-the-hash, LDAP recon, golden ticket.
for _ in range(28):
    u = rng.choice(ad_plain)
    itdr("brute_force", rng.choice(["low", "low", "medium"]), u, "Repeated failed logons",
         {"failures": rng.randrange(10, 80), "host": rng.choice(hosts)})
for _ in range(20):
    u = rng.choice(ad_plain)
    itdr("unusual_ldap_query", "low", u, "Reconnaissance-style LDAP query",
         {"filter": "(servicePrincipalName=*)", "host": rng.choice(hosts)})
for _ in range(8):
    u = rng.choice(ad_plain + [U("ad", "adm-dbrooks"), U("ad", "adm-aarcher")])
    itdr("pass_the_hash", rng.choice(["medium", "high"]), u, "NTLM authentication with a reused hash",
         {"host": rng.choice(hosts)})
itdr("golden_ticket", "critical", {"provider": "ad", "name": "krbtgt"}, "Forged TGT with an abnormal lifetime",
     {"ticket_lifetime_hours": 87600})
for _ in range(14):
    u = rng.choice(ad_plain)
    itdr("password_spray", "medium", u, "Account targeted by a password spray (no success)", {"outcome": "failure"})

# Unknown subjects (accounts deleted since, typos in the source, computer accounts).
for name in ["jsmith-old", "tmp-admin", "WS-0231$", "testuser01", "svc-legacyvpn"]:
    itdr("brute_force", "medium", {"provider": "ad", "name": name}, "Repeated failed logons", {"failures": 25})

# --- Entra ID Protection / Defender, JSON array --------------------------------------------------------
ENTRA = "entra-risk.json"


def entra(type_, severity, u_or_subject, title, attributes=None, when=None, source="entra-id-protection"):
    subject = u_or_subject if "display_name" not in u_or_subject else subject_for(u_or_subject, "both")
    return emit(ENTRA, source, lambda n: f"{guid().replace('-', '')[:24]}{n:04d}", type_, severity, subject, title,
                attributes, when=when)


entra_plain = pick("entra", plain)
entra_priv_humans = pick("entra", lambda u: u.get("enabled", True) and not u.get("guest") and not u.get("tags")
                         and u.get("roles"))

# Risky users.
for u in rng.sample(entra_plain, 9):
    entra("risky_user", "high", u, "User at high risk", {"risk_level": "high", "risk_state": "atRisk",
          "risk_detail": rng.choice(["leakedCredentials", "anomalousToken", "investigationsThreatIntelligence"])})
entra("risky_user", "critical", U("entra", "admin.dan"), "Global Administrator at high risk",
      {"risk_level": "high", "risk_state": "atRisk", "risk_detail": "attackerinTheMiddle"})
entra("risky_user", "high", U("entra", "admin.kim"), "Security Administrator at high risk",
      {"risk_level": "high", "risk_state": "atRisk", "risk_detail": "anomalousToken"})
for u in rng.sample(entra_plain, 4):
    entra("risky_user", "high", u, "User at high risk (remediated)", {"risk_level": "high",
          "risk_state": rng.choice(["remediated", "dismissed"])})
entra("risky_user", "high", U("entra", ENTRA_GUESTS[1]), "Guest at high risk", {"risk_level": "high", "risk_state": "atRisk"})
entra("risky_user", "high", U("entra", "breakglass02"), "Break-glass account at high risk", {"risk_level": "high", "risk_state": "atRisk"})
for _ in range(40):
    u = rng.choice(entra_plain + entra_priv_humans)
    level = rng.choice(["low", "low", "medium"])
    entra("risky_user", level, u, f"User at {level} risk", {"risk_level": level, "risk_state": "atRisk"})

# Password spray: a wave with a few successes, many failures.
wave = datetime(2026, 11, 17, 3, 30, tzinfo=timezone.utc)
spray_targets = rng.sample(entra_plain, 30)
for i, u in enumerate(spray_targets):
    outcome = "success" if i < 7 else "mfa_interrupted" if i < 9 else "failure"
    entra("password_spray", "high" if outcome != "failure" else "medium", u, f"Password spray ({outcome})",
          {"outcome": outcome, "ip": "185.220.101." + str(10 + i % 5), "user_agent": "python-requests/2.31"},
          when=wave + timedelta(minutes=i))
entra("password_spray", "high", U("entra", "admin.max"), "Password spray (success) against a User Administrator",
      {"outcome": "success", "ip": "185.220.101.12"}, when=wave + timedelta(minutes=31))
entra("password_spray", "high", U("entra", ENTRA_GUESTS[0]), "Password spray (success) against a guest",
      {"outcome": "success", "ip": "185.220.101.13"}, when=wave + timedelta(minutes=32))
entra("password_spray", "high", U("entra", "breakglass01"), "Password spray (mfa_interrupted) against break glass",
      {"outcome": "mfa_interrupted", "ip": "185.220.101.14"}, when=wave + timedelta(minutes=33))
for u in rng.sample(entra_plain, 6):
    entra("password_spray", "low", u, "Password spray (success, low-confidence correlation)", {"outcome": "success"})

# Token theft.
for u in rng.sample(entra_plain, 7):
    entra("token_replay", rng.choice(["medium", "high"]), u, "Token replayed from a new ASN",
          {"ip": ip(), "asn": rng.choice([9009, 14061, 16276]), "app": "Office 365 Exchange Online"})
for u in rng.sample(entra_plain, 3):
    entra("aitm_phishing", "high", u, "Adversary-in-the-middle sign-in", {"phishing_domain": "login-micros0ft.example"},
          source="defender-xdr")
entra("anomalous_token", "medium", U("entra", ENTRA_GUESTS[3]), "Anomalous token for a guest", {"ip": ip()})
entra("anomalous_token", "high", U("entra", "old.user"), "Anomalous token for a disabled account", {"ip": ip()})
for u in rng.sample(entra_plain, 10):
    entra("anomalous_token", "low", u, "Token anomaly (low)", {"ip": ip()})

# Leaked credentials (Entra).
for u in rng.sample(entra_plain, 6):
    entra("leaked_credentials", "high", u, "Leaked credentials", {"leak_source": "infostealer", "password_valid": True})
for u in rng.sample(entra_plain, 3):
    entra("leaked_credentials", "medium", u, "Leaked credentials (password changed since)", {"password_valid": False})
entra("leaked_credentials", "high", U("entra", ENTRA_GUESTS[4]), "Leaked credentials for a guest", {"leak_source": "paste"})
entra("leaked_credentials", "high", U("entra", "svc.mailrelay"), "Leaked credentials for a service account",
      {"leak_source": "public_repo", "password_valid": True})

# Unauthorised writes to privileged cloud groups.
entra("privileged_group_membership_added", "high", U("entra", "rita.thomas"), "Member added to Entra Tier0 Admins",
      {"group": "Entra Tier0 Admins", "actor": "app:Legacy-Provisioner"}, source="defender-xdr")
entra("privileged_group_membership_added", "high", U("entra", "admin.jonas"), "Member added to Entra Tier0 Admins (PIM)",
      {"group": "Entra Tier0 Admins", "pim_request_id": guid()}, source="defender-xdr")
entra("privileged_group_membership_added", "high", U("entra", "pia.sandoval"), "Member added to Dynamic Cloud Admins",
      {"group": "Dynamic Cloud Admins", "actor": "dynamic-membership"}, source="defender-xdr")
entra("privileged_group_membership_added", "medium", U("entra", ENTRA_GUESTS[2]), "Guest added to Exchange Admins Cloud",
      {"group": "Exchange Admins Cloud", "actor": "admin.lena@" + TENANT}, source="defender-xdr")
entra("privileged_group_membership_added", "medium", U("entra", "pia.sandoval"), "Member added to GRP-Azure-Admins (synced)",
      {"group": "GRP-Azure-Admins", "actor": "Entra Connect"}, source="defender-xdr")

# Noise: sign-in risk detections no rule acts on.
for _ in range(45):
    u = rng.choice(entra_plain + entra_priv_humans + [U("entra", g) for g in ENTRA_GUESTS])
    t = rng.choice(["unfamiliar_sign_in_properties", "atypical_travel", "anonymous_ip_address", "impossible_travel"])
    entra(t, rng.choice(["low", "low", "medium"]), u, t.replace("_", " ").capitalize(), {"ip": ip()})
for _ in range(4):
    entra("mailbox_forwarding_rule", "medium", rng.choice(entra_plain), "Suspicious inbox forwarding rule",
          {"forward_to": "archive@mailbox.example"}, source="defender-xdr")

# Unknown subjects.
for upn in ["j.doe@corp.example.com", "former.employee@corp.example.com", "admin.temp@corp.onmicrosoft.com"]:
    entra("risky_user", "high", {"provider": "entra", "id": guid(), "name": upn}, "User at high risk",
          {"risk_level": "high", "risk_state": "atRisk"})
for _ in range(2):
    entra("atypical_travel", "medium", {"provider": "entra", "id": guid()}, "Atypical travel", {"ip": ip()})

# --- Okta System Log / ThreatInsight, NDJSON -----------------------------------------------------------
OKTA = "okta-systemlog.ndjson"


def okta(type_, severity, u_or_subject, title, attributes=None, when=None):
    subject = u_or_subject if "display_name" not in u_or_subject else subject_for(u_or_subject, "both")
    return emit(OKTA, "okta", lambda n: f"okta-evt-{guid()[:18]}{n:04d}", type_, severity, subject, title,
                attributes, when=when)


okta_plain = pick("okta", plain)
okta_admins = pick("okta", lambda u: has(u, "roles", "SUPER_ADMIN") and not u.get("tags"))

# Session hijack / suspicious sign-in.
for u in rng.sample(okta_plain, 6):
    okta("session_hijack", "high", u, "Session cookie reused from a new device and ASN",
         {"old_ip": ip(), "new_ip": ip(), "new_asn": rng.choice([9009, 14061, 20473])})
okta("session_hijack", "critical", okta_admins[1], "Super admin session reused from a new ASN",
     {"old_ip": ip(), "new_ip": ip(), "new_asn": 9009})
okta("session_hijack", "critical", okta_admins[2], "Super admin session reused from a new ASN",
     {"old_ip": ip(), "new_ip": ip(), "new_asn": 9009})
okta("session_hijack", "high", U("okta", f"svc-jira-sync@{DOMAIN}"), "API token used from a new ASN", {"new_ip": ip()})
okta("session_hijack", "critical", U("okta", f"okta-breakglass@{DOMAIN}"), "Break-glass session from a new device",
     {"new_ip": ip()})
for u in rng.sample(okta_plain, 4):
    okta("suspicious_sign_in", rng.choice(["high", "critical"]), u, "High-confidence suspicious sign-in",
         {"confidence": "high", "reasons": ["impossible_travel", "new_device", "anonymizing_proxy"]})
for u in rng.sample(okta_plain, 8):
    okta("suspicious_sign_in", "high", u, "Suspicious sign-in", {"confidence": "medium", "reasons": ["new_device"]})
for _ in range(35):
    okta("suspicious_sign_in", rng.choice(["low", "medium"]), rng.choice(okta_plain), "Sign-in from a new location",
         {"confidence": "low", "reasons": ["new_geo"]})

# Account takeover verdicts.
ato = rng.sample(okta_plain, 4)
okta("account_takeover", "critical", ato[0], "Attacker factor enrolled after phishing",
     {"confirmed": True, "case": "SOC-2026-1187", "evidence": "attacker_factor_enrolled"})
okta("account_takeover", "high", ato[1], "Recovery e-mail changed by attacker",
     {"confirmed": True, "case": "SOC-2026-1192", "evidence": "recovery_email_changed"})
okta("account_takeover", "critical", ato[2], "Possible takeover (under investigation)", {"confirmed": False})
okta("account_takeover", "high", ato[3], "Possible takeover (ThreatInsight)", {})

# Push fatigue.
for u in rng.sample(okta_plain, 6):
    okta("mfa_push_fatigue", rng.choice(["medium", "high"]), u, "Okta Verify push bombing",
         {"push_count": rng.randrange(6, 30), "window_minutes": 10, "accepted": False})
okta("mfa_push_fatigue", "high", okta_admins[3], "Okta Verify push bombing against a super admin",
     {"push_count": 15, "window_minutes": 5, "accepted": True})
for u in rng.sample(okta_plain, 6):
    okta("mfa_push_fatigue", "medium", u, "Repeated Okta Verify pushes", {"push_count": rng.randrange(2, 5)})
for u in rng.sample(okta_plain, 5):
    okta("mfa_push_fatigue", "low", u, "Repeated Okta Verify pushes (low)", {"push_count": rng.randrange(5, 9)})
okta("mfa_push_fatigue", "high", U("okta", f"okta-breakglass@{DOMAIN}"), "Push bombing against break glass", {"push_count": 20})

# Admin group joins.
okta("privileged_group_membership_added", "high", U("okta", f"marek.wolski@{DOMAIN}"), "User added to Okta Super Admins",
     {"group": "Okta Super Admins", "actor": "api-token:legacy-sync"})
okta("privileged_group_membership_added", "high", okta_admins[0], "User added to Okta Super Admins (approved)",
     {"group": "Okta Super Admins", "request_id": "REQ-77120"})
helpdesk = pick("okta", lambda u: has(u, "groups", "Okta Help Desk Admins"))
okta("privileged_group_membership_added", "medium", helpdesk[0], "User added to Okta Help Desk Admins (imported from AD)",
     {"group": "Okta Help Desk Admins", "actor": "AD import"})

# Leaked credentials (ThreatInsight).
for u in rng.sample(okta_plain, 4):
    okta("leaked_credentials", "high", u, "Credentials seen in an infostealer log", {"password_valid": True})
okta("leaked_credentials", "high", U("okta", f"svc-scim-workday@{DOMAIN}"), "API integration credentials leaked",
     {"password_valid": True})

# Noise.
for _ in range(30):
    t = rng.choice(["new_device_sign_in", "password_spray", "policy_evaluation_deny", "brute_force"])
    okta(t, "low", rng.choice(okta_plain + okta_admins), t.replace("_", " ").capitalize(), {"ip": ip()})
for login in ["jane.roe@corp.example.com", "contractor42@corp.example.com", "sales-demo@corp.example.com"]:
    okta("suspicious_sign_in", "high", {"provider": "okta", "name": login}, "High-confidence suspicious sign-in",
         {"confidence": "high"})

# --- Posture scanner (all providers), JSON array -------------------------------------------------------
POSTURE = "posture-scan.json"
scan_time = datetime(2026, 11, 19, 23, 0, tzinfo=timezone.utc)


def posture(type_, severity, u_or_subject, title, attributes=None, style="id"):
    subject = u_or_subject if "display_name" not in u_or_subject else subject_for(u_or_subject, style)
    return emit(POSTURE, "posture-scanner", lambda n: f"PS-20261119-{n:05d}", type_, severity, subject, title,
                attributes, kind="posture", when=scan_time + timedelta(seconds=7 * counters.get("posture-scanner", 0)))


# Weak passwords (AD).
for sam in ["adm-aarcher", "adm-dbrooks", "t0-ops1", "svc-backup", "bg-ad-01", "adm-fdiaz"]:
    posture("weak_password", "high", U("ad", sam), "Privileged account password in breach corpus",
            {"reason": "breached", "last_set_days": rng.randrange(200, 900)})
helpdesk_ad = pick("ad", lambda u: has(u, "groups", "Helpdesk Operators") and u.get("enabled", True))
for u in helpdesk_ad[:2]:
    posture("weak_password", "medium", u, "Helpdesk operator with a short password", {"reason": "too_short", "length": 8})
posture("weak_password", "low", U("ad", "adm-bkent"), "Admin password older than a year", {"reason": "age"})
for u in rng.sample(ad_plain, 26):
    posture("weak_password", "medium", u, "Password in breach corpus", {"reason": rng.choice(["breached", "reused_breached"])},
            style=rng.choice(["id", "name"]))
for u in rng.sample(ad_plain, 18):
    posture("weak_password", "medium", u, "Weak password", {"reason": rng.choice(["too_short", "common_word", "no_complexity"])},
            style="name")
for u in rng.sample(ad_plain, 22):
    posture("weak_password", "low", u, "Password never changed", {"reason": "age"}, style="name")
for sam in ["svc-sql01", "svc-exch"]:
    posture("weak_password", "high", U("ad", sam), "Service account password in breach corpus", {"reason": "breached"})
for u in pick("ad", lambda u: not u.get("enabled", True) and not u.get("tags"))[:3]:
    posture("weak_password", "medium", u, "Disabled account with a breached password", {"reason": "breached"})

# AD hygiene the rule set does not act on.
for u in [U("ad", s) for s in ["svc-sql01", "svc-sql02", "svc-web", "svc-exch", "svc-scan"]]:
    posture("kerberoastable_account", "medium", u, "Account with an SPN and RC4 enabled", {"spn_count": rng.randrange(1, 4)})
for u in rng.sample(ad_plain, 12):
    posture("password_never_expires", "low", u, "Password never expires", {})
for u in rng.sample(ad_plain, 10):
    posture("stale_account", "low", u, "No logon for 120 days", {"days_inactive": rng.randrange(91, 400)})

# Entra: stale role assignments.
for name, days in [("admin.hugo", 142), ("admin.sven", 205), ("admin.tess", 96), ("admin.omar", 310), ("admin.carol", 188),
                   ("admin.bruno", 121)]:
    posture("stale_role_assignment", "medium", U("entra", name), "Standing privileged role not used", {"days_unused": days})
for name, days in [("admin.paul", 45), ("admin.lena", 88), ("admin.alice", 12)]:
    posture("stale_role_assignment", "medium", U("entra", name), "Standing privileged role recently used", {"days_unused": days})
posture("stale_role_assignment", "medium", U("entra", "breakglass01"), "Break-glass role not used", {"days_unused": 365})
posture("stale_role_assignment", "low", U("entra", "svc.responseengine"), "Engine role not used interactively", {"days_unused": 200})
posture("stale_role_assignment", "low", U("entra", "svc.scanner"), "Scanner role not used interactively", {"days_unused": 400})
readers = pick("entra", lambda u: has(u, "roles", "Reports Reader") and not u["name"].startswith("admin."))
for u in readers[:3]:
    posture("stale_role_assignment", "low", u, "Reader role not used", {"days_unused": 150})

# Entra: admins without phishing-resistant MFA.
for name in ["admin.alice", "admin.carol", "admin.iris", "admin.jonas", "admin.quinn", "admin.max", "admin.nora",
             "admin.kim", "breakglass02"]:
    posture("admin_without_phishing_resistant_mfa", "high", U("entra", name), "Admin without phishing-resistant MFA",
            {"registered_methods": rng.choice([["microsoftAuthenticatorPush"], ["sms", "microsoftAuthenticatorPush"]])})

# Entra: privileged accounts outside the MFA policy; plus the baseline rollout list.
for u in pick("entra", lambda u: has(u, "roles", "Helpdesk Administrator"))[:4] + [U("entra", "admin.omar"), U("entra", "breakglass01"),
                                                                                  U("entra", "svc.responseengine")]:
    posture("mfa_not_enforced", "medium", u, "Privileged account not covered by an MFA policy", {"policy_gap": "excluded_group"})
for u in rng.sample(entra_plain, 20):
    posture("mfa_not_enforced", "low", u, "User not covered by an MFA policy", {"policy_gap": "not_targeted"})
for u in [U("entra", g) for g in ENTRA_GUESTS[:5]]:
    posture("mfa_not_enforced", "low", u, "Guest not covered by an MFA policy", {"policy_gap": "guests_excluded"})

# Entra/Okta hygiene not handled.
for u in rng.sample(entra_plain, 10):
    posture("legacy_auth_enabled", "low", u, "Legacy authentication allowed", {"protocols": ["IMAP", "SMTP AUTH"]})
for u in rng.sample(okta_plain, 12):
    posture("weak_mfa_factor", "low", u, "Only SMS factor enrolled", {"factors": ["sms"]}, style="name")
for u in rng.sample(okta_plain, 6):
    posture("inactive_account", "low", u, "No sign-in for 90 days", {"days_inactive": rng.randrange(90, 300)}, style="name")
# Unknown subjects in the scan.
posture("stale_role_assignment", "medium", {"provider": "entra", "id": guid()}, "Standing privileged role not used",
        {"days_unused": 400})
posture("weak_password", "medium", {"provider": "ad", "id": guid()}, "Password in breach corpus", {"reason": "breached"})
posture("weak_mfa_factor", "low", {"provider": "okta", "name": "temp.admin@corp.example.com"}, "Only SMS factor enrolled", {})

# --- SOC case management verdicts, NDJSON ------------------------------------------------------------
SOC = "soc-verdicts.ndjson"


def soc(type_, severity, u_or_subject, title, attributes=None, style="upn"):
    subject = u_or_subject if "display_name" not in u_or_subject else subject_for(u_or_subject, style)
    return emit(SOC, "soc-cases", lambda n: f"SOC-2026-{1200 + n}-v1", type_, severity, subject, title, attributes)


soc("false_positive_confirmed", "low", U("ad", "lmoreno"), "Case closed: false positive (travel)",
    {"disabled_by": "response-engine", "verdict": "false_positive", "case": "SOC-2026-1141"}, style="name")
soc("false_positive_confirmed", "low", U("ad", "svc-batch"), "Case closed: false positive (batch window)",
    {"disabled_by": "response-engine", "verdict": "false_positive", "case": "SOC-2026-1150"}, style="name")
soc("false_positive_confirmed", "low", U("entra", "luis.moreno"), "Case closed: false positive (travel)",
    {"disabled_by": "response-engine", "verdict": "false_positive", "case": "SOC-2026-1141"})
soc("false_positive_confirmed", "low", U("okta", f"luis.moreno@{DOMAIN}"), "Case closed: false positive (travel)",
    {"disabled_by": "response-engine", "verdict": "false_positive", "case": "SOC-2026-1141"})
soc("false_positive_confirmed", "low", U("entra", "old.user"), "Case closed: benign (offboarded user)",
    {"disabled_by": "hr-offboarding", "verdict": "false_positive", "case": "SOC-2026-1158"})
soc("false_positive_confirmed", "low", U("ad", "svc-reports"), "Case closed: retired account",
    {"disabled_by": "adm-dbrooks", "verdict": "false_positive", "case": "SOC-2026-1160"}, style="name")
soc("false_positive_confirmed", "low", U("entra", "admin.quinn"), "Case closed: benign but account stays disabled",
    {"disabled_by": "response-engine", "verdict": "benign_true_positive", "case": "SOC-2026-1161"})
for u in rng.sample(entra_plain, 4):
    soc("false_positive_confirmed", "low", u, "Case closed: false positive (account was never disabled)",
        {"disabled_by": "response-engine", "verdict": "false_positive"})
for u in rng.sample(okta_plain, 3):
    soc("case_closed", "low", u, "Case closed: no action", {"verdict": "benign"})
okta_disabled = pick("okta", lambda u: not u.get("enabled", True) and u["name"] != f"luis.moreno@{DOMAIN}")
for u in okta_disabled[:2]:
    soc("false_positive_confirmed", "low", u, "Case closed: suspended by the service desk",
        {"disabled_by": "service-desk", "verdict": "false_positive"})
soc("false_positive_confirmed", "low", {"provider": "okta", "name": "deleted.user@corp.example.com"}, "Case closed",
    {"disabled_by": "response-engine", "verdict": "false_positive"})

# ---------------------------------------------------------------------------------------------
# Write
# ---------------------------------------------------------------------------------------------

# --- Effective privilege that names alone do not show (issue #16) ---------------------------------------------------
# Added after everything else so that the accounts and findings above keep their ids.
legacy = ad_user("svc-legacy-sync", "Legacy sync (primaryGroupID 512)", ["Service Accounts"], tags=["service_account"])
legacy["primary_group"] = "Domain Admins"  # a Domain Admin by primary group: not in memberOf, held all the same
add_group("entra", "Tier0 Cloud Admins", role_assignable=True, roles=["Global Administrator"])
entra_user("admin.tier0", "Tier 0 cloud operator (GA through a role-assignable group)", f"admin.tier0@{TENANT}", groups_=["Tier0 Cloud Admins"])
pim = entra_user("admin.pim", "PIM-eligible Privileged Role Administrator", f"admin.pim@{TENANT}")
pim["eligible_roles"] = ["Privileged Role Administrator"]  # reported, never counted as held
add_group("okta", "Okta Admin Group", okta_type="OKTA_GROUP", roles=["SUPER_ADMIN"])
okta_user(f"okta.ops@{DOMAIN}", "Okta operations (SUPER_ADMIN through a group)", ["Okta Admin Group"])

directory = {
    "$schema": "../schemas/directory.schema.json",
    "version": 1,
    "generated_at": ts(GENERATED_AT),
    "groups": groups,
    "users": users,
}


def one_line(value):
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


# One group or user per line: readable, and a change to one account is a one-line diff.
with open(os.path.join(HERE, "directory.json"), "w", encoding="utf-8", newline="\n") as f:
    f.write("{\n")
    for key in ("$schema", "version", "generated_at"):
        f.write(f"  {one_line(key)}: {one_line(directory[key])},\n")
    for key, last in (("groups", False), ("users", True)):
        f.write(f"  {one_line(key)}: [\n")
        f.write(",\n".join("    " + one_line(entry) for entry in directory[key]))
        f.write("\n  ]" + ("" if last else ",") + "\n")
    f.write("}\n")

out_dir = os.path.join(HERE, "findings")
os.makedirs(out_dir, exist_ok=True)
for file, records in sorted(findings.items()):
    records.sort(key=lambda r: (r["observed_at"], r["id"]))
    with open(os.path.join(out_dir, file), "w", encoding="utf-8", newline="\n") as f:
        if file.endswith(".ndjson"):
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
        else:
            json.dump(records, f, indent=2, ensure_ascii=False)
            f.write("\n")

total = sum(len(r) for r in findings.values())
per_provider = ", ".join(f"{p} {sum(1 for u in users if u['provider'] == p)}" for p in ("ad", "entra", "okta"))
print(f"directory: {len(users)} users ({per_provider}), {len(groups)} groups")
print(f"findings: {total} in {len(findings)} files: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(findings.items())))
