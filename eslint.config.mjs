// ESLint flat config: typescript-eslint's recommended rules everywhere, plus determinism rules for code that runs
// inside Durable orchestrators (orchestrations/** and the interactive driver, core/driver.ts), where a clock read,
// a random number, a timer or I/O breaks replay.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
