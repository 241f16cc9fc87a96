/** The reliability suite's world is the end-to-end tests' world. */
export * from '../support/world.js';
