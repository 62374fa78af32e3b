import { fileURLToPath } from 'node:url';

/** The package root: src/ and dist/ are both one level below it. */
export const packageRoot = fileURLToPath(new URL('..', import.meta.url));
export const viewsDir = fileURLToPath(new URL('../views', import.meta.url));
export const assetsDir = fileURLToPath(new URL('../assets', import.meta.url));
