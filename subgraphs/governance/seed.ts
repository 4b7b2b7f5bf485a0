/**
 * The demo consumers every fresh city starts with, so that `npm start` and the end-to-end tests have
 * someone to issue tokens for. Grant ids are fixed, so tests and demos can revoke them by name.
 */
import { executeCommand } from '../kit/command.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import type { Role } from '../../platform/auth.ts';
import { CATALOG } from './catalog.ts';
import type { GrantAccess, RegisterConsumer } from './consumer/commands.ts';
import { consumerDecider } from './consumer/decider.ts';
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

export async function seedDemoConsumers(runtime: SubgraphRuntime): Promise<void> {
  const now = runtime.now();
  const validUntil = new Date(now.getTime() + DEMO_VALIDITY_DAYS * 86_400_000).toISOString();
  const metadata = {
    provenance: { department: 'big-data-bureau', system: 'city-brain/seed', channel: 'seed', collectedAt: now.toISOString() },
    actor: { consumerId: ADMIN, role: 'admin' },
    correlationId: 'seed:governance',
  };
  for (const { registration, grants } of DEMO_CONSUMERS) {
    const streamId = consumerStreamId(registration.consumerId);
    const commandMetadata = { now: now.toISOString() };
    await executeCommand({
      store: runtime.store,
      streamId,
      decider: consumerDecider,
      command: { type: 'registerConsumer', data: registration, metadata: commandMetadata },
      metadata,
      idempotencyKey: `seed:${streamId}:registered`,
    });
    for (const grant of grants) {
      await executeCommand({
        store: runtime.store,
        streamId,
        decider: consumerDecider,
        command: {
          type: 'grantAccess',
          data: { ...grant, consumerId: registration.consumerId, validFrom: now.toISOString(), validUntil, approver: APPROVER },
          metadata: commandMetadata,
        },
        metadata,
        idempotencyKey: `seed:${streamId}:${grant.grantId}`,
      });
    }
  }
}
