import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import spikewire from './eslint/layers.js'

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'interop-tests/results/', 'python/.venv/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly', process: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly',
        setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', performance: 'readonly',
        AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly',
        queueMicrotask: 'readonly', URL: 'readonly', Buffer: 'readonly', EventTarget: 'readonly', Event: 'readonly',
        CustomEvent: 'readonly', structuredClone: 'readonly'
      }
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      'eqeqeq': ['error', 'always', { null: 'ignore' }]
    }
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: { 'no-console': 'error' }
  }
,
  {
    files: ['src/**/*.ts'],
    plugins: { spikewire },
    rules: { 'spikewire/layers': 'error' }
  }
)
