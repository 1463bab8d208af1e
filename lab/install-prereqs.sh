#!/bin/sh
# Install what the lab needs on a Debian/Ubuntu machine (CI runners included). Run as root.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  debootstrap systemd-container socat openssh-client iproute2 mount ca-certificates bash
