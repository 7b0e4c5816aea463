import type { ApolloServerPlugin } from '@apollo/server';
import { RequestErrorCode, type Logger } from '@gtm/runtime';
import { GraphQLError, Kind, type DocumentNode } from 'graphql';

export interface OperationResolutionOptions<Context> {
  loggerOf: (context: Context) => Logger;
}

function operationNamesOf(document: DocumentNode): string[] {
  return document.definitions.flatMap((definition) => (definition.kind === Kind.OPERATION_DEFINITION ? [definition.name?.value ?? '(anonymous)'] : []));
}

/** Why no operation of a valid document could be picked, as the client should read it. */
export function operationResolutionMessage(document: DocumentNode, operationName: string | undefined): string {
  const names = operationNamesOf(document);
  const listed = names.map((name) => `"${name}"`).join(', ');
  if (operationName) {
    return `Unknown operation named "${operationName}": this document defines ${names.length === 1 ? 'the operation' : 'the operations'} ${listed}. Send one of them as operationName.`;
  }
  if (names.length > 1) return `This document defines ${names.length} operations (${listed}): name the one to run in operationName.`;
  return 'This document defines no operation to run: send a query, mutation or subscription.';
}

/**
 * GraphQL over HTTP makes a document whose operation cannot be determined (an unknown
 * `operationName`, or several operations and none named) a request error: 400, nothing executed.
 * Apollo Server leaves the operation unset and lets the gateway's executor throw, which came out
 * as an unlogged 500. This plugin must come first, before any plugin that reads the operation.
 */
export function useOperationResolution<Context extends object>(options: OperationResolutionOptions<Context>): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request, contextValue }) {
          if (operation) return;
          const message = operationResolutionMessage(document, request.operationName);
          options.loggerOf(contextValue).info({ operationName: request.operationName, code: RequestErrorCode.OperationResolutionFailure }, 'refused a request whose operation could not be determined');
          throw new GraphQLError(message, { extensions: { code: RequestErrorCode.OperationResolutionFailure, http: { status: 400 } } });
        },
      };
    },
  };
}
