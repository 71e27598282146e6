/**
 * The bundle entry of the npm package: the library (index.ts) plus the CLI's `main`, which bin/dumpsleuth.js calls.
 * Not part of the documented API.
 */
export * from './index';
export { main } from './cli/main';
