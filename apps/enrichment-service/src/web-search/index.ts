export * from './brave.search.js';
export * from './serper.search.js';
export * from './web-search.js';
export * from './web-search.config.js';
export * from './web-search.errors.js';
