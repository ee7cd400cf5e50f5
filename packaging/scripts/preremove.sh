#!/bin/sh
# syncd's preremove, for the .deb (prerm: "remove", or "upgrade" on an
# upgrade) and the .rpm (%preun: 0 on removal, 1 or more on upgrade).
#
# On removal (not on an upgrade) it stops and disables syncd.service and
# every syncd@<instance>.service. The state files in /var/lib/syncd stay.
set -e

case "$1" in
  remove | 0) ;;
  *) exit 0 ;;
esac

if [ -d /run/systemd/system ]; then
  systemctl stop 'syncd.service' 'syncd@*.service' >/dev/null 2>&1 || true
fi
# Disabling needs no running systemd: it removes the [Install] symlinks.
if command -v systemctl >/dev/null 2>&1; then
  units=syncd.service
  for link in /etc/systemd/system/*.wants/syncd@*.service; do
    [ -e "$link" ] || [ -L "$link" ] || continue
    units="$units ${link##*/}"
  done
  # shellcheck disable=SC2086 # one unit name a word
  systemctl disable $units >/dev/null 2>&1 || true
fi
exit 0
