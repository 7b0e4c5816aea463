// The request logger of a context is made only when something logs, through the copy Apollo Server
// makes of the context before running the operation.
import { describe, expect, it } from '@jest/globals';
import { ApolloServer } from '@apollo/server';
import { createLogger, type Logger } from '@gtm/runtime';
import { createTestCaller } from '@gtm/testing';
import { contextWithLoggerOnFirstUse, type GatewayContext } from './context.js';

const typeDefs = 'type Query { quiet: Boolean! loud: Boolean! }';
const resolvers = {
  Query: {
    quiet: () => true,
    loud: (_parent: unknown, _arguments: unknown, context: GatewayContext) => {
      context.logger.info('a resolver that logs');
      return true;
    },
  },
};

async function run(query: string) {
  const server = new ApolloServer<GatewayContext>({ typeDefs, resolvers });
  await server.start();
  const made: Logger[] = [];
  const caller = createTestCaller();
  let logger: Logger | undefined;
  const loggerOf = () => {
    if (!logger) {
      logger = createLogger({ service: 'context-test', level: 'silent' }).child({ requestId: caller.requestId });
      made.push(logger);
    }
    return logger;
  };
  const contextValue = contextWithLoggerOnFirstUse({ caller, callerToken: 'token', requestId: caller.requestId, deadline: performance.now() + 1_000 }, loggerOf);
  const response = await server.executeOperation({ query }, { contextValue });
  await server.stop();
  return { response, made, contextValue };
}

describe('contextWithLoggerOnFirstUse', () => {
  it('makes no logger for a request that logs nothing', async () => {
    const { response, made, contextValue } = await run('{ quiet }');
    expect(response.body.kind === 'single' && response.body.singleResult.data).toEqual({ quiet: true });
    expect(made).toHaveLength(0);
    expect(contextValue.caller.requestId).toBe(contextValue.requestId);
  });

  it('makes one logger when a resolver logs, shared with the context it was copied from', async () => {
    const { response, made, contextValue } = await run('{ loud }');
    expect(response.body.kind === 'single' && response.body.singleResult.data).toEqual({ loud: true });
    expect(made).toHaveLength(1);
    expect(contextValue.logger).toBe(made[0]);
    expect(made).toHaveLength(1);
  });
});
