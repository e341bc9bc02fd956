'use strict';
// /usr/bin/picket runs this with whatever node it found. picket needs Node.js 20 or later (package.json engines);
// an older one (Debian 12's own nodejs is 18) is named here instead of failing somewhere inside. Written for any
// node version, so that the check itself always runs.
var major = Number(process.versions.node.split('.')[0]);
if (!(major >= 20)) {
  process.stderr.write('picket: needs Node.js 20 or later, but ' + process.execPath + ' is ' + process.version +
    ': install Node.js 20 or later, or set PICKET_NODE=/path/to/node\n');
  process.exit(2);
}
require('./bin/picket.js');
