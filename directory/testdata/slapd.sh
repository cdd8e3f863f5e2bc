#!/bin/sh
# slapd.sh PORT [DIR] — run a throwaway OpenLDAP slapd in the foreground on
# 127.0.0.1:PORT for reposentry's directory tests, seeded from seed.ldif
# with the AD-shaped ad.schema. DIR holds the config and database (a new
# temporary directory when omitted, removed on exit).
#
# Suffix dc=corp,dc=example; root DN and password are $ROOTDN and $ROOTPW
# (defaults below). Needs Debian's slapd package (and ldap-utils for
# debugging by hand):
#   DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils
# With TLS_CERT and TLS_KEY (PEM files) set, the server also offers
# StartTLS, and with LDAPS_PORT it listens for ldaps:// there too.
# The process execs slapd, so signalling it stops the server.
set -eu

port=${1:?usage: slapd.sh PORT [DIR]}
here=$(cd "$(dirname "$0")" && pwd)
ROOTDN=${ROOTDN:-cn=admin,dc=corp,dc=example}
ROOTPW=${ROOTPW:-reposentry-test}
SLAPD=${SLAPD:-$(command -v slapd || echo /usr/sbin/slapd)}
SLAPADD=${SLAPADD:-$(command -v slapadd || echo /usr/sbin/slapadd)}
[ -x "$SLAPD" ] || { echo "slapd.sh: slapd not found; install it: apt-get install -y slapd ldap-utils" >&2; exit 127; }

if [ $# -ge 2 ]; then
	dir=$2
	mkdir -p "$dir"
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/reposentry-slapd.XXXXXX")
	trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir/db"

schema=/etc/ldap/schema
modules=/usr/lib/ldap
# Debian builds back_mdb as a module; other builds link it in.
modload=""
[ -e "$modules/back_mdb.so" ] && modload="modulepath $modules
moduleload back_mdb"

tls=""
urls="ldap://127.0.0.1:$port/"
if [ -n "${TLS_CERT:-}" ]; then
	tls="TLSCertificateFile $TLS_CERT
TLSCertificateKeyFile ${TLS_KEY:?TLS_KEY must go with TLS_CERT}"
	if [ -n "${LDAPS_PORT:-}" ]; then
		urls="$urls ldaps://127.0.0.1:$LDAPS_PORT/"
	fi
fi

cat >"$dir/slapd.conf" <<CONF
include $schema/core.schema
include $schema/cosine.schema
include $schema/inetorgperson.schema
include $here/ad.schema
pidfile $dir/slapd.pid
$modload
$tls

database mdb
maxsize 67108864
suffix "dc=corp,dc=example"
rootdn "$ROOTDN"
rootpw "$ROOTPW"
directory $dir/db
index objectClass eq
index member,memberOf eq
CONF

"$SLAPADD" -q -f "$dir/slapd.conf" -l "$here/seed.ldif"

# Foreground (-d 0) so that the caller owns the process; without the trap's
# shell in the way when no cleanup is needed.
if [ $# -ge 2 ]; then
	exec "$SLAPD" -d 0 -f "$dir/slapd.conf" -h "$urls"
fi
"$SLAPD" -d 0 -f "$dir/slapd.conf" -h "$urls" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
wait $pid
