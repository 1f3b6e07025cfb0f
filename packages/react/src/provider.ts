/** `<TandemProvider>`: the client every hook below it uses. */
import { type ConnectOptions, connect, type TandemClient } from '@tandem/client';
import { ErrorCode, TandemError } from '@tandem/protocol';
import { createContext, createElement, type ReactNode, useContext, useEffect, useRef, useState } from 'react';

const ClientContext = createContext<TandemClient | null>(null);

export type TandemProviderProps = {
  children?: ReactNode;
  /** Rendered instead of the children until the provider's own client exists (one commit). */
  fallback?: ReactNode;
} & (
  | {
      /** A client the app created (and closes). */
      client: TandemClient;
    }
  | {
      /** Connect to this endpoint on mount and close on unmount (remount with a new `key` to change it). */
      url: string | readonly string[];
      options?: ConnectOptions;
    }
);

/**
 * A client this provider makes on mount and closes on unmount (later url/options are ignored;
 * remount with a new `key` to change them). It is made in an effect, never during render: React
 * may call render-time initialisers twice and drop one (StrictMode, concurrent rendering), and a
 * dropped client would keep its socket open.
 */
function useOwnClient(url: string | readonly string[] | undefined, options: ConnectOptions | undefined) {
  const [client, setClient] = useState<TandemClient | null>(null);
  const endpoint = useRef({ url, options });
  useEffect(() => {
    const { url: target, options: given } = endpoint.current;
    if (target === undefined) return;
    const own = connect(target, given);
    setClient(own);
    return () => {
      setClient(null);
      void own.close();
    };
  }, []);
  return client;
}

export function TandemProvider(props: TandemProviderProps): ReactNode {
  const given = 'client' in props ? props.client : undefined;
  const own = useOwnClient(
    'url' in props ? props.url : undefined,
    'url' in props ? props.options : undefined,
  );
  const client = given ?? own;
  // A provider that connects renders its children once its client exists (`fallback` until then).
  if (client === null) return props.fallback ?? null;
  return createElement(ClientContext.Provider, { value: client }, props.children);
}

/** The provider's client. Throws INVALID_CONFIG outside a `<TandemProvider>`. */
export function useClient(): TandemClient {
  const client = useContext(ClientContext);
  if (client === null)
    throw new TandemError(ErrorCode.INVALID_CONFIG, 'Tandem hooks need a <TandemProvider> above them', {
      option: 'TandemProvider',
      reason: 'missing',
    });
  return client;
}
