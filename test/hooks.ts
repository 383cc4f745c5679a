// Mocha root hook plugin (loaded through .mocharc.json `require`).
import 'reflect-metadata';

export const mochaHooks = {};
