/** `#/sign-in`: name and password (POST /auth/login); wrong credentials and the login rate limit explained. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, asApiError } from '../api.ts';
import { signIn, type Session } from '../session.ts';

function message(err: ApiError): string {
  switch (err.code) {
    case 'LOGIN_FAILED':
      return 'The name or the password is wrong.';
    case 'LOGIN_RATE_LIMITED': {
      const wait = err.retryAfterSeconds;
      const when = wait === undefined ? 'later' : wait >= 120 ? `in ${Math.ceil(wait / 60)} minutes` : `in ${wait} seconds`;
      return `Too many failed sign-ins for this account or from this address. Try again ${when}.`;
    }
    case 'INVALID_REQUEST':
      return 'Enter your name and your password.';
    case 'NETWORK':
      return 'The server did not answer. Check that licensegate is running.';
    default:
      return err.detail;
  }
}

export function SignInPage(p: { notice: string | null; error: ApiError | null; onSignedIn(s: Session): void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(p.error);
  const nameRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  useEffect(() => nameRef.current?.focus(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name.trim() || !password) {
      setError(new ApiError(422, 'INVALID_REQUEST', 'name and password are required'));
      (name.trim() ? passwordRef : nameRef).current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      p.onSignedIn(await signIn(name.trim(), password));
    } catch (err) {
      setError(asApiError(err));
      setPassword('');
      passwordRef.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title" novalidate>
        <p class="brand">licensegate</p>
        <h1 id="sign-in-title">Sign in</h1>
        {p.notice && (
          <p class="banner banner-info" role="status">
            {p.notice}
          </p>
        )}
        <label for="sign-in-name">Name</label>
        <input
          id="sign-in-name"
          ref={nameRef}
          name="username"
          autocomplete="username"
          autocapitalize="none"
          spellcheck={false}
          value={name}
          onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
          aria-invalid={error?.code === 'LOGIN_FAILED' ? 'true' : undefined}
          aria-describedby={error ? 'sign-in-error' : undefined}
          required
        />
        <label for="sign-in-password">Password</label>
        <input
          id="sign-in-password"
          ref={passwordRef}
          name="password"
          type="password"
          autocomplete="current-password"
          value={password}
          onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)}
          aria-invalid={error?.code === 'LOGIN_FAILED' ? 'true' : undefined}
          aria-describedby={error ? 'sign-in-error' : undefined}
          required
        />
        {error && (
          <p id="sign-in-error" class="banner banner-error" role="alert">
            <strong>{error.code}</strong>: {message(error)}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="hint">
          First start? Open the <em>admin set-up</em> link licensegate printed to set the technician's password, then sign in as <code>technician</code>.
        </p>
      </form>
    </main>
  );
}
