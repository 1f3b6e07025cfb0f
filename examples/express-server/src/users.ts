/**
 * The demo's users. A real app has a login; the demo signs anyone in as one of these, with a real
 * signed token whose grants give the user the same role on every note and form.
 */
import type { DocumentRole } from '@tandem/server';

export interface DemoUser {
  id: string;
  name: string;
  role: DocumentRole;
  colour: string;
}

export const DEMO_USERS: readonly DemoUser[] = [
  { id: 'ann', name: 'Ann', role: 'owner', colour: '#7c3aed' },
  { id: 'bob', name: 'Bob', role: 'editor', colour: '#0284c7' },
  { id: 'cat', name: 'Cat', role: 'commenter', colour: '#c2410c' },
  { id: 'dan', name: 'Dan', role: 'viewer', colour: '#15803d' },
];

/** The collections the demo serves (any other is NOT_FOUND). */
export const COLLECTIONS = ['notes', 'forms'] as const;

export function grantsFor(role: DocumentRole): Record<string, DocumentRole> {
  return Object.fromEntries(COLLECTIONS.map((c) => [`${c}/*`, role]));
}
