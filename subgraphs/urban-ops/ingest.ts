/**
 * Incident reports delivered through the aggregation channel (kit/ingest.ts): IoT devices, grid
 * systems and the 12345 hotline's platform feed reports in bulk. A report is a fact: `created`
 * once, `alreadyPresent` when delivered again; it is decided by the incident decider with the
 * catalog check `reportIncident` makes. The mutation's after-step that rejects a report repeating
 * an open case nearby reads the incidents read model, which a plan does not see: the centre finds
 * such repeats in its queue (`rejectIncident` with DUPLICATE) as it does for any late duplicate.
 */
import { z } from 'zod';
import { factRecord, plannedKind, type RecordPlanner } from '../kit/batchPlan.ts';
import type { IngestKind } from '../kit/ingest.ts';
import { entityIdOf, erased, jsonCell, number, recordSchema } from '../kit/ingestSchema.ts';
import type { ReportIncident } from './incident/commands.ts';
import { incidentDecider } from './incident/decider.ts';
import { CHANNELS, incidentStreamId, REPORTER_KINDS } from './incident/events.ts';
import { assertCatalogDivisions } from './incidentCommands.ts';
import { instantArg } from './resolvers.ts';

/**
 * One report, as `reportIncident` takes it. CSV: `location.longitude`, `location.latitude`,
 * `location.address`, `reporter.kind`, `reporter.id`, `reporter.name` columns; `attachments` a JSON
 * array in its cell. Without `reportedAt`, the report is dated when the source collected it.
 */
const incidentSchema = recordSchema({
  channel: z.enum(CHANNELS),
  category: z.string(),
  subcategory: z.string(),
  description: z.string(),
  location: z.object({ longitude: number(), latitude: number(), address: z.string() }),
  divisionCode: z.string(),
  reporter: z.object({ kind: z.enum(REPORTER_KINDS), id: z.string().optional(), name: z.string().optional() }),
  attachments: jsonCell(z.array(z.string())).optional(),
  reportedAt: z.string().optional(),
});
export type IncidentRecordData = z.output<typeof incidentSchema>;

const planIncident: RecordPlanner<IncidentRecordData> = (record, now) => {
  const { data } = record;
  const incidentId = entityIdOf(record, 'incidents');
  const streamId = incidentStreamId(incidentId);
  const { kind, id, name } = data.reporter;
  const command: ReportIncident = {
    type: 'reportIncident',
    data: {
      incidentId,
      channel: data.channel,
      category: data.category,
      subcategory: data.subcategory,
      description: data.description,
      location: { longitude: data.location.longitude, latitude: data.location.latitude, address: data.location.address },
      divisionCode: data.divisionCode,
      reporter: { kind, ...(id && { id }), ...(name && { name }) },
      attachments: data.attachments ?? [],
      reportedAt: instantArg(data.reportedAt ?? record.metadata.provenance.collectedAt, 'reportedAt'),
    },
    metadata: { now },
  };
  return factRecord(incidentDecider, streamId, [], () => {
    assertCatalogDivisions(command);
    return command;
  });
};

export const incidentsKind = plannedKind<IncidentRecordData>(
  {
    name: 'incidents',
    title: '事件上报 incident reports (IoT, grid, hotline)',
    resource: 'urban.write',
    department: 'urban-management',
    system: 'urban-ops',
    schema: incidentSchema,
  },
  planIncident,
);

export const urbanOpsIngestKinds: readonly IngestKind[] = [erased(incidentsKind)];
