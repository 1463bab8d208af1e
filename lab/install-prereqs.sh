#!/bin/sh
# Install what the lab and the lab tests need on a Debian/Ubuntu machine (CI runners included).
# Run as root. openssh-server + sudo: the transport tests start their own sshd on loopback and
# test sudo with a password; tmux: the TUI is checked in a real terminal; curl/psql clients are
# used by role tests from the controller's lab namespace.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  debootstrap systemd-container socat openssh-client openssh-server sudo iproute2 mount \
  ca-certificates bash tmux curl netcat-openbsd busybox
# ansible-core: test/unit/inventory/ansible-compat.test.ts compares with the real ansible-inventory.
apt-get install -y --no-install-recommends ansible-core
