import { registerEnumType } from 'type-graphql';
import { JobStatus } from './job.entity.js';

// Registered once, here: every subgraph that shows a job's status (enrichment, the gateway's job
// progress) shares the one enum, and composition sees identical definitions.
registerEnumType(JobStatus, { name: 'JobStatus', description: 'Where a background job stands.' });
