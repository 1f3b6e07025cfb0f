/**
 * What the server and the page share: the demo users, and the shapes of the two kinds of
 * document (notes and purchase-request forms). Types and plain data only: the page bundles it.
 */

/** Per-document roles, least to most powerful (as @tandem/server's `DocumentRole`). */
export type Role = 'viewer' | 'commenter' | 'editor' | 'owner';

export interface DemoUser {
  id: string;
  name: string;
  role: Role;
  colour: string;
}

/**
 * A real app has a login; the demo signs anyone in as one of these, with a real signed token whose
 * grants give the user the same role on every note and form.
 */
export const DEMO_USERS: readonly DemoUser[] = [
  { id: 'ann', name: 'Ann', role: 'owner', colour: '#7c3aed' },
  { id: 'bob', name: 'Bob', role: 'editor', colour: '#0284c7' },
  { id: 'cat', name: 'Cat', role: 'commenter', colour: '#c2410c' },
  { id: 'dan', name: 'Dan', role: 'viewer', colour: '#15803d' },
];

/** The collections the demo serves (any other is NOT_FOUND). */
export const COLLECTIONS = ['notes', 'forms'] as const;
export type Collection = (typeof COLLECTIONS)[number];

export const canEdit = (role: Role): boolean => role === 'editor' || role === 'owner';

export interface Note {
  title: string;
  text: string;
}

export interface LineItem {
  description: string;
  qty: number;
  price: number;
}

export interface PurchaseForm {
  title: string;
  category: '' | 'hardware' | 'software' | 'services' | 'travel';
  priority: 'low' | 'normal' | 'high';
  neededBy: string;
  express: boolean;
  items: LineItem[];
  total: number;
  notes: string;
  stage: 'draft' | 'submitted';
  /** Only owners may set it (a path rule); only a submitted form can be approved (the schema). */
  approved: boolean;
}

export const NEW_NOTE: Note = { title: 'Untitled note', text: '' };

export const NEW_FORM: PurchaseForm = {
  title: '',
  category: '',
  priority: 'normal',
  neededBy: '',
  express: false,
  items: [],
  total: 0,
  notes: '',
  stage: 'draft',
  approved: false,
};
