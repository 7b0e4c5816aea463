export * from './caller-context.js';
export * from './caller-token.js';
export * from './relay-token.js';
