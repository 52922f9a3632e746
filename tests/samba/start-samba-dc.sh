#!/usr/bin/env bash
# start-samba-dc.sh TARGET_DIR ADMIN_PASSWORD
#
# Provisions a throwaway Samba AD DC (realm TEST.LOCAL, NetBIOS domain TEST)
# into TARGET_DIR, serving only LDAP/LDAPS on 127.0.0.1:389/636, with its own
# CA + server certificate (SAN IP:127.0.0.1, DNS:localhost, DNS:dc1.test.local).
# (With BIND_IP=127.0.0.x everything below uses that address instead.)
# Starts samba in the background, waits until LDAPS answers, and prints
# the CA certificate path on stdout (the ONLY line on stdout; all progress goes
# to stderr), so:   CA=$(./start-samba-dc.sh $DC 'Passw0rd!x')
#
# Files left in TARGET_DIR:
#   etc/smb.conf          samba config
#   tls/ca.crt            CA certificate (printed on stdout)
#   tls/trust/            directory with ca.crt + OpenSSL hash link (for
#                         LdapSessionOptions.TrustedCertificatesDirectory /
#                         TLS_CACERTDIR)
#   samba.pid             PID of the samba master process (use stop-samba-dc.sh)
#   log/samba.log         samba log; log/samba.stdout: its stdout/stderr
#   env.sh                shell vars (LDAPTLS_CACERT, LDAP_URI, BASE_DN, ...)
#
# Optional environment:
#   REALM (TEST.LOCAL)  DOMAIN (TEST)  MAX_RUNTIME seconds (3600; samba exits
#   by itself after that)  READY_TIMEOUT seconds (60)  SAMBA_LOG_LEVEL (1)
#   OLD_PW_PERIOD ("old password allowed period", minutes; 0)
#   BIND_IP (127.0.0.1): another loopback address such as 127.0.0.2 allows a
#   second, independent instance on the same machine (ports 389/636 are fixed).
#   INSTALL=1 -> apt-get install the packages if samba-tool is missing.
#   PORT_WAIT seconds (0): when 389/636 are taken on BIND_IP (another test run's
#   DC), wait up to this long for them to free up instead of failing at once.
#   Must run as root (samba insists on it).
# Used by the TestKit's SambaDc fixture (tests/ResponseEngine.TestKit/ActiveDirectory);
# see docs/active-directory.md.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 TARGET_DIR ADMIN_PASSWORD" >&2
  exit 2
fi
TARGET=$1
ADMINPASS=$2
REALM=${REALM:-TEST.LOCAL}
DOMAIN=${DOMAIN:-TEST}
MAX_RUNTIME=${MAX_RUNTIME:-3600}
PORT_WAIT=${PORT_WAIT:-0}
READY_TIMEOUT=${READY_TIMEOUT:-60}
SAMBA_LOG_LEVEL=${SAMBA_LOG_LEVEL:-1}
OLD_PW_PERIOD=${OLD_PW_PERIOD:-0}
BIND_IP=${BIND_IP:-127.0.0.1}
if [ "$BIND_IP" = 127.0.0.1 ]; then IFACES=lo; else IFACES="$BIND_IP/8"; fi
HOSTNAME_DC=dc1

