/**
 * What the graph shows of a property transaction, folded from its recorded events (with their
 * provenance): the read model keeps it, and a mutation's payload folds the stream it just wrote, so
 * both answer alike.
 */
import type { RecordedEvent } from '../../../events/types.ts';
import { divisionFields, type DivisionFields } from '../../kit/divisions/division.ts';
import type { DeedTaxStatus } from '../propertyTransaction/decider.ts';
import type { PropertyTransactionEvent, PropertyTransactionRecorded } from '../propertyTransaction/events.ts';

export interface TransactionView extends Record<string, unknown>, DivisionFields {
  id: string;
  data: PropertyTransactionRecorded['data'];
  buyerId: string;
  /** The department that shared the record (its provenance). */
  sourceDepartment: string;
  recordedAt: string;
  deedTaxStatus: DeedTaxStatus;
  declaration: { taxpayerId: string; declarationId: string; declaredAt: string } | null;
  exemption: { basis: string; documentNo: string; reason: string; recordedAt: string } | null;
  riskId: string | null;
  revision: number;
}

export function evolveTransactionView(view: TransactionView | undefined, recorded: RecordedEvent): TransactionView | undefined {
  const event = recorded as unknown as PropertyTransactionEvent;
  if (event.type === 'PropertyTransactionRecorded') {
    const { data } = event;
    return {
      id: data.transactionId,
      data,
      buyerId: data.buyer.id,
      ...divisionFields(data.property.divisionCode),
      sourceDepartment: recorded.metadata.provenance.department,
      recordedAt: recorded.recordedAt,
      deedTaxStatus: 'PENDING',
      declaration: null,
      exemption: null,
      riskId: null,
      revision: recorded.revision,
    };
  }
  if (!view) return view;
  const next = { ...view, revision: recorded.revision };
  switch (event.type) {
    case 'TaxRiskFlagged':
      return { ...next, riskId: event.data.riskId };
    case 'DeedTaxDeclarationMatched': {
      const { taxpayerId, declarationId, declaredAt } = event.data;
      return { ...next, deedTaxStatus: 'DECLARED', declaration: { taxpayerId, declarationId, declaredAt } };
    }
    case 'TaxExemptionRecorded': {
      const { basis, documentNo, reason, recordedAt } = event.data;
      return { ...next, deedTaxStatus: 'EXEMPT', exemption: { basis, documentNo, reason, recordedAt } };
    }
    case 'TaxRiskResolved':
      return next;
  }
}

export function foldTransactionView(events: readonly RecordedEvent[]): TransactionView | undefined {
  return events.reduce<TransactionView | undefined>(evolveTransactionView, undefined);
}
