/**
 * The page: sign in as a demo user, then the app. Everything below <TandemProvider> reads Tandem
 * through @tandem/react's hooks; the provider connects with a signed token fetched from the host.
 */
import { indexedDbStore } from '@tandem/client';
import { TandemProvider } from '@tandem/react';
import { StrictMode, useState } from 'react';
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

function Root() {
  const [user, setUser] = useState(rememberedUser);
  if (user === undefined)
    return (
      <SignIn
        onSignIn={(u) => {
          rememberUser(u);
          setUser(u);
        }}
      />
    );
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/tandem`;
  return (
    <TandemProvider
      key={user.id}
      url={url}
      options={{
        // Called before every (re)connect and before the token expires.
        getToken: () => fetchToken(user),
        // Edits made offline survive a reload of this tab.
        offlineStore: indexedDbStore(`tandem-demo-${tabId()}-${user.id}`),
      }}
    >
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
