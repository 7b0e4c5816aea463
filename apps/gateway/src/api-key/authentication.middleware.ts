import { unauthenticated, type Logger } from '@gtm/runtime';
import type { NextFunction, Request, Response } from 'express';
import type { ApiKeyAuthenticator, AuthenticatedKey } from './api-key.authenticator.js';

/**
 * One answer for a missing, malformed, unknown or revoked key, so a caller cannot tell which of
 * the four it was (and cannot probe for valid prefixes).
 */
const unauthenticatedBody = {
  errors: [
    unauthenticated(
      'Unauthenticated: send a valid API key as `Authorization: Bearer <key>` or `x-api-key: <key>`. Create one with `npm run apikey -- create --tenant <slug> --tier <free|pro|enterprise>`.',
    ).toJSON(),
  ],
};

/** The key a request presents: a bearer token, or the x-api-key header. */
export function presentedApiKey(headers: { authorization?: string | undefined; 'x-api-key'?: string | string[] | undefined }): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
  const headerKey = headers['x-api-key'];
  return bearer ?? (typeof headerKey === 'string' ? headerKey.trim() : undefined);
}

export function authenticatedKeyOf(response: Response): AuthenticatedKey | undefined {
  return response.locals['authenticatedKey'] as AuthenticatedKey | undefined;
}

/** Refuses every GraphQL request without a valid API key with 401 UNAUTHENTICATED. */
export function createAuthenticationMiddleware(options: { authenticator: ApiKeyAuthenticator; logger: Logger }) {
  return async (request: Request, response: Response, next: NextFunction) => {
    const authenticatedKey = await options.authenticator.authenticate(presentedApiKey(request.headers));
    if (!authenticatedKey) {
      options.logger.info({ remoteAddress: request.socket.remoteAddress }, 'refused a request without a valid API key');
      response.status(401).setHeader('WWW-Authenticate', 'Bearer realm="GTM Graph"').json(unauthenticatedBody);
      return;
    }
    response.locals['authenticatedKey'] = authenticatedKey;
    next();
  };
}
