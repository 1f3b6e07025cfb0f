/**
 * The purchase-request form: its JSON Schema (checked by the server on every op), its conflict
 * policies per field, and the workflow rule the schema cannot say (submitted forms are read-only).
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import { opPaths, type ValidatePayload } from '@tandem/server';
import type { PurchaseForm } from '../shared/model';

const SUBMITTED = { properties: { stage: { const: 'submitted' } }, required: ['stage'] };

/** Every edit must keep the form valid; a submitted one must also be complete. */
export const FORM_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: [
    'title',
    'category',
    'priority',
    'neededBy',
    'express',
    'items',
    'total',
    'notes',
    'stage',
    'approved',
  ],
  properties: {
    title: { type: 'string', maxLength: 80 },
    category: { enum: ['', 'hardware', 'software', 'services', 'travel'] },
    priority: { enum: ['low', 'normal', 'high'] },
    neededBy: { type: 'string', pattern: '^(\\d{4}-\\d{2}-\\d{2})?$' },
    express: { type: 'boolean' },
    items: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['description', 'qty', 'price'],
        properties: {
          description: { type: 'string', maxLength: 120 },
          qty: { type: 'integer', minimum: 1, maximum: 1000 },
          price: { type: 'number', minimum: 0, maximum: 1_000_000 },
        },
      },
    },
    total: { type: 'number', minimum: 0, maximum: 1_000_000 },
    notes: { type: 'string', maxLength: 2000 },
    stage: { enum: ['draft', 'submitted'] },
    approved: { type: 'boolean' },
  },
  allOf: [
    {
      if: SUBMITTED,
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
      then: {
        properties: {
          title: { minLength: 1 },
          category: { minLength: 1 },
          neededBy: { minLength: 1 },
          items: { minItems: 1 },
          total: { exclusiveMinimum: 0 },
        },
      },
    },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
    { if: { properties: { approved: { const: true } }, required: ['approved'] }, then: SUBMITTED },
  ],
};

export const NOTE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'text'],
  properties: { title: { type: 'string', maxLength: 80 }, text: { type: 'string', maxLength: 100_000 } },
};

/**
 * What happens when two people change one field at once. Text merges (the default); a choice goes
 * to whoever changed it last, and both are told; the budget total refuses the later change.
 */
export const FORM_POLICIES = {
  '/category': 'last-writer-wins',
  '/priority': 'last-writer-wins',
  '/neededBy': 'last-writer-wins',
  '/express': 'last-writer-wins',
  '/total': 'reject',
} as const;

const WORKFLOW = new Set(['stage', 'approved']);

/** A `validate` hook: once submitted, an op may change the workflow fields only. */
export function formWorkflow({ collection, op, snapshot }: ValidatePayload): void {
  if (collection !== 'forms') return;
  const edit = (op as { op?: unknown }).op;
  if (edit === undefined || (snapshot as PurchaseForm).stage === 'draft') return;
  if (opPaths(edit).some((path) => !WORKFLOW.has(String(path[0]))))
    throw new TandemError(ErrorCode.FORBIDDEN, 'the form is submitted: it is read-only', {
      reason: 'submitted',
    });
}
