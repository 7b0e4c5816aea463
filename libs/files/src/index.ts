export * from './csv-staging.js';
export * from './file-errors.js';
export * from './file-links.js';
export * from './file-routes.js';
export * from './file-ticket.js';
export * from './http-headers.js';
export * from './upload-ledger.js';
