#!/bin/sh
# /usr/bin/picket: runs the packaged picket with Node.js 20 or later. The package does not depend on a nodejs
# package (Debian 12's own is 18, too old; Node 20 often comes from NodeSource or a /usr/local install that dpkg
# does not know), so the node is found here: $PICKET_NODE, else node on the PATH.
node=${PICKET_NODE:-}
if [ -z "$node" ]; then
  node=$(command -v node 2>/dev/null) || node=
fi
if [ -z "$node" ] || [ ! -x "$node" ]; then
  echo "picket: no node found${PICKET_NODE:+ at PICKET_NODE=$PICKET_NODE}: install Node.js 20 or later (node on the PATH), or set PICKET_NODE=/path/to/node" >&2
  exit 2
fi
exec "$node" /usr/lib/picket/launch.js "$@"
