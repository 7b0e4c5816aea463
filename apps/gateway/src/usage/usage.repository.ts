import type { Database } from '@gtm/runtime';

/** The window and tenant every usage question is asked about. */
export interface UsageWindow {
  tenantId: string;
  from: Date;
  to: Date;
}

export interface RequestTotals {
  total: number;
  succeeded: number;
  failed: number;
  rateLimited: number;
  averageDurationMs: number | null;
  p95DurationMs: number | null;
}

export interface OperationTotals {
  operationName: string | null;
  operationType: string | null;
  requests: number;
  failed: number;
  averageDurationMs: number;
  p95DurationMs: number;
}

export interface LlmModelTotals {
  service: string;
  provider: string;
  model: string;
  calls: number;
  cachedCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface DailyTotals {
  day: string;
  requests: number;
  llmCalls: number;
  llmCostUsd: number;
}

/** Most operations listed by name; the rest are summed in the totals. */
const operationListLimit = 100;

// PostgreSQL returns bigint and numeric as strings; the counts here fit a JavaScript number.
const toNumber = (value: unknown): number => Number(value ?? 0);
const toNullableNumber = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/**
 * The usage queries. Every one of them takes the tenant: this schema is not under the tenant
 * filter (the key registry beside it must search across tenants), so the scope is written here.
 */
export class UsageRepository {
  constructor(
    private readonly database: Database,
    private readonly schema: string,
  ) {}

  /** Runs `sql` with the window's tenant, from and to bound to each `?`, in that order, as often as `windows` says. */
  private async rows(sql: string, window: UsageWindow, windows = 1): Promise<Array<Record<string, unknown>>> {
    const connection = this.database.orm.em.getConnection();
    const parameters = Array.from({ length: windows }, () => [window.tenantId, window.from, window.to]).flat();
    return connection.execute(sql.replaceAll('{schema}', `"${this.schema}"`), parameters, 'all');
  }

  async requestTotals(window: UsageWindow): Promise<RequestTotals> {
    const [row] = await this.rows(
      `select count(*) as total,
              count(*) filter (where outcome = 'OK') as succeeded,
              count(*) filter (where outcome = 'RATE_LIMITED') as rate_limited,
              avg(duration_ms) as average_duration_ms,
              percentile_cont(0.95) within group (order by duration_ms) as p95_duration_ms
         from {schema}.request_usage where tenant_id = ? and at >= ? and at < ?`,
      window,
    );
    const total = toNumber(row?.['total']);
    const succeeded = toNumber(row?.['succeeded']);
    return {
      total,
      succeeded,
      failed: total - succeeded,
      rateLimited: toNumber(row?.['rate_limited']),
      averageDurationMs: toNullableNumber(row?.['average_duration_ms']),
      p95DurationMs: toNullableNumber(row?.['p95_duration_ms']),
    };
  }

  async outcomes(window: UsageWindow): Promise<Array<{ outcome: string; requests: number }>> {
    const rows = await this.rows(
      `select outcome, count(*) as requests from {schema}.request_usage
        where tenant_id = ? and at >= ? and at < ? group by outcome order by requests desc, outcome`,
      window,
    );
    return rows.map((row) => ({ outcome: String(row['outcome']), requests: toNumber(row['requests']) }));
  }

  async operations(window: UsageWindow): Promise<OperationTotals[]> {
    const rows = await this.rows(
      `select operation_name, operation_type, count(*) as requests,
              count(*) filter (where outcome <> 'OK') as failed,
              avg(duration_ms) as average_duration_ms,
              percentile_cont(0.95) within group (order by duration_ms) as p95_duration_ms
         from {schema}.request_usage where tenant_id = ? and at >= ? and at < ?
        group by operation_name, operation_type
        order by requests desc, operation_name nulls last
        limit ${operationListLimit}`,
      window,
    );
    return rows.map((row) => ({
      operationName: (row['operation_name'] as string | null) ?? null,
      operationType: (row['operation_type'] as string | null) ?? null,
      requests: toNumber(row['requests']),
      failed: toNumber(row['failed']),
      averageDurationMs: toNumber(row['average_duration_ms']),
      p95DurationMs: toNumber(row['p95_duration_ms']),
    }));
  }

  async llmModels(window: UsageWindow): Promise<LlmModelTotals[]> {
    const rows = await this.rows(
      `select service, provider, model, count(*) as calls, count(*) filter (where cached) as cached_calls,
              sum(input_tokens) as input_tokens, sum(output_tokens) as output_tokens, sum(cost_usd) as cost_usd
         from {schema}.llm_usage where tenant_id = ? and at >= ? and at < ?
        group by service, provider, model
        order by cost_usd desc, calls desc, service, provider, model`,
      window,
    );
    return rows.map((row) => ({
      service: String(row['service']),
      provider: String(row['provider']),
      model: String(row['model']),
      calls: toNumber(row['calls']),
      cachedCalls: toNumber(row['cached_calls']),
      inputTokens: toNumber(row['input_tokens']),
      outputTokens: toNumber(row['output_tokens']),
      costUsd: toNumber(row['cost_usd']),
    }));
  }

  async days(window: UsageWindow): Promise<DailyTotals[]> {
    const rows = await this.rows(
      `with requests as (
              select (at at time zone 'UTC')::date as day, count(*) as requests
                from {schema}.request_usage where tenant_id = ? and at >= ? and at < ? group by 1),
            llm as (
              select (at at time zone 'UTC')::date as day, count(*) as calls, sum(cost_usd) as cost_usd
                from {schema}.llm_usage where tenant_id = ? and at >= ? and at < ? group by 1)
       select to_char(coalesce(requests.day, llm.day), 'YYYY-MM-DD') as day,
              coalesce(requests.requests, 0) as requests, coalesce(llm.calls, 0) as llm_calls, coalesce(llm.cost_usd, 0) as llm_cost_usd
         from requests full outer join llm on llm.day = requests.day
        order by 1`,
      window,
      2,
    );
    return rows.map((row) => ({
      day: String(row['day']),
      requests: toNumber(row['requests']),
      llmCalls: toNumber(row['llm_calls']),
      llmCostUsd: toNumber(row['llm_cost_usd']),
    }));
  }
}
