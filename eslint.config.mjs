// ESLint flat config: typescript-eslint's recommended rules everywhere, plus determinism rules for code that runs
// inside Durable orchestrators (orchestrations/** and the interactive driver, core/driver.ts), where a clock read,
// a random number, a timer or I/O breaks replay.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Absolute paths of a particular machine: Unix roots where files of one machine live, and Windows drive paths.
const MACHINE_PATH = String.raw`/^(\/(tmp|var|home|root|usr|opt|etc|mnt|srv|snap|Users|Applications|private)(\/|$)|[A-Za-z]:[\\\/])/`;
const MACHINE_PATH_WHY = 'An absolute machine path in a test is not on a fresh machine: use a folder made under os.tmpdir(), or a path relative to the test file.';

const why = 'is not deterministic: orchestrator code is replayed. Use context.df.currentUtcDateTime / df.newGuid(), createTimer(), or an activity.';

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
      'no-restricted-globals': [
        'error',
        ...['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'fetch', 'XMLHttpRequest', 'WebSocket', 'performance', 'crypto'].map((name) => ({ name, message: `${name} ${why}` })),
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: `Date.now() ${why}` },
        { object: 'Math', property: 'random', message: `Math.random() ${why}` },
        { object: 'process', property: 'env', message: `process.env ${why} Read settings in an activity or pass them in the input.` },
        { object: 'process', property: 'hrtime', message: `process.hrtime ${why}` },
        { object: 'performance', property: 'now', message: `performance.now() ${why}` },
        { object: 'crypto', property: 'randomUUID', message: `crypto.randomUUID() ${why}` },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: ['fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'http', 'node:http', 'https', 'node:https', 'net', 'node:net', 'crypto', 'node:crypto', 'child_process', 'node:child_process', '@azure/data-tables', 'timers', 'node:timers'].map((name) => ({
            name,
            message: `${name} ${why}`,
            allowTypeImports: true,
          })),
        },
      ],
    },
  },
);
