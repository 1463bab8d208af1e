#!/bin/sh
# run.sh: start the app with the managed configuration
set -eu
here=$(dirname "$0")
exec env APP_CONF="$here/../etc/app.conf" sleep 0