log() { echo "[start-samba-dc $(date +%T.%3N)] $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
T_ALL=$(now)

if [ "$(id -u)" != 0 ]; then
  log "must run as root"; exit 1
fi

# ---- 0. packages ------------------------------------------------------------
# Minimal verified set (Debian 12). samba-vfs-modules is REQUIRED (provision sets
# sysvol ACLs through vfs acl_xattr); winbind is not needed for LDAP-only use.
PKGS="samba samba-ad-provision samba-dsdb-modules samba-vfs-modules ldap-utils openssl"
if ! command -v samba-tool >/dev/null || ! command -v samba >/dev/null || ! command -v ldapsearch >/dev/null; then
  if [ "${INSTALL:-0}" = 1 ]; then
    t=$(now)
    log "installing: $PKGS"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PKGS >&2
    log "install took $(elapsed "$t") s"
  else
    log "samba-tool/samba/ldapsearch missing; run: apt-get install -y --no-install-recommends $PKGS   (or set INSTALL=1)"
    exit 1
  fi
fi

# ---- 1. sanity --------------------------------------------------------------
if [ -e "$TARGET" ] && [ -n "$(ls -A "$TARGET" 2>/dev/null)" ]; then
  log "target dir $TARGET exists and is not empty; refusing (use a fresh dir)"; exit 1
fi
# LDAP ports are fixed (389/636): one instance per loopback address
ports_taken() {
  command -v ss >/dev/null && ss -Hltn '( sport = :389 or sport = :636 )' | awk '{print $4}' \
     | grep -qE "^(\\[?::\\]?|\\*|0\\.0\\.0\\.0|${BIND_IP//./\\.}):(389|636)\$"
}
port_deadline=$(( $(date +%s) + PORT_WAIT ))
while ports_taken; do
  if [ "$(date +%s)" -ge "$port_deadline" ]; then
    log "port 389 or 636 already in use on $BIND_IP:"; ss -ltnp '( sport = :389 or sport = :636 )' >&2 || true
    exit 1
  fi
  log "port 389 or 636 in use on $BIND_IP; waiting (PORT_WAIT=${PORT_WAIT}s)"
  sleep 2
done
mkdir -p "$TARGET"
TARGET=$(cd "$TARGET" && pwd -P)    # absolute path, smb.conf needs absolute paths
mkdir -p "$TARGET"/{etc,run,log,tls/trust}

# ---- 2. provision -----------------------------------------------------------
t=$(now)
: > "$TARGET/empty.conf"            # keeps provision from reading /etc/samba/smb.conf
log "provisioning $REALM into $TARGET"
samba-tool domain provision -s "$TARGET/empty.conf" \
  --targetdir="$TARGET" \
  --realm="$REALM" --domain="$DOMAIN" \
  --server-role=dc --dns-backend=NONE \
  --adminpass="$ADMINPASS" \
  --host-name="$HOSTNAME_DC" --host-ip="$BIND_IP" \
  --option="interfaces = $IFACES" --option="bind interfaces only = yes" \
  > "$TARGET/log/provision.log" 2>&1 || { log "provision failed:"; tail -n 30 "$TARGET/log/provision.log" >&2; exit 1; }
rm -f "$TARGET/empty.conf"
log "provision took $(elapsed "$t") s"

# ---- 3. TLS: own CA + server cert with IP SAN ---------------------------------
t=$(now)
(
  cd "$TARGET/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -keyout ca.key -out ca.crt -subj "/CN=Samba Test CA $REALM" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -sha256 \
    -keyout server.key -out server.csr -subj "/CN=$HOSTNAME_DC.${REALM,,}" 2>/dev/null
  printf '%s\n' \
    "subjectAltName=IP:$BIND_IP,DNS:localhost,DNS:$HOSTNAME_DC.${REALM,,}" \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" > server.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 0x$(openssl rand -hex 8) \
    -days 825 -sha256 -extfile server.ext -out server.crt 2>/dev/null
  chmod 600 ca.key server.key       # samba refuses a key file readable by others
  rm -f server.csr server.ext
  cp ca.crt trust/ca.crt
  openssl rehash trust              # <hash>.0 link, needed by OpenSSL-based libldap
)
log "certificates took $(elapsed "$t") s"

# ---- 4. smb.conf: keep everything under TARGET, LDAP only --------------------
CONF="$TARGET/etc/smb.conf"
sed -i '/^[[:space:]]*server services[[:space:]]*=/d' "$CONF"
sed -i "/^\[global\]/a\\
\tpid directory = $TARGET/run\\
\tncalrpc dir = $TARGET/run/ncalrpc\\
\twinbindd socket directory = $TARGET/run/winbindd\\
\tntp signd socket directory = $TARGET/run/ntp_signd\\
\tlog file = $TARGET/log/samba.log\\
\tlog level = $SAMBA_LOG_LEVEL\\
\tserver services = ldap\\
\ttls enabled = yes\\
\ttls keyfile = $TARGET/tls/server.key\\
\ttls certfile = $TARGET/tls/server.crt\\
\ttls cafile = $TARGET/tls/ca.crt\\
\told password allowed period = $OLD_PW_PERIOD" "$CONF"

# ---- 5. start ---------------------------------------------------------------
t=$(now)
log "starting samba (max runtime ${MAX_RUNTIME}s)"
# setsid: own session, detached from our terminal/process group.
# stdin from /dev/null, stdout/stderr to a file: a caller doing $(...) or a CI
# pipe is not held open by samba.
setsid samba -s "$CONF" -F -M single --maximum-runtime="$MAX_RUNTIME" \
  </dev/null >"$TARGET/log/samba.stdout" 2>&1 &
SPID=$!
echo "$SPID" > "$TARGET/samba.pid"

# ---- 6. wait for LDAPS ------------------------------------------------------
BASE_DN=$(echo "$REALM" | awk -F. '{for(i=1;i<=NF;i++) printf "%sDC=%s", (i>1?",":""), tolower($i)}')
deadline=$(( $(date +%s) + READY_TIMEOUT ))
until LDAPTLS_CACERT="$TARGET/tls/ca.crt" LDAPTLS_REQCERT=demand \
      ldapsearch -LLL -o nettimeout=2 -H "ldaps://$BIND_IP:636" -x \
        -D "Administrator@$REALM" -w "$ADMINPASS" \
        -b "$BASE_DN" -s base dn >/dev/null 2>&1; do
  # (kill -0 is not enough: an exited child stays a zombie until reaped)
  if [ ! -e "/proc/$SPID" ] || grep -q '^State:[[:space:]]*Z' "/proc/$SPID/status" 2>/dev/null; then
    log "samba exited early; last log lines:"; tail -n 30 "$TARGET/log/samba.log" "$TARGET/log/samba.stdout" >&2 || true
    exit 1
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "LDAPS not ready after ${READY_TIMEOUT}s; stopping samba"
    kill "$SPID" 2>/dev/null || true
    tail -n 30 "$TARGET/log/samba.log" >&2 || true
    exit 1
  fi
  sleep 0.1
done
# samba also writes its own pid file; it is the authority (differs from $! only
# if this script is ever run with job control on, where setsid forks first)
OWN=$(tr -dc 0-9 < "$TARGET/run/samba.pid" 2>/dev/null || true)
if [ -n "$OWN" ] && [ "$OWN" != "$SPID" ]; then
  log "note: \$!=$SPID but samba reports pid $OWN; using $OWN"
  SPID=$OWN; echo "$SPID" > "$TARGET/samba.pid"
fi
log "LDAPS ready $(elapsed "$t") s after start (samba pid $SPID)"

cat > "$TARGET/env.sh" <<EOF
export SAMBA_DC_DIR='$TARGET'
export SAMBA_DC_PID='$SPID'
export LDAP_URI='ldaps://$BIND_IP:636'
export BASE_DN='$BASE_DN'
export REALM='$REALM'
export ADMIN_UPN='Administrator@$REALM'
export LDAPTLS_CACERT='$TARGET/tls/ca.crt'
export SAMBA_CA_CERT='$TARGET/tls/ca.crt'
export SAMBA_CA_DIR='$TARGET/tls/trust'
EOF
log "total $(elapsed "$T_ALL") s; source $TARGET/env.sh for LDAPTLS_CACERT etc."
echo "$TARGET/tls/ca.crt"
