/**
 * The form's fields. Text merges (several people may type in one field); numbers and dates are
 * locked while someone types in them; choices are last-writer-wins (server policies, see
 * src/forms.ts). Every field shows who else is in it and the server's refusal, if any.
 */
import { replace } from '@tandem/ot';
import { useDocSelector } from '@tandem/react';
import { type ReactNode, useCallback, useState } from 'react';
import { SharedText } from '../SharedText';
import { type FieldPath, fieldKey, useForm } from './context';

function valueAt(data: unknown, path: FieldPath): unknown {
  return path.reduce<unknown>(
    (node, key) => (node as Record<string | number, unknown> | undefined)?.[key],
    data,
  );
}

function useValue<T>(path: FieldPath): T {
  const { doc } = useForm();
  const key = fieldKey(path);
  const select = useCallback((data: unknown) => valueAt(data, key.split('/')) as T, [key]);
  return useDocSelector(doc, select);
}

export function Field({
  path,
  label,
  locks = false,
  children,
}: {
  path: FieldPath;
  label: string;
  locks?: boolean;
  children: ReactNode;
}) {
  const { peers, enter, leave } = useForm();
  const key = fieldKey(path);
  const here = peers.filter((p) => p.field === key);
  return (
    // Focus and blur bubble here from the field's control: presence and locks follow the focus.
    // biome-ignore lint/a11y/noStaticElementInteractions: focus events from the control inside
    <div
      className="field"
      data-field={key}
      onFocus={() => enter(path, locks)}
      onBlur={() => leave(path)}
      style={here.length > 0 ? { outlineColor: here[0].colour } : undefined}
    >
      {/* biome-ignore lint/a11y/noLabelWithoutControl: the control is in children */}
      <label>
        <span>{label}</span>
        {here.map((p) => (
          <span key={p.id} className="chip" style={{ background: p.colour }} data-testid="field-peer">
            {p.name}
            {locks ? ' · locked' : ''}
          </span>
        ))}
        {children}
      </label>
      <FieldError path={path} />
    </div>
  );
}

/** The server's last refusal of an edit of this field (cleared by the next accepted one). */
export function FieldError({ path }: { path: FieldPath }) {
  const message = useForm().errors[fieldKey(path)];
  return message === undefined ? null : (
    <p className="field-error" role="alert" data-field-error={fieldKey(path)}>
      {message}
    </p>
  );
}

export function TextField({
  path,
  label,
  multiline,
}: {
  path: FieldPath;
  label: string;
  multiline?: boolean;
}) {
  const { doc, fail } = useForm();
  return (
    <Field path={path} label={label}>
      <SharedText doc={doc} path={path} multiline={multiline} onFailure={(e) => fail(path, e)} />
    </Field>
  );
}

export function NumberField({ path, label, step = 1 }: { path: FieldPath; label: string; step?: number }) {
  const { edit } = useForm();
  const value = useValue<number>(path);
  // What the user is typing ("", "-", "1e") until it is a number worth sending.
  const [draft, setDraft] = useState<string>();
  return (
    <Field path={path} label={label} locks>
      <input
        type="number"
        step={step}
        value={draft ?? String(value ?? '')}
        onChange={(event) => {
          const next = event.currentTarget.valueAsNumber;
          setDraft(event.currentTarget.value);
          if (Number.isFinite(next) && next !== value)
            edit(path, replace(path, next)).then((ok) => ok || setDraft(undefined));
        }}
        onBlur={() => setDraft(undefined)}
      />
    </Field>
  );
}

export function DateField({ path, label }: { path: FieldPath; label: string }) {
  const { edit } = useForm();
  const value = useValue<string>(path);
  return (
    <Field path={path} label={label} locks>
      <input
        type="date"
        value={value ?? ''}
        onChange={(e) => edit(path, replace(path, e.currentTarget.value))}
      />
    </Field>
  );
}

export function SelectField({
  path,
  label,
  options,
}: {
  path: FieldPath;
  label: string;
  options: readonly [string, string][];
}) {
  const { edit } = useForm();
  const value = useValue<string>(path);
  return (
    <Field path={path} label={label}>
      <select value={value ?? ''} onChange={(e) => edit(path, replace(path, e.currentTarget.value))}>
        {options.map(([option, text]) => (
          <option key={option} value={option}>
            {text}
          </option>
        ))}
      </select>
    </Field>
  );
}

export function CheckboxField({ path, label }: { path: FieldPath; label: string }) {
  const { edit } = useForm();
  const value = useValue<boolean>(path);
  return (
    <Field path={path} label={label}>
      <input
        type="checkbox"
        checked={value === true}
        onChange={(e) => edit(path, replace(path, e.currentTarget.checked))}
      />
    </Field>
  );
}
