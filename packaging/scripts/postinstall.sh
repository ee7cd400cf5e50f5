#!/bin/sh
# syncd's postinstall, for the .deb (postinst: "configure" [old version])
# and the .rpm (%post: 1 on install, 2 or more on upgrade).
#
# It does not enable or start syncd: it needs its token and a source in
# /etc/syncd/syncd.env first (see /usr/share/doc/syncd/docs/install.md). On an
# upgrade it restarts the units that were running, so that they run the new
# binary.
set -e

upgrade=no
case "$1" in
  configure) [ -n "$2" ] && upgrade=yes ;;
  [2-9] | [1-9][0-9]*) upgrade=yes ;;
esac

# The credential store the units' LoadCredential= lines look in. systemd
# reads it as root; nothing else needs to.
if [ ! -d /etc/credstore ]; then
  mkdir -p /etc/credstore
  chmod 0700 /etc/credstore
fi

# Only where systemd is the running init (not in a container or chroot).
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  if [ "$upgrade" = yes ]; then
    systemctl try-restart 'syncd.service' 'syncd@*.service' >/dev/null 2>&1 || true
  fi
fi
exit 0
