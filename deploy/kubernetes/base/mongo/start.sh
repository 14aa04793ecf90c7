#!/bin/bash
# One member of the replica set, with access control on: members prove themselves to each other
# with the key file (Secret linkmesh-database, key mongo-keyfile), clients with their users.
# On the first member (mongo-0), init.js sets up the replica set and the users in the background.
set -euo pipefail
install -m 0400 /etc/mongo-keyfile/keyfile /tmp/keyfile
if [ "${HOSTNAME##*-}" = "0" ]; then
  (
    until mongosh --quiet --eval 'db.adminCommand("ping").ok' >/dev/null 2>&1; do sleep 2; done
    mongosh --quiet /scripts/init.js
  ) &
fi
exec mongod --replSet rs0 --bind_ip_all --auth --keyFile /tmp/keyfile
