import { createClient, type Client, type FormattedExecutionResult, type SubscribePayload } from 'graphql-ws';
import WebSocket from 'ws';

/** The WebSocket URL of a GraphQL HTTP endpoint (same host, port and path). */
export function webSocketUrlOf(graphqlUrl: string): string {
  return graphqlUrl.replace(/^http/, 'ws');
}

/**
 * A graphql-ws client as an application would use it, against a gateway under test: the API key
 * in `connection_init`, no retries (a test wants to see the first failure).
 */
export function createGraphQLWebSocketClient(graphqlUrl: string, connectionParams: Record<string, unknown>, options: { lazy?: boolean } = {}): Client {
  return createClient({ url: webSocketUrlOf(graphqlUrl), webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: options.lazy ?? true, onNonLazyError: () => {} });
}

export interface SubscriptionUnderTest<Data = Record<string, any>> {
  /** Every result, in the order they arrived. */
  results: FormattedExecutionResult<Data>[];
  /** Resolves once the server completed the operation, or with what ended it otherwise. */
  ended: Promise<{ completed: boolean; error?: unknown }>;
  /** Resolves once `count` results have arrived (or the operation ended before that). */
  received(count: number): Promise<FormattedExecutionResult<Data>[]>;
  /** Completes the operation from the client's side. */
  stop(): void;
}

/** Starts an operation over the client's socket and records what comes back. */
export function subscribeForTest<Data = Record<string, any>>(client: Client, payload: SubscribePayload): SubscriptionUnderTest<Data> {
  const results: FormattedExecutionResult<Data>[] = [];
  const waiting: Array<{ count: number; resolve: () => void }> = [];
  let finish!: (outcome: { completed: boolean; error?: unknown }) => void;
  const ended = new Promise<{ completed: boolean; error?: unknown }>((resolve) => (finish = resolve));
  const wakeAll = () => {
    for (const waiter of waiting.splice(0)) waiter.resolve();
  };
  const stop = client.subscribe<Data>(payload, {
    next(result) {
      results.push(result as FormattedExecutionResult<Data>);
      for (const waiter of waiting.filter((candidate) => results.length >= candidate.count)) {
        waiting.splice(waiting.indexOf(waiter), 1);
        waiter.resolve();
      }
    },
    error(error) {
      finish({ completed: false, error });
      wakeAll();
    },
    complete() {
      finish({ completed: true });
      wakeAll();
    },
  });
  let over = false;
  void ended.then(() => (over = true));
  return {
    results,
    ended,
    received(count) {
      if (results.length >= count || over) return Promise.resolve(results);
      return new Promise((resolve) => waiting.push({ count, resolve: () => resolve(results) }));
    },
    stop,
  };
}

export interface RawWebSocketUnderTest {
  socket: WebSocket;
  /** Every message the server sent, parsed. */
  messages: Array<Record<string, any>>;
  /** Resolves with the close code and reason, once closed. */
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** Resolves with the first message (from now on or already received) that `matches`. */
  message(matches: (message: Record<string, any>) => boolean): Promise<Record<string, any>>;
}

/** A bare WebSocket speaking `graphql-transport-ws`, for sending what a well-behaved client never would. */
export async function openRawGraphQLWebSocket(graphqlUrl: string, options: { autoPong?: boolean } = {}): Promise<RawWebSocketUnderTest> {
  const socket = new WebSocket(webSocketUrlOf(graphqlUrl), 'graphql-transport-ws', { autoPong: options.autoPong ?? true });
  const messages: Array<Record<string, any>> = [];
  const listeners: Array<() => void> = [];
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Record<string, any>);
    for (const listener of listeners.splice(0)) listener();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const message = async (matches: (candidate: Record<string, any>) => boolean): Promise<Record<string, any>> => {
    for (;;) {
      const found = messages.find(matches);
      if (found) return found;
      await new Promise<void>((resolve) => listeners.push(resolve));
    }
  };
  return { socket, messages, closed, send: (payload) => socket.send(typeof payload === 'string' ? payload : JSON.stringify(payload)), message };
}
