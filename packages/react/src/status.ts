/** `useSyncStatus()`: online or not, and how many edits the server has not acknowledged yet. */
import type { ConnectionStatus, TandemClient } from '@tandem/client';
import { useCallback } from 'react';
import { useClient } from './provider';
import { shallowEqual, stopAll, useSelected } from './store';

export interface SyncStatus {
  status: ConnectionStatus;
  online: boolean;
  /** Edits made here and not yet acknowledged (all documents of the client). */
  unsynced: number;
}

const read = (client: TandemClient): SyncStatus => ({
  status: client.status,
  online: client.status === 'online',
  unsynced: client.unsyncedCount,
});

const same = (status: SyncStatus): SyncStatus => status;

export function useSyncStatus(): SyncStatus {
  const client = useClient();
  const subscribe = useCallback(
    (onChange: () => void) => stopAll(client.on('status', onChange), client.on('unsynced', onChange)),
    [client],
  );
  return useSelected(subscribe, () => read(client), same, shallowEqual);
}
