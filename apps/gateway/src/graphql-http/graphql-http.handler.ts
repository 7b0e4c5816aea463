import { HeaderMap, type ApolloServer, type BaseContext, type ContextFunction } from '@apollo/server';
import type { Request, RequestHandler, Response } from 'express';

export interface GraphqlHttpHandlerOptions<Context extends BaseContext> {
  context: ContextFunction<[{ req: Request; res: Response }], Context>;
  /**
   * Runs once Apollo has its answer and before any of it is written. Resolves false when it has
   * answered the request itself (a 429 that wins over whatever Apollo would have said).
   */
  beforeAnswer: (request: Request, response: Response) => Promise<boolean>;
}

/**
 * Apollo Server on Express, as `@as-integrations/express5`'s `expressMiddleware` mounts it, with
 * one addition that package has no place for: a step that may answer in Apollo's place after
 * Apollo has worked out its answer. The rate limit uses it, so Apollo parses, validates and plans
 * while Redis decides, and a refused caller still learns only that it is refused.
 */
export function graphqlHttpHandler<Context extends BaseContext>(apollo: ApolloServer<Context>, options: GraphqlHttpHandlerOptions<Context>): RequestHandler {
  apollo.assertStarted('graphqlHttpHandler()');
  return async (request, response) => {
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const queryStart = request.url.indexOf('?');
    const answer = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: request.method.toUpperCase(),
        headers,
        search: queryStart === -1 ? '' : request.url.slice(queryStart),
        // Undefined when the body was not JSON (another content type, or none): Apollo answers that itself.
        body: request.body,
      },
      context: () => options.context({ req: request, res: response }),
    });
    if (!(await options.beforeAnswer(request, response))) return;
    for (const [name, value] of answer.headers) response.setHeader(name, value);
    response.statusCode = answer.status ?? 200;
    if (answer.body.kind === 'complete') {
      response.send(answer.body.string);
      return;
    }
    for await (const chunk of answer.body.asyncIterator) {
      response.write(chunk);
      const flushable = response as Response & { flush?: () => void };
      if (typeof flushable.flush === 'function') flushable.flush();
    }
    response.end();
  };
}
