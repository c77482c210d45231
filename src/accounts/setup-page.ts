/**
 * GET /setup: the tiny page a set-up link opens (SPEC H2). Self-contained (no external asset:
 * works offline and under a strict CSP), labelled form fields. The token travels in the URL
 * fragment (`/setup#token=…`), which browsers never send to the server, so it stays out of
 * access logs and Referer headers; the page's script reads it and POSTs /api/v1/auth/setup.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpHandler } from '../gateway/health-server.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password-hash.ts';

export const SETUP_PAGE_PATH = '/setup';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>licensegate: set your password</title>
<style>
body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
label{display:block;margin-top:1rem;font-weight:600}
input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem}
#status{margin-top:1rem}
.error{color:#a00000}.ok{color:#006000}
</style>
</head>
<body>
<main>
<h1>Set your licensegate password</h1>
<p>This link works once. The password needs ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters.</p>
<form id="setup" novalidate>
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}" required aria-describedby="status">
<label for="confirm">Repeat the password</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required aria-describedby="status">
<button type="submit">Set password</button>
</form>
<p id="status" role="status" aria-live="polite"></p>
</main>
<script>
(function () {
  var token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
  var form = document.getElementById('setup');
  var status = document.getElementById('status');
  function say(text, ok) { status.textContent = text; status.className = ok ? 'ok' : 'error'; }
  if (!token) say('This page needs the link with its token (…/setup#token=…).', false);
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var password = form.password.value;
    if (password !== form.confirm.value) return say('The two passwords differ.', false);
    if ([...password].length < ${PASSWORD_MIN_LENGTH}) return say('The password needs at least ${PASSWORD_MIN_LENGTH} characters.', false);
    fetch('/api/v1/auth/setup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: token, password: password }) })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (r) {
        if (r.ok) {
          history.replaceState(null, '', location.pathname); // the used token leaves the address bar
          form.hidden = true;
          say('Password set for ' + r.body.account.name + '. ', true);
          var link = document.createElement('a'); // the web console's sign-in (SPEC H5); 404 with CONSOLE=off
          link.href = '/#/sign-in';
          link.textContent = 'Sign in to the console';
          status.appendChild(link);
        } else {
          say((r.body && r.body.detail) || 'The password was not set.', false);
        }
      })
      .catch(function () { say('The server did not answer.', false); });
  });
})();
</script>
</body>
</html>
`;

/** An HttpHandler for the HTTP port (health-server.ts): answers GET/HEAD /setup only. */
export const setupPageHandler: HttpHandler = async (req: IncomingMessage, res: ServerResponse) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== SETUP_PAGE_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  });
  res.end(req.method === 'HEAD' ? undefined : PAGE);
  return true;
};
