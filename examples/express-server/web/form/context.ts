/** What every field of the form shares: the document, who is where, errors, the field lock. */
import type { TandemDoc } from '@tandem/client';
import type { JSONOp } from '@tandem/ot';
import { createContext, useContext } from 'react';
import type { PurchaseForm } from '../../shared/model';

export type FieldPath = (string | number)[];

export interface Peer {
  id: string;
  name: string;
  colour: string;
  field: string;
}

export interface FormContextValue {
  doc: TandemDoc<PurchaseForm>;
  peers: Peer[];
  errors: Record<string, string>;
  /** Focus moved into a field: share it as presence, and lock it if it locks. */
  enter(path: FieldPath, lock: boolean): void;
  leave(path: FieldPath): void;
  /** Send an edit of a field: false when the server refused it (the reason shows under the field). */
  edit(path: FieldPath, op: JSONOp): Promise<boolean>;
  fail(path: FieldPath, error: unknown): void;
}

export const FormContext = createContext<FormContextValue | null>(null);

export function useForm(): FormContextValue {
  return useContext(FormContext) as FormContextValue;
}

export const fieldKey = (path: FieldPath): string => path.join('/');
