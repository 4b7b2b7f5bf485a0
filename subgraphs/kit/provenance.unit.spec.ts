import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../events/errors.ts';
import { testSubgraphContext } from '../../test/helpers/subgraphContext.ts';
import { API_CHANNEL, mutationMetadata, provenanceOf } from './provenance.ts';

const NOW = '2026-03-01T08:00:00.000Z';
const POLICE = { department: '市公安局', system: '人口信息管理系统' };

describe('provenanceOf', () => {
  it('defaults to the command’s department, the given channel and now', () => {
    assert.deepEqual(provenanceOf(POLICE, API_CHANNEL, null, NOW), { ...POLICE, channel: 'graphql', collectedAt: NOW });
  });

  it('records what a caller relaying another system says, trimmed', () => {
    const input = { department: ' 市民政局 ', sourceRecordId: 'MZ-1', batchId: 'b-7', collectedAt: '2026-02-01T00:00:00+08:00', system: null };
    assert.deepEqual(provenanceOf(POLICE, 'import', input, NOW), {
      department: '市民政局',
      system: POLICE.system,
      channel: 'import',
      collectedAt: '2026-02-01T00:00:00+08:00',
      sourceRecordId: 'MZ-1',
      batchId: 'b-7',
    });
  });

  it('refuses a collection time in the future and empty fields, naming them', () => {
    assert.throws(() => provenanceOf(POLICE, API_CHANNEL, { collectedAt: '2026-03-02T00:00:00Z' }, NOW), (e: unknown) => e instanceof ValidationError && e.details.field === 'provenance.collectedAt');
    assert.throws(() => provenanceOf(POLICE, API_CHANNEL, { department: '  ' }, NOW), /provenance.department must not be empty/);
  });
});

describe('mutationMetadata', () => {
  it('names the caller as actor, the request as correlation, and no grant when none was checked', () => {
    const ctx = testSubgraphContext({ caller: { consumerId: 'registrar', role: 'department' }, requestId: 'req-1' });
    assert.deepEqual(mutationMetadata(ctx, 'population.write', POLICE, undefined, NOW), {
      provenance: { ...POLICE, channel: API_CHANNEL, collectedAt: NOW },
      actor: { consumerId: 'registrar', role: 'department' },
      correlationId: 'req-1',
    });
  });
});
