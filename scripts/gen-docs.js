#!/usr/bin/env node
'use strict';
// Writes the man page and the bash completion from the option tables (src/cli/commands.ts, compiled into dist).
// `npm run docs` writes them to packaging/, where they are committed (test/docs.test.ts checks they are current);
// scripts/build-deb.sh writes them straight into the package tree. Usage: node scripts/gen-docs.js [OUTDIR]
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const outDir = path.resolve(process.argv[2] ?? path.join(root, 'packaging'));
let docs;
try {
  docs = require(path.join(root, 'dist', 'src', 'cli', 'docs.js'));
} catch (e) {
  process.stderr.write(`gen-docs: ${e.message}\ngen-docs: compile first: npx tsc -p tsconfig.json\n`);
  process.exit(1);
}
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'picket.1'), docs.manPage(pkg.version, pkg.description));
fs.writeFileSync(path.join(outDir, 'picket.bash-completion'), docs.bashCompletion());
process.stdout.write(`gen-docs: wrote ${path.join(outDir, 'picket.1')} and ${path.join(outDir, 'picket.bash-completion')}\n`);
