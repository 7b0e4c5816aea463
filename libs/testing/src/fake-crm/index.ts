export * from './fake-crm-server.js';
export * from './hubspot.js';
export * from './close.js';
export * from './pipedrive.js';
export * from './gohighlevel.js';
export * from './salesforce.js';
