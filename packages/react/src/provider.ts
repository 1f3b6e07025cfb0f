/** `<TandemProvider>`: the client every hook below it uses. */
import { type ConnectOptions, connect, type TandemClient } from '@tandem/client';
import { ErrorCode, TandemError } from '@tandem/protocol';
import { createContext, createElement, type ReactNode, useContext, useEffect, useState } from 'react';

const ClientContext = createContext<TandemClient | null>(null);

export type TandemProviderProps = { children?: ReactNode } & (
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

interface Own {
  client: TandemClient;
  closed: boolean;
  /** A new client to the same endpoint. */
  again(): Own;
}

function open(url: string | readonly string[], options: ConnectOptions | undefined): Own {
  return { client: connect(url, options), closed: false, again: () => open(url, options) };
}

/**
 * A client this provider made and closes. It is made once per mount (later url/options are
 * ignored); StrictMode's mount-unmount-mount gets a fresh one after closing the first.
 */
function useOwnClient(url: string | readonly string[] | undefined, options: ConnectOptions | undefined) {
  const [own, setOwn] = useState(() => (url === undefined ? null : open(url, options)));
  useEffect(() => {
    if (own === null) return;
    if (own.closed) {
      setOwn(own.again());
      return;
    }
    return () => {
      own.closed = true;
      void own.client.close();
    };
  }, [own]);
  return own?.client ?? null;
}

export function TandemProvider(props: TandemProviderProps): ReactNode {
  const given = 'client' in props ? props.client : undefined;
  const own = useOwnClient(
    'url' in props ? props.url : undefined,
    'url' in props ? props.options : undefined,
  );
  return createElement(ClientContext.Provider, { value: given ?? own }, props.children);
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
