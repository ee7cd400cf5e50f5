#!/bin/sh
# syncd's postremove, for the .deb (postrm: "remove", "purge", "upgrade"…)
# and the .rpm (%postun: 0 on removal, 1 or more on upgrade).
#
# It tells a running systemd that the units are gone. The state files in
# /var/lib/syncd (with DynamicUser=, /var/lib/private/syncd) and the secrets
# in /etc/credstore are the operator's: they are never removed. dpkg --purge
# removes /etc/syncd/syncd.env itself.
set -e

case "$1" in
  remove | purge | 0) ;;
  *) exit 0 ;;
esac

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
