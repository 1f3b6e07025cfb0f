/** The document and path an editor is bound to, for every part of the binding to read. */
import { Facet } from '@codemirror/state';
import type { TandemDoc } from '@tandem/client';
import type { Path } from '@tandem/ot';
import type { TandemError } from '@tandem/protocol';

export interface Binding {
  doc: TandemDoc<any>;
  path: Path;
  onError: (error: TandemError) => void;
}

/** One binding per editor: the first one given wins. */
export const binding = Facet.define<Binding, Binding | null>({
  combine: (values) => values[0] ?? null,
});
