// Sign in, register, activation, password reset and preferences: the API's auth flows (rodan-compat §2.2).
import { useEffect, useState, type FormEvent } from "react";
import { API, get, patch, post, setToken, type Json } from "./api";
import { Link, navigate } from "./router";
import { ErrorText, useAction } from "./ui";

export function SignIn({ onSignedIn }: { onSignedIn: (user: Json) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, run } = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    run(async () => {
      const user = await post<Json>(API + "auth/token/", { email, password });
      setToken(user.token);
      onSignedIn(user);
    });
  };
  return (
    <main className="auth-page">
      <h1>Sign in to Rodan</h1>
      <form onSubmit={submit} className="card form" aria-describedby={error ? "signin-error" : undefined}>
        <label>
          Email
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </label>
        <label>
          Password
          <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <ErrorText error={error} id="signin-error" />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        <Link to="/register">Create an account</Link> · <Link to="/forgot-password">Forgot your password?</Link>
      </p>
    </main>
  );
}

export function Register() {
  const [fields, setFields] = useState({ username: "", email: "", password: "" });
  const [done, setDone] = useState(false);
  const { busy, error, run } = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    run(async () => {
      await post(API + "auth/register/", fields);
      setDone(true);
    });
  };
  const field = (name: keyof typeof fields) => ({
    value: fields[name],
    onChange: (e: { target: { value: string } }) => setFields({ ...fields, [name]: e.target.value }),
  });
  return (
    <main className="auth-page">
      <h1>Create an account</h1>
      {done ? (
        <p role="status" className="card">
          Your account is created. We sent an e-mail to {fields.email} with a link that activates it; open that link, then{" "}
          <Link to="/">sign in</Link>.
        </p>
      ) : (
        <form onSubmit={submit} className="card form">
          <label>
            Username
            <input required autoComplete="username" {...field("username")} autoFocus />
          </label>
          <label>
            Email
            <input type="email" required autoComplete="email" {...field("email")} />
          </label>
          <label>
            Password
            <input type="password" required autoComplete="new-password" {...field("password")} />
          </label>
          <ErrorText error={error} />
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Creating…" : "Create account"}
          </button>
        </form>
      )}
      <p>
        <Link to="/">Back to sign in</Link>
      </p>
    </main>
  );
}

export function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [done, setDone] = useState(false);
  const { busy, error, run } = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    run(async () => {
      await post(API + "auth/reset-password/", { email });
      setDone(true);
    });
  };
  return (
    <main className="auth-page">
      <h1>Reset your password</h1>
      {done ? (
        <p role="status" className="card">
          If an active account uses {email}, it will receive an e-mail with a link to choose a new password.
        </p>
      ) : (
        <form onSubmit={submit} className="card form">
          <label>
            Email
            <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
          </label>
          <ErrorText error={error} />
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Sending…" : "Send the reset link"}
          </button>
        </form>
      )}
      <p>
        <Link to="/">Back to sign in</Link>
      </p>
    </main>
  );
}

/** The mailed links: `#activate/<uid>/<token>` and `#password-reset/<uid>/<token>`. */
export function MailedLink({ kind, uid, token }: { kind: string; uid: string; token: string }) {
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const { busy, error, run } = useAction();
  const leave = () => {
    history.replaceState(null, "", "/");
    navigate("/");
  };
  useEffect(() => {
    if (kind === "activate") run(async () => {
      await post(API + "auth/activate/", { uid, token });
      setDone(true);
    });
  }, [kind, uid, token, run]);
  if (kind === "activate") {
    return (
      <main className="auth-page">
        <h1>Activate your account</h1>
        {busy && <p role="status">Activating…</p>}
        {done && <p role="status" className="card">Your account is active. You can sign in now.</p>}
        <ErrorText error={error} />
        <button onClick={leave}>Go to sign in</button>
      </main>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    run(async () => {
      await post(API + "auth/reset-password/confirm/", { uid, token, new_password: password });
      setDone(true);
    });
  };
  return (
    <main className="auth-page">
      <h1>Choose a new password</h1>
      {done ? (
        <p role="status" className="card">Your password is changed. You can sign in with it now.</p>
      ) : (
        <form onSubmit={submit} className="card form">
          <label>
            New password
            <input type="password" required autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} autoFocus />
          </label>
          <ErrorText error={error} />
          <button type="submit" className="primary" disabled={busy}>
            Change password
          </button>
        </form>
      )}
      <button onClick={leave}>Go to sign in</button>
    </main>
  );
}

export function Preferences({ user }: { user: Json }) {
  const [preference, setPreference] = useState<Json | null>(null);
  const load = useAction();
  const save = useAction();
  const password = useAction();
  const [saved, setSaved] = useState("");
  const [passwords, setPasswords] = useState({ current_password: "", new_password: "" });
  useEffect(() => {
    load.run(async () => {
      if (user.user_preference) setPreference(await get(user.user_preference));
      else setPreference(await post(API + "userpreferences/", { user: user.url, send_email: true }));
    });
  }, [user]);
  const toggle = (send_email: boolean) => {
    const before = preference!;
    setPreference({ ...before, send_email });
    setSaved("");
    save.run(async () => {
      try {
        setPreference(await patch(before.url, { send_email }));
        setSaved("Saved.");
      } catch (error) {
        setPreference(before);
        throw error;
      }
    });
  };
  const changePassword = (event: FormEvent) => {
    event.preventDefault();
    password.run(async () => {
      await post(API + "auth/change-password/", passwords);
      setPasswords({ current_password: "", new_password: "" });
      setSaved("Your password is changed.");
    });
  };
  return (
    <main className="page">
      <h1>Preferences</h1>
      <section className="card form">
        <h2>Account</h2>
        <p>
          Signed in as <strong>{user.username}</strong> ({user.email}).
        </p>
        {load.busy && <p role="status">Loading your preferences…</p>}
        <ErrorText error={load.error} />
        {preference && (
          <label className="check">
            <input type="checkbox" checked={!!preference.send_email} disabled={save.busy} onChange={(e) => toggle(e.target.checked)} />
            Send me an e-mail when my runs finish, fail or wait for my input
          </label>
        )}
        <ErrorText error={save.error} />
      </section>
      <form className="card form" onSubmit={changePassword}>
        <h2>Change password</h2>
        <label>
          Current password
          <input type="password" required autoComplete="current-password" value={passwords.current_password} onChange={(e) => setPasswords({ ...passwords, current_password: e.target.value })} />
        </label>
        <label>
          New password
          <input type="password" required autoComplete="new-password" value={passwords.new_password} onChange={(e) => setPasswords({ ...passwords, new_password: e.target.value })} />
        </label>
        <ErrorText error={password.error} />
        <button type="submit" disabled={password.busy}>
          Change password
        </button>
      </form>
      {saved && <p role="status">{saved}</p>}
    </main>
  );
}
