/**
 * Part 2, the form: a purchase request co-edited field by field, with who is in which field, field
 * locks, conflict reports, the server's JSON-Schema errors per field, completion, and a workflow
 * (draft -> submitted -> approved) that only the right role can advance and that freezes the form.
 */
import type { DocLock, PeerPresence } from '@tandem/client';
import { insert, remove, replace } from '@tandem/ot';
import { ErrorCode, isTandemError } from '@tandem/protocol';
import { shallowEqual, useDoc, useDocSelector, useOthers, usePresence } from '@tandem/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { canEdit, type DemoUser, type PurchaseForm } from '../../shared/model';
import { ConflictNotices } from '../ConflictNotices';
import { PresenceList } from '../PresenceList';
import { type FieldPath, FormContext, type FormContextValue, fieldKey, type Peer } from './context';
import { CheckboxField, DateField, FieldError, NumberField, SelectField, TextField } from './fields';

const LABELS: Record<string, string> = {
  title: 'Title',
  category: 'Category',
  priority: 'Priority',
  neededBy: 'Needed by',
  express: 'Express delivery',
  items: 'Line items',
  total: 'Budget total',
  notes: 'Notes',
  stage: 'Stage',
  approved: 'Approval',
};
const labelOf = (path: FieldPath) =>
  path.length > 1 && path[0] === 'items'
    ? `item ${Number(path[1]) + 1}${path[2] === undefined ? '' : ` ${path[2]}`}`
    : (LABELS[String(path[0])] ?? (path.join('/') || 'the form'));

/** What must be filled in before the form can be submitted (the schema checks it again). */
function completion(form: PurchaseForm): number {
  const done = [
    form.title.trim() !== '',
    form.category !== '',
    form.neededBy !== '',
    form.items.length > 0 && form.items.every((item) => item.description.trim() !== ''),
    form.total > 0,
  ];
  return Math.round((100 * done.filter(Boolean).length) / done.length);
}

const peersByField = (peers: PeerPresence[]): Peer[] =>
  peers
    .filter((p) => p.path.length > 0)
    .map((p) => ({ id: p.presenceId, name: p.user.name, colour: p.user.colour, field: fieldKey(p.path) }));
const samePeers = (a: Peer[], b: Peer[]) => a.length === b.length && a.every((p, i) => shallowEqual(p, b[i]));

/** One field lock at a time: taken when a locking field gets focus, renewed while it has it. */
function useFieldLock(doc: FormContextValue['doc'], fail: FormContextValue['fail']) {
  const held = useRef<{ key: string; lock?: DocLock; timer?: ReturnType<typeof setInterval> } | undefined>(
    undefined,
  );
  const release = useCallback(() => {
    const entry = held.current;
    held.current = undefined;
    clearInterval(entry?.timer);
    entry?.lock?.release().catch(() => {});
  }, []);
  const acquire = useCallback(
    /** Resolves true once this user holds the lock. */
    async (path: FieldPath): Promise<boolean> => {
      if (held.current?.key === fieldKey(path)) return true;
      release();
      const entry: NonNullable<typeof held.current> = { key: fieldKey(path) };
      held.current = entry;
      try {
        const lock = await doc.lock(path, { ttlMs: 30_000 });
        entry.lock = lock;
        if (held.current !== entry) {
          lock.release().catch(() => {}); // focus moved on meanwhile
          return false;
        }
        entry.timer = setInterval(() => lock.renew().catch(() => {}), 20_000);
        return true;
      } catch (error) {
        // Someone else holds it (or this role may not lock). Offline, there is no lock to take.
        if (isTandemError(error) && error.code !== ErrorCode.OFFLINE) fail(path, error);
        return false;
      }
    },
    [doc, fail, release],
  );
  useEffect(() => release, [release]);
  return useMemo(() => ({ acquire, release }), [acquire, release]);
}

