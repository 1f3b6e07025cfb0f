/** Principals: the anonymous default and the user info presence and authorship show. */
import { randomUUID } from 'node:crypto';
import type { UserInfo } from '@tandem/protocol';
import type { Principal } from '../hooks';

/** Distinct, readable on white and dark backgrounds. */
const PALETTE = [
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#42d4f4',
  '#f032e6',
  '#469990',
  '#9a6324',
  '#800000',
];

export function anonymousPrincipal(): Principal {
  const id = `anon-${randomUUID().slice(0, 8)}`;
  return { id, name: `Guest ${id.slice(5, 9)}` };
}

function colourFor(id: string): string {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) | 0;
  return PALETTE[Math.abs(hash) % PALETTE.length];
}

export function userInfo(principal: Principal): UserInfo {
  return {
    id: principal.id,
    name: typeof principal.name === 'string' ? principal.name : principal.id,
    colour: typeof principal.colour === 'string' ? principal.colour : colourFor(principal.id),
  };
}
