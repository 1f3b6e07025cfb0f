/**
 * The page: sign in as a demo user, then the app. The client connects with a signed token fetched
 * from the host; everything below <TandemProvider> reads Tandem through @tandem/react's hooks.
 */
import { connect, indexedDbStore, type TandemClient } from '@tandem/client';
import { TandemProvider } from '@tandem/react';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { DEMO_USERS, type DemoUser } from '../shared/model';
import { App } from './App';
import { fetchToken, forgetUser, rememberedUser, rememberUser, tabId } from './session';
import './style.css';

function SignIn({ onSignIn }: { onSignIn: (user: DemoUser) => void }) {
  return (
    <main className="sign-in">
      <h1>Tandem demo</h1>
      <p>Sign in as one of the demo users. Open a second window and sign in as someone else.</p>
      <ul>
        {DEMO_USERS.map((user) => (
          <li key={user.id}>
            <button type="button" onClick={() => onSignIn(user)} style={{ borderColor: user.colour }}>
              <strong>{user.name}</strong> <span className="role">{user.role}</span>
            </button>
          </li>
        ))}
      </ul>
    </main>
  );
}

/** This tab's client while signed in: made in an effect, so StrictMode's double render opens no extra socket. */
function useClientFor(user: DemoUser | undefined): TandemClient | undefined {
  const [client, setClient] = useState<TandemClient>();
  useEffect(() => {
    if (user === undefined) return;
    const next = connect(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/tandem`, {
      // Called before every (re)connect and before the token expires.
      getToken: () => fetchToken(user),
      // Edits made offline survive a reload of this tab.
      offlineStore: indexedDbStore(`tandem-demo-${tabId()}-${user.id}`),
    });
    setClient(next);
    return () => {
      setClient(undefined);
      void next.close();
    };
  }, [user]);
  return client;
}

function Root() {
  const [user, setUser] = useState(rememberedUser);
  const client = useClientFor(user);
  if (user === undefined)
    return (
      <SignIn
        onSignIn={(u) => {
          rememberUser(u);
          setUser(u);
        }}
      />
    );
  if (client === undefined) return null;
  return (
    <TandemProvider client={client}>
      <App
        user={user}
        onSignOut={() => {
          forgetUser();
          setUser(undefined);
        }}
      />
    </TandemProvider>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
