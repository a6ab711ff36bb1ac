// ESLint flat config: typescript-eslint's recommended rules everywhere, plus determinism rules for code that runs
// inside Durable orchestrators, where a clock read, a random number, a timer or I/O breaks replay: all of
// orchestrations/** and the interactive driver (core/driver.ts), and, in every file, each function passed to
// interactive() or loop() (lint-rules/determinism.mjs).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import determinism, { FORBIDDEN_GLOBALS, FORBIDDEN_MODULES, FORBIDDEN_PROPERTIES, WHY as why } from './lint-rules/determinism.mjs';

// Absolute paths of a particular machine: Unix roots where files of one machine live, and Windows drive paths.
const MACHINE_PATH = String.raw`/^(\/(tmp|var|home|root|usr|opt|etc|mnt|srv|snap|Users|Applications|private)(\/|$)|[A-Za-z]:[\\\/])/`;
const MACHINE_PATH_WHY = 'An absolute machine path in a test is not on a fresh machine: use a folder made under os.tmpdir(), or a path relative to the test file.';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      // Input validators match control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests run on fresh machines (CI, a new clone, macOS, Windows): a path of the machine they were written on
    // (/tmp/smokeapp once) is not there. Use folders made under os.tmpdir(), or paths relative to the test file.
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: `Literal[value=${MACHINE_PATH}]`, message: MACHINE_PATH_WHY },
        { selector: `TemplateElement[value.raw=${MACHINE_PATH}]`, message: MACHINE_PATH_WHY },
      ],
    },
  },
  {
    files: ['orchestrations/**/*.ts', 'core/driver.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: `new Date() without an argument ${why}` },
        { selector: "CallExpression[callee.name='Date']", message: `Date() ${why}` },
        { selector: 'AwaitExpression', message: `await ${why} Yield Durable tasks instead.` },
        { selector: 'FunctionDeclaration[async=true], ArrowFunctionExpression[async=true], FunctionExpression[async=true]', message: `async functions ${why} Yield Durable tasks instead.` },
      ],
      'no-restricted-globals': ['error', ...FORBIDDEN_GLOBALS.map((name) => ({ name, message: `${name} ${why}` }))],
      'no-restricted-properties': [
        'error',
        ...FORBIDDEN_PROPERTIES.map(({ object, property, name, fix }) => ({ object, property, message: `${name} ${why}${fix ? ` ${fix}` : ''}` })),
      ],
      'no-restricted-imports': ['error', { paths: FORBIDDEN_MODULES.map((name) => ({ name, message: `${name} ${why}`, allowTypeImports: true })) }],
    },
  },
  {
    // Game code that runs inside an orchestrator wherever it is written: the functions passed to interactive() and
    // loop() (start and round), functions nested in them, and functions of the same file they call.
    files: ['**/*.ts'],
    plugins: { determinism },
    rules: { 'determinism/orchestrator-bodies': 'error' },
  },
);
