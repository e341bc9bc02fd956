// picket's linter: the layering of src/ and no import cycles, checked in CI (npm run lint, part of npm test).
//
// Imports run one way, from the command line down to a leaf core:
//   cli -> engine -> (alert, output, config) -> detectors (scan, recon, intel) -> (app, flow, decode, capture) -> core
// core and util import nothing else of picket; nothing imports cli.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const zone = (target, from, message, except) => ({ target, from, message, ...(except ? { except } : {}) });
const below = (dirs) => dirs.map((d) => `./src/${d}`);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'build/**', 'bench/data/**', 'eslint.config.mjs'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { projectService: false } },
    plugins: { 'import-x': importX, '@typescript-eslint': tseslint.plugin },
    settings: {
      'import-x/resolver': { typescript: { project: './tsconfig.json' }, node: true },
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-restricted-paths': ['error', {
        zones: [
          zone('./src/core', './src', 'src/core is the leaf: it imports nothing else of picket', ['./core']),
          zone('./src/util', './src', 'src/util is a leaf: it imports nothing else of picket', ['./util']),
          zone(below(['decode', 'app', 'flow', 'capture']), below(['engine', 'cli', 'alert', 'output', 'config', 'scan', 'recon', 'intel']),
            'decoders, app-layer parsers, flows and capture sit below the detectors, alerting, output, config and the engine'),
          zone(below(['scan', 'recon', 'intel', 'alert']), below(['engine', 'cli', 'output']),
            'detectors and ECS shaping do not reach up into the engine, the outputs or the command line'),
          zone(below(['engine', 'alert', 'output', 'config', 'scan', 'recon', 'intel', 'decode', 'app', 'flow', 'capture', 'core', 'util', 'report']), './src/cli',
            'nothing imports the command line'),
          zone(below(['report']), below(['engine', 'scan', 'recon', 'intel', 'decode', 'app', 'flow', 'capture', 'config']),
            'the analyst\'s view reads the documents picket wrote, never the engine\'s state'),
        ],
      }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-require-imports': 'error',
      'no-control-regex': 'error',
    },
  },
);