export function FormPage({ id, user }: { id: string; user: DemoUser }) {
  const { doc, status, error } = useDoc<PurchaseForm>('forms', id);
  // Only what this component shows: typing in a field re-renders that field, not the form.
  const stage = useDocSelector(doc, (d) => (d === undefined ? undefined : d.approved ? 'approved' : d.stage));
  const itemCount = useDocSelector(doc, (d) => d?.items.length ?? 0);
  const itemsSum = useDocSelector(
    doc,
    (d) => d?.items.reduce((sum, item) => sum + item.qty * item.price, 0) ?? 0,
  );
  const percent = useDocSelector(doc, (d) => (d === undefined ? 0 : completion(d)));
  const peers = useOthers(doc, peersByField, samePeers);
  const [focus, setFocus] = useState<FieldPath>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  usePresence(doc, { path: focus });

  const fail = useCallback((path: FieldPath, e: unknown) => {
    const message = isTandemError(e) ? e.message : String(e);
    // A schema error names the field it is about (a JSON pointer), which may not be the one edited.
    const pointer = isTandemError(e) ? (e.details as { path?: unknown } | undefined)?.path : undefined;
    const key = typeof pointer === 'string' && pointer !== '/' ? pointer.slice(1) : fieldKey(path);
    setErrors((all) => ({ ...all, [key]: message }));
  }, []);
  const lock = useFieldLock(doc, fail);

  const context = useMemo<FormContextValue>(
    () => ({
      doc,
      peers,
      errors,
      enter: (path, locks) => {
        // A locking field is shown as someone's only once their lock is held.
        if (!locks) {
          lock.release();
          setFocus(path);
        } else lock.acquire(path).then((held) => held && setFocus(path));
      },
      leave: () => {
        setFocus([]);
        lock.release();
      },
      edit: (path, op) =>
        doc.submit(op).then(
          () => {
            setErrors(({ [fieldKey(path)]: _, ...rest }) => rest);
            return true;
          },
          (e: unknown) => {
            fail(path, e);
            return false;
          },
        ),
      fail,
    }),
    [doc, peers, errors, fail, lock],
  );

  if (status === 'error') return <p className="error">Cannot open this form: {error?.message}</p>;
  if (status === 'loading') return <p>Loading…</p>;
  if (stage === undefined) return <p>This form does not exist.</p>;

  const editable = canEdit(user.role) && stage === 'draft';
  return (
    <FormContext.Provider value={context}>
      <div className="doc-page">
        <div className="doc-main form">
          <div className="workflow" data-stage={stage}>
            <span className="stage" data-testid="stage">
              {stage}
            </span>
            <progress max={100} value={percent} aria-label="Completion" />
            <span data-testid="completion">{percent}% complete</span>
            <Workflow stage={stage} user={user} edit={context.edit} />
          </div>
          <ConflictNotices doc={doc} me={user.id} labelOf={labelOf} />
          <FieldError path={[]} />
          <FieldError path={['stage']} />
          <FieldError path={['approved']} />
          <fieldset disabled={!editable}>
            <TextField path={['title']} label="Title" />
            <div className="row">
              <SelectField
                path={['category']}
                label="Category"
                options={[
                  ['', 'Choose…'],
                  ['hardware', 'Hardware'],
                  ['software', 'Software'],
                  ['services', 'Services'],
                  ['travel', 'Travel'],
                ]}
              />
              <SelectField
                path={['priority']}
                label="Priority"
                options={[
                  ['low', 'Low'],
                  ['normal', 'Normal'],
                  ['high', 'High'],
                ]}
              />
              <DateField path={['neededBy']} label="Needed by" />
              <CheckboxField path={['express']} label="Express delivery" />
            </div>
            <h4>Line items</h4>
            <FieldError path={['items']} />
            <table className="items">
              <thead>
                <tr>
                  <th>Description</th>
                  <th>Qty</th>
                  <th>Unit price</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {Array.from({ length: itemCount }, (_, i) => (
                  // Rows are positions in the list: an edit of row i is an edit of /items/i.
                  <tr key={i}>
                    <td>
                      <TextField path={['items', i, 'description']} label={`Item ${i + 1}`} />
                    </td>
                    <td>
                      <NumberField path={['items', i, 'qty']} label="Qty" />
                    </td>
                    <td>
                      <NumberField path={['items', i, 'price']} label="Price" step={0.01} />
                    </td>
                    <td>
                      <button
                        type="button"
                        className="link"
                        aria-label={`Remove item ${i + 1}`}
                        onClick={() => context.edit(['items'], remove(['items', i]))}
                      >
                        ×
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <button
              type="button"
              onClick={() =>
                context.edit(['items'], insert(['items', itemCount], { description: '', qty: 1, price: 0 }))
              }
            >
              + Add item
            </button>
            <div className="row">
              <NumberField path={['total']} label="Budget total" step={0.01} />
              <p className="hint">Items add up to {itemsSum.toFixed(2)}</p>
            </div>
            <TextField path={['notes']} label="Notes" multiline />
          </fieldset>
        </div>
        <aside className="side">
          <PresenceList doc={doc} me={user} />
        </aside>
      </div>
    </FormContext.Provider>
  );
}

/** Who may do what: editors submit, owners approve or send back; the server checks it again. */
function Workflow({
  stage,
  user,
  edit,
}: {
  stage: 'draft' | 'submitted' | 'approved';
  user: DemoUser;
  edit: FormContextValue['edit'];
}) {
  if (stage === 'approved') return <span>Approved.</span>;
  if (stage === 'draft')
    return canEdit(user.role) ? (
      <button type="button" onClick={() => edit(['stage'], replace(['stage'], 'submitted'))}>
        Submit for approval
      </button>
    ) : null;
  if (user.role !== 'owner') return <span>Waiting for an owner's approval.</span>;
  return (
    <>
      <button type="button" onClick={() => edit(['approved'], replace(['approved'], true))}>
        Approve
      </button>
      <button type="button" onClick={() => edit(['stage'], replace(['stage'], 'draft'))}>
        Send back
      </button>
    </>
  );
}
