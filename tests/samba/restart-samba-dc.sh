#!/usr/bin/env bash
# restart-samba-dc.sh TARGET_DIR ADMIN_PASSWORD
#
# Starts again the samba of a DC that start-samba-dc.sh provisioned into TARGET_DIR and that has since stopped (or was
# killed): same database, same configuration and certificates. Waits until LDAPS answers a bind, records the new PID in
# TARGET_DIR/samba.pid, and prints it on stdout. Refuses when the recorded samba is still running.
# Optional environment: MAX_RUNTIME seconds (3600), READY_TIMEOUT seconds (60).
# Used by the reliability suite to bring a DC back after stopping it mid-run; see docs/reliability.md.
set -euo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 TARGET_DIR ADMIN_PASSWORD" >&2; exit 2; fi
TARGET=$(cd "$1" && pwd -P)
ADMINPASS=$2
MAX_RUNTIME=${MAX_RUNTIME:-3600}
READY_TIMEOUT=${READY_TIMEOUT:-60}
CONF="$TARGET/etc/smb.conf"
log() { echo "[restart-samba-dc $(date +%T.%3N)] $*" >&2; }
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

[ -f "$CONF" ] && [ -f "$TARGET/env.sh" ] || { log "$TARGET was not provisioned by start-samba-dc.sh"; exit 1; }
# shellcheck disable=SC1091
. "$TARGET/env.sh"     # LDAP_URI, BASE_DN, REALM
OLD=$(tr -dc 0-9 < "$TARGET/samba.pid" 2>/dev/null || true)
if [ -n "$OLD" ] && alive "$OLD"; then
  case "$(readlink "/proc/$OLD/exe" 2>/dev/null || true)" in
    */samba) log "samba pid $OLD of $TARGET is still running"; exit 1 ;;
  esac
fi
rm -f "$TARGET/run/samba.pid"

setsid samba -s "$CONF" -F -M single --maximum-runtime="$MAX_RUNTIME" \
  </dev/null >>"$TARGET/log/samba.stdout" 2>&1 &
SPID=$!
echo "$SPID" > "$TARGET/samba.pid"

deadline=$(( $(date +%s) + READY_TIMEOUT ))
until LDAPTLS_CACERT="$TARGET/tls/ca.crt" LDAPTLS_REQCERT=demand \
      ldapsearch -LLL -o nettimeout=2 -H "$LDAP_URI" -x -D "Administrator@$REALM" -w "$ADMINPASS" \
        -b "$BASE_DN" -s base dn >/dev/null 2>&1; do
  if ! alive "$SPID"; then
    log "samba exited early; last log lines:"; tail -n 30 "$TARGET/log/samba.log" >&2 || true
    exit 1
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "LDAPS not ready after ${READY_TIMEOUT}s; stopping samba"; kill "$SPID" 2>/dev/null || true; exit 1
  fi
  sleep 0.1
done
OWN=$(tr -dc 0-9 < "$TARGET/run/samba.pid" 2>/dev/null || true)
if [ -n "$OWN" ] && [ "$OWN" != "$SPID" ]; then SPID=$OWN; echo "$SPID" > "$TARGET/samba.pid"; fi
sed -i "s/^export SAMBA_DC_PID=.*/export SAMBA_DC_PID='$SPID'/" "$TARGET/env.sh"
log "LDAPS ready again (samba pid $SPID)"
echo "$SPID"
