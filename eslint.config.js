// Type-checked lint that encodes the architecture: no floating promises, no console in packages,
// exhaustive switches, and the import rules of eslint.architecture.js (package direction, the
// gateway and the engine apart, scene-thread code kept to the ring and the scene API).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import architecture from './eslint.architecture.js';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/generated/**', '**/generated-config/**', 'packages/schema/test/generated/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/describe() return promises the runner itself tracks.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // Async methods that implement a Promise-returning interface need no await.
      '@typescript-eslint/require-await': 'off',
      // Option errors show whatever the caller passed, String() of unknown input included.
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      'no-restricted-imports': ['error', { patterns: [{ group: ['@gos/*/*'], message: 'Import a package through its entry (@gos/<name>), never its internals.' }] }],
    },
  },
  // Process entries and tests may write to the console.
  { files: ['**/bin/**', '**/test/**', 'scripts/**'], rules: { 'no-console': 'off' } },
  // Tests keep the rules that catch real mistakes (floating promises above all), not the ones
  // about API hygiene: they pass methods around, rethrow captured failures, destructure events.
  {
    files: ['**/test/**'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      'prefer-const': 'off',
      'no-useless-assignment': 'off',
    },
  },
  // A client socket's state is read through connOf()/userData() (socket.ts): uWS copies user data
  // onto the socket object, and the gateway keeps it one property deep so both stay fast objects.
  {
    files: ['packages/gateway/src/**/*.ts'],
    ignores: ['packages/gateway/src/socket.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.property.name='getUserData']", message: 'Read a socket\'s state with connOf(ws) or userData(ws) from socket.ts.' }],
    },
  },
  // Package direction, gateway ↮ engine, scene-thread imports: eslint.architecture.js.
  ...architecture,
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
