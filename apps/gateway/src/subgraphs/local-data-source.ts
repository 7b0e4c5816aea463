import { LocalGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ErrorCode } from '@gtm/runtime';
import type { GraphQLFormattedError } from 'graphql';
import type { GatewayContext } from '../context.js';

/**
 * Runs the gateway's own subgraph in process. A remote subgraph's Apollo Server labels a
 * variable that does not coerce (a `from: "yesterday"`) as BAD_USER_INPUT; plain graphql-js
 * execution gives it no code, and error masking would turn it into INTERNAL_SERVER_ERROR. An
 * error with no path was raised before any field ran, so it is about the request itself.
 */
export class GatewayLocalDataSource extends LocalGraphQLDataSource<GatewayContext> {
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    const response = await super.process(options);
    if (!response.errors) return response;
    const errors: GraphQLFormattedError[] = response.errors.map((error) =>
      error.path || error.extensions?.['code'] ? error : { message: error.message, extensions: { ...error.extensions, code: ErrorCode.BadUserInput } },
    );
    return { ...response, errors };
  }
}
