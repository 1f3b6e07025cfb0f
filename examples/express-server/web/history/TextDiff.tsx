/** Two versions of the document side by side as one text: deletions struck out, insertions marked. */
import { diffText, type TextOp } from '@tandem/ot';

/** Fields of a snapshot as text, one per line (a note is its title and text). */
export function asText(data: unknown): string {
  if (typeof data !== 'object' || data === null) return '';
  const record = data as Record<string, unknown>;
  if (typeof record.text === 'string') return `${record.title}\n\n${record.text}`;
  return Object.entries(record)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('\n');
}

export function TextDiff({ before, after }: { before: string; after: string }) {
  const op: TextOp = diffText(before, after) ?? [];
  const chars = Array.from(before); // text ops count code points
  const parts: { kind: 'same' | 'ins' | 'del'; text: string }[] = [];
  let at = 0;
  for (const c of op) {
    if (typeof c === 'number') {
      parts.push({ kind: 'same', text: chars.slice(at, at + c).join('') });
      at += c;
    } else if (typeof c === 'string') parts.push({ kind: 'ins', text: c });
    else {
      const n = typeof c.d === 'number' ? c.d : Array.from(c.d).length;
      parts.push({ kind: 'del', text: chars.slice(at, at + n).join('') });
      at += n;
    }
  }
  parts.push({ kind: 'same', text: chars.slice(at).join('') });
  return (
    <pre className="diff" data-testid="diff">
      {parts.map((part, i) =>
        part.kind === 'same' ? (
          part.text
        ) : (
          <mark key={i} className={part.kind}>
            {part.text}
          </mark>
        ),
      )}
    </pre>
  );
}
