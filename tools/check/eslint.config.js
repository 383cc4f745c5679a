// ESLint for Maestro (run by scripts/check.mjs from the repository root). Type-aware rules
// from typescript-eslint, on TypeScript 6 (tools/check has its own node_modules).
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import comments from '@eslint-community/eslint-plugin-eslint-comments/configs';
import tseslint from 'typescript-eslint';

const root = fileURLToPath(new URL('../..', import.meta.url));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'tools/**', 'bench/peer/**', 'scripts/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.json'], tsconfigRootDir: root },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Reconcilers, cleaners and handlers implement async interfaces; many need no await.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true,
      }],
    },
  },
  {
    files: ['test/**/*.ts'],
    // chai's property assertions (`expect(x).to.be.empty`) are expressions.
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  comments.recommended,
  {
    rules: {
      // Every eslint-disable says why, on the same line (`-- reason`).
      '@eslint-community/eslint-comments/require-description': 'error',
      '@eslint-community/eslint-comments/disable-enable-pair': ['error', { allowWholeFile: true }],
    },
  },
);
