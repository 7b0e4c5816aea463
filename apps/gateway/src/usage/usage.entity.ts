import { randomUUID } from 'node:crypto';
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/**
 * One authenticated request to /graphql, refusals included (a 429 is usage too). Requests
 * without a valid key belong to no tenant and are only counted in the Prometheus metrics.
 */
@Entity({ tableName: 'request_usage' })
@Index({ properties: ['tenantId', 'at'] })
export class RequestUsage {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'uuid' })
  tenantId!: string;

  @Property({ type: 'uuid' })
  apiKeyId!: string;

  @Property({ type: 'text' })
  requestId!: string;

  /** As the client named it; null for an anonymous operation or a request refused before parsing. */
  @Property({ type: 'text', nullable: true })
  operationName: string | null = null;

  /** query, mutation or subscription; null when the request never got that far. */
  @Property({ type: 'text', nullable: true })
  operationType: string | null = null;

  /** OK, or the first error's `extensions.code` (RATE_LIMITED, BAD_USER_INPUT …). */
  @Property({ type: 'text' })
  outcome!: string;

  @Property({ type: 'smallint' })
  httpStatus!: number;

  @Property({ type: 'real' })
  durationMs!: number;

  @Property({ type: 'datetime' })
  at!: Date;
}

/** One model call made by a service on a tenant's behalf, ingested from the usage stream. */
@Entity({ tableName: 'llm_usage' })
@Index({ properties: ['tenantId', 'at'] })
export class LlmUsage {
  /** The id the service gave the call: a report delivered twice is stored once. */
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  tenantId!: string;

  @Property({ type: 'text', nullable: true })
  apiKeyId: string | null = null;

  @Property({ type: 'text', nullable: true })
  requestId: string | null = null;

  @Property({ type: 'text' })
  service!: string;

  @Property({ type: 'text' })
  task!: string;

  @Property({ type: 'text' })
  provider!: string;

  @Property({ type: 'text' })
  model!: string;

  @Property({ type: 'integer' })
  inputTokens!: number;

  @Property({ type: 'integer' })
  outputTokens!: number;

  @Property({ type: 'decimal', precision: 14, scale: 8 })
  costUsd!: string;

  @Property({ type: 'real' })
  latencyMs!: number;

  @Property({ type: 'boolean' })
  cached!: boolean;

  @Property({ type: 'text' })
  outcome!: string;

  @Property({ type: 'datetime' })
  at!: Date;
}
