import express, { type Express, type RequestHandler, type Response } from 'express';
import type { Logger } from '@gtm/runtime';
import type { UnsubscribeOutcome, UnsubscribeService } from './unsubscribe.service.js';

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

function page(response: Response, status: number, title: string, body: string): void {
  response
    .status(status)
    .set({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-robots-tag': 'noindex', 'referrer-policy': 'no-referrer' })
    .send(`<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title>
<style>body{font:16px system-ui;margin:3em auto;max-width:32em;padding:0 1em;color:#222}button{font:inherit;padding:.5em 1.2em}</style>
<h1>${title}</h1>${body}</html>`);
}

const invalid = (response: Response) => page(response, 400, 'This link is not valid', '<p>This unsubscribe link is not one we sent, or it was changed. Reply to the email with “unsubscribe” instead, and we will stop writing.</p>');

function done(response: Response, outcome: UnsubscribeOutcome): void {
  if (outcome.outcome === 'invalid') return invalid(response);
  const who = outcome.email ? `<b>${escapeHtml(outcome.email)}</b>` : 'This address';
  if (outcome.outcome === 'already') return page(response, 200, 'You are unsubscribed', `<p>${who} was already unsubscribed. You will not hear from us again.</p>`);
  page(response, 200, 'You are unsubscribed', `<p>${who} will not receive any more emails from us.</p>`);
}

/**
 * The unsubscribe link of every message (the gateway forwards `/unsubscribe/<token>` here).
 * GET shows a confirmation page and changes nothing: mail scanners open links. POST unsubscribes:
 * the RFC 8058 one-click POST a mail client sends (`List-Unsubscribe=One-Click`) and the page's button alike.
 */
export function mountUnsubscribeRoutes(app: Express, authenticate: RequestHandler, service: UnsubscribeService, logger: Logger): void {
  app.get('/unsubscribe/:token', authenticate, async (request, response, next) => {
    try {
      const token = String(request.params['token']);
      const outcome = await service.describe(token);
      if (outcome.outcome === 'invalid') return invalid(response);
      if (outcome.outcome === 'already') return done(response, outcome);
      page(
        response,
        200,
        'Unsubscribe',
        `<p>Stop all emails to ${outcome.email ? `<b>${escapeHtml(outcome.email)}</b>` : 'this address'}?</p><form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
      );
    } catch (error) {
      next(error);
    }
  });
  app.post('/unsubscribe/:token', authenticate, express.urlencoded({ extended: false, limit: '2kb' }), async (request, response) => {
    try {
      const oneClick = (request.body as Record<string, unknown> | undefined)?.['List-Unsubscribe'] === 'One-Click';
      done(response, await service.unsubscribe(String(request.params['token']), oneClick ? 'one-click unsubscribe (RFC 8058)' : 'unsubscribe link'));
    } catch (error) {
      logger.error({ err: error }, 'could not unsubscribe');
      page(response, 503, 'Please try again', '<p>We could not record your request just now. Please try again in a minute.</p>');
    }
  });
}
