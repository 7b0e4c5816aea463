export * from './column-mapping.js';
export * from './csv-errors.js';
export * from './csv-reader.js';
export * from './csv-writer.js';
export * from './delimiter.js';
export * from './encoding.js';
export * from './header.js';
