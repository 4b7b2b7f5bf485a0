/**
 * The demo consumers every fresh city starts with, so that `npm start` and the end-to-end tests have
 * someone to issue tokens for. Grant ids are fixed, so tests and demos can revoke them by name.
 * Besides the dashboard, partner app, auditor and administrator, the closed loop's command centres
 * and handling units are consumers with their jurisdictions (kit/demoCity.ts `demoOpsConsumers`):
 * `centre-370102` acts as 历下区's centre, `370102-szgc` as its 市政工程处, and so on.
 */
import type { SubgraphRuntime } from '../kit/module.ts';
import type { Role } from '../../platform/auth.ts';
import { CATALOG } from './catalog.ts';
import { demoOpsConsumers, inParallel, type DemoOpsConsumer } from '../kit/demoCity.ts';
import type { ConsumerCommand, GrantAccess, RegisterConsumer } from './consumer/commands.ts';
import { assignJurisdiction, handleConsumer } from './consumer/handler.ts';
import { consumerStreamId } from './consumer/events.ts';

export const DEMO_DASHBOARD = 'demo-dashboard';
export const PARTNER_APP = 'partner-app';
export const AUDITOR = 'auditor';
export const ADMIN = 'admin';

/** The role each demo consumer's tokens carry (`token --consumer <id>`). */
export const DEMO_CONSUMER_ROLES: Readonly<Record<string, Role>> = {
  [DEMO_DASHBOARD]: 'department',
  [PARTNER_APP]: 'partner',
  [AUDITOR]: 'auditor',
  [ADMIN]: 'admin',
};

export const DEMO_GRANTS = {
  dashboardEverything: 'demo-dashboard-everything',
  partnerOpenData: 'partner-app-open-data',
  partnerPopulation: 'partner-app-population-masked',
  partnerEventFeed: 'partner-app-event-feed',
  auditorLog: 'auditor-audit-log',
  adminGovernance: 'admin-governance',
} as const;

const DEMO_VALIDITY_DAYS = 365;
const APPROVER = '市大数据局 (demo seed)';

type DemoGrant = Omit<GrantAccess['data'], 'consumerId' | 'validFrom' | 'validUntil' | 'approver'>;

interface DemoConsumer {
  registration: RegisterConsumer['data'];
  grants: DemoGrant[];
}

export const DEMO_CONSUMERS: readonly DemoConsumer[] = [
  {
    registration: { consumerId: DEMO_DASHBOARD, name: '城市运行"一张图"', kind: 'DEPARTMENT', department: '市大数据局' },
    grants: [
      {
        grantId: DEMO_GRANTS.dashboardEverything,
        resources: CATALOG.map((r) => r.name),
        actions: ['READ', 'VERIFY', 'SUBSCRIBE', 'WRITE'],
        purpose: 'city operations dashboard (demo)',
        masked: false,
      },
    ],
  },
  {
    registration: { consumerId: PARTNER_APP, name: '便民服务 partner app', kind: 'PARTNER_APP', department: '合作企业' },
    grants: [
      {
        grantId: DEMO_GRANTS.partnerOpenData,
        resources: ['public', 'urban.incidents', 'environment.air'],
        actions: ['READ', 'SUBSCRIBE'],
        purpose: 'city service app: incidents and air quality near the user',
        masked: false,
      },
      {
        grantId: DEMO_GRANTS.partnerPopulation,
        resources: ['population.basic', 'population.identity'],
        actions: ['READ'],
        purpose: 'city service app: the signed-in resident’s own record',
        masked: true,
      },
      {
        grantId: DEMO_GRANTS.partnerEventFeed,
        resources: ['events.feed'],
        actions: ['SUBSCRIBE'],
        purpose: 'city service app: live updates',
        masked: false,
      },
    ],
  },
  {
    registration: { consumerId: AUDITOR, name: '数据安全第三方评估', kind: 'AUDITOR', department: '第三方评估机构' },
    grants: [
      {
        grantId: DEMO_GRANTS.auditorLog,
        resources: ['audit.log', 'public'],
        actions: ['READ'],
        purpose: 'data security assessment',
        masked: true,
      },
    ],
  },
  {
    registration: { consumerId: ADMIN, name: '授权管理员', kind: 'DEPARTMENT', department: '市大数据局' },
    grants: [
      {
        grantId: DEMO_GRANTS.adminGovernance,
        resources: ['governance.admin'],
        actions: ['READ', 'WRITE'],
        purpose: 'administering consumers and grants',
        masked: false,
      },
    ],
  },
];

/** What a centre or unit of the closed loop may do: read and work the incidents, read the metrics. */
const OPS_GRANT: DemoGrant = {
  grantId: 'urban-ops',
  resources: ['urban.incidents', 'urban.write', 'urban.metrics'],
  actions: ['READ', 'SUBSCRIBE', 'WRITE'],
  purpose: 'city operations: the closed loop of incident handling (demo)',
  masked: false,
};

/** The demo's example centre and unit tokens `npm start` prints: 历下区's centre, its 市政工程处, and a street's 城管办. */
export const DEMO_OPS_EXAMPLES = { districtCentre: 'centre-370102', districtUnit: '370102-szgc', streetCentre: 'centre-370102001', streetUnit: '370102001-cgb' } as const;

const opsConsumer = ({ consumerId, name }: DemoOpsConsumer): DemoConsumer => ({
  registration: { consumerId, name, kind: 'DEPARTMENT', department: '城市运行管理服务中心' },
  grants: [{ ...OPS_GRANT, grantId: `${consumerId}-${OPS_GRANT.grantId}` }],
});

export async function seedDemoConsumers(runtime: SubgraphRuntime): Promise<void> {
  const now = runtime.now();
  const validUntil = new Date(now.getTime() + DEMO_VALIDITY_DAYS * 86_400_000).toISOString();
  const metadata = {
    provenance: { department: 'big-data-bureau', system: 'city-brain/seed', channel: 'seed', collectedAt: now.toISOString() },
    actor: { consumerId: ADMIN, role: 'admin' },
    correlationId: 'seed:governance',
  };
  const commandMetadata = { now: now.toISOString() };
  const run = (command: ConsumerCommand, key: string) => handleConsumer(runtime.store, command, metadata, { idempotencyKey: key });
  const seedOne = async ({ registration, grants }: DemoConsumer, ops?: DemoOpsConsumer) => {
    const streamId = consumerStreamId(registration.consumerId);
    await run({ type: 'registerConsumer', data: registration, metadata: commandMetadata }, `seed:${streamId}:registered`);
    for (const grant of grants) {
      await run(
        {
          type: 'grantAccess',
          data: { ...grant, consumerId: registration.consumerId, validFrom: now.toISOString(), validUntil, approver: APPROVER },
          metadata: commandMetadata,
        },
        `seed:${streamId}:${grant.grantId}`,
      );
    }
    if (ops) {
      const data = { consumerId: ops.consumerId, divisionCode: ops.divisionCode, ...ops.unit, assignedBy: ADMIN };
      await assignJurisdiction(runtime.store, { type: 'assignJurisdiction', data, metadata: commandMetadata }, metadata, { idempotencyKey: `seed:${streamId}:jurisdiction` });
    }
  };
  for (const consumer of DEMO_CONSUMERS) await seedOne(consumer);
  await inParallel(demoOpsConsumers(), 8, (ops) => seedOne(opsConsumer(ops), ops));
}
