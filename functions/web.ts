// GET /api/play: the players' web client, one self-contained page (web/index.html), served with a strict
// Content-Security-Policy that lets exactly its own inline <script> and <style> run, by hash; servePage() serves the
// other pages of web/ the same way (the operator page, functions/admin.ts).
import './lib/app';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { app, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { json } from './lib/http';

// From dist/functions/ at run time (and from functions/ when loaded from source), the pages are in web/ in the project
// root, which deployments ship as is (.funcignore does not exclude web/).
const candidates = (file: string): string[] => [path.resolve(__dirname, '../../web', file), path.resolve(__dirname, '../web', file)];

function hashes(html: string, tag: 'script' | 'style'): string[] {
  // Only bare <script>/<style> tags are inline code; the page uses no attributes on them.
  const blocks = html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'));
  return [...blocks].map((m) => `'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`);
}

/**
 * The Content-Security-Policy for a self-contained page: nothing loads from anywhere except the page's own inline
 * script and style (allowed by SHA-256 hash), fetches to this origin, and data: images (the blank favicon).
 * Trusted Types are required, so even a stray `innerHTML = string` throws instead of parsing markup.
 *
 * @example
 * contentSecurityPolicy('<style>p{}</style><script>go()</script>')
 * // "default-src 'none'; script-src 'sha256-…'; style-src 'sha256-…'; connect-src 'self'; …"
 */
export function contentSecurityPolicy(html: string): string {
  const scripts = hashes(html, 'script');
  const styles = hashes(html, 'style');
  return [
    "default-src 'none'",
    `script-src ${scripts.length > 0 ? scripts.join(' ') : "'none'"}`,
    `style-src ${styles.length > 0 ? styles.join(' ') : "'none'"}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
}

const pages = new Map<string, HttpResponseInit>();

/**
 * The response of a self-contained page of web/, read and hashed once per process (the file does not change while
 * the app runs). Returns undefined when the file is missing from the deployment.
 *
 * @example
 * const res = webPage('index.html'); // { status: 200, body: '<!doctype html>…', headers: { 'content-security-policy': … } }
 */
export function webPage(file: string): HttpResponseInit | undefined {
  const cached = pages.get(file);
  if (cached) return cached;
  const found = candidates(file).find((f) => existsSync(f));
  if (!found) return undefined;
  const html = readFileSync(found, 'utf8');
  const page: HttpResponseInit = {
    status: 200,
    body: html,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': contentSecurityPolicy(html),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    },
  };
  pages.set(file, page);
  return page;
}

/**
 * Answers with a page of web/ (a copy of its cached response), or a logged 500 naming the missing file.
 *
 * @example
 * app.http('play', { route: 'play', methods: ['GET'], handler: async (_req, context) => servePage('index.html', context) });
 */
export function servePage(file: string, context: InvocationContext): HttpResponseInit {
  const res = webPage(file);
  if (res) return { ...res, headers: { ...(res.headers as Record<string, string>) } };
  context.error(`The page web/${file} is missing: none of ${candidates(file).join(', ')} exists.`);
  return json(500, { error: { code: 'internal', message: `The page web/${file} is missing from this deployment; deploy the web/ folder with the app.` } });
}

app.http('play', {
  route: 'play',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async (_req, context) => servePage('index.html', context),
});
