/**
 * A medical visit recorded by healthcare is a proof of life in the population registry:
 * the registry projection reads healthcare's `MedicalVisitRecorded`, no call between subgraphs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { openPlatform, type Platform } from '../../../bin/platform.ts';
import { BACKENDS, type TestBackend } from '../../../test/helpers/databases.ts';
import { testMetadata, waitUntilVisible } from '../../../test/helpers/events.ts';
import { healthcareModule } from '../../healthcare/index.ts';
import { healthRecordStreamId } from '../../healthcare/healthRecord/events.ts';
import { handle } from '../../kit/command.ts';
import { makeIdNumber } from '../identity/idNumber.ts';
import { populationModule } from '../index.ts';
import { personDecider } from '../person/decider.ts';
import { personStreamId } from '../person/events.ts';
import { PERSONS, REGISTRY_PROJECTION, type PersonDoc } from './registry.ts';

const PERSON_ID = '5a1f0c8e-2b7d-4c1a-9e3f-0d6b8a7c5e41';

for (const openBackend of BACKENDS) {
  describe('proof of life from healthcare', () => {
    let backend: TestBackend;
    let platform: Platform;
    before(async () => {
      backend = await openBackend();
      platform = await openPlatform({ modules: [populationModule, healthcareModule], db: await backend.fresh(), env: {}, logger: pino({ level: 'silent' }) });
    });
    after(async () => {
      await platform.close();
      await backend.dispose();
    });

    it('keeps the latest sighting, with the visit as its evidence', async () => {
      const { store } = platform;
      await handle(personDecider, (command) => personStreamId(command.data.personId))(
        store,
        {
          type: 'registerResident',
          data: { personId: PERSON_ID, idNumber: makeIdNumber('370102', '1950-03-07', 13), name: '王建国', gender: 'MALE', birthDate: '1950-03-07', residence: { address: '历下区和平路1号', divisionCode: '370102001001' } },
          metadata: { now: '2026-01-01T00:00:00Z' },
        },
        testMetadata,
      );
      const visit = (visitId: string, visitedAt: string) => ({
        type: 'MedicalVisitRecorded',
        data: { visitId, personId: PERSON_ID, hospitalCode: 'H37010201', department: '内科', diagnoses: ['I10'], visitedAt, visitDate: visitedAt.slice(0, 10) },
        metadata: testMetadata,
      });
      await store.append(healthRecordStreamId(PERSON_ID), [visit('v-2', '2026-06-02T02:00:00.000Z')]);
      // A hospital reporting an older visit late does not move the sighting back.
      const late = await store.append(healthRecordStreamId(PERSON_ID), [visit('v-1', '2026-03-01T02:00:00.000Z')]);
      await waitUntilVisible(store, late.events[0]!.position);
      await platform.runner.catchUp();

      const person = await platform.readModels.of(REGISTRY_PROJECTION).collection<PersonDoc>(PERSONS).get(PERSON_ID);
      assert.equal(person?.doc.lastProofOfLifeAt, '2026-06-02T02:00:00.000Z');
      assert.equal(person?.doc.proofOfLifeBy?.type, 'MedicalVisitRecorded');
    });
  });
}
