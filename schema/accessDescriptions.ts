/**
 * Adds to each field's description the catalog resource that guards it, read from the same access
 * directives the kit enforces (`@resource`, `@masked`; `subgraphs/kit/access.ts`). The directives are
 * subgraph-local and do not reach the supergraph, so without this a frontend developer reading the
 * docs pane could not tell which grant a field needs. Deriving the sentence from the directive means
 * it cannot drift from what is enforced.
 */
import { Kind, visit, type ConstDirectiveNode, type DocumentNode, type FieldDefinitionNode, type StringValueNode } from 'graphql';
import { catalogResource } from '../subgraphs/governance/catalog.ts';
import { withSharedScalars } from './scalars.ts';

const ROOT_ACTIONS: Readonly<Record<string, string>> = { Query: 'READ', Mutation: 'WRITE', Subscription: 'SUBSCRIBE' };

const MASK_EXAMPLES: Readonly<Record<string, string>> = {
  ID_NUMBER: 'first and last 4 characters kept, `3701**********123X`',
  PHONE: 'first 3 and last 4 digits kept, `138****5678`',
  NAME: 'first character kept, `李*`',
};

function directive(node: { directives?: readonly ConstDirectiveNode[] | undefined }, name: string): Map<string, string> | undefined {
  const found = node.directives?.find((d) => d.name.value === name);
  if (!found) return undefined;
  const args = new Map<string, string>();
  for (const arg of found.arguments ?? []) {
    if (arg.value.kind === Kind.STRING || arg.value.kind === Kind.ENUM) args.set(arg.name.value, arg.value.value);
  }
  return args;
}

/** The access sentence at the end of a description (it always comes last, after a blank line). */
export const ACCESS_SENTENCE = /(^|\n\n)Resource `[^`]+`[\s\S]*$/;

/** The sentence naming the resource that guards a field (and how it is masked). */
export function accessSentence(resource: string, options: { action?: string | undefined; mask?: string | undefined }): string {
  const entry = catalogResource(resource);
  if (resource === 'public' || entry?.classification === 'PUBLIC') {
    const open = resource === 'public' ? 'open to every authenticated consumer' : `${entry?.title ?? resource}, PUBLIC classification: still needs a grant on it`;
    return `Resource \`${resource}\`: ${open}.`;
  }
  const what = entry ? `${entry.title}, ${entry.classification}` : 'not in the catalog';
  const action = options.action ? `needs a ${options.action} grant on it valid now` : 'needs a grant on it valid now, else null with a FORBIDDEN error';
  const mask = options.mask ? ` Served masked (${MASK_EXAMPLES[options.mask] ?? options.mask}) when every grant covering it is masked.` : '';
  return `Resource \`${resource}\` (${what}): ${action}.${mask}`;
}

function withSentence(field: FieldDefinitionNode, sentence: string): FieldDefinitionNode {
  const current = field.description?.value.trim();
  if (current?.includes(sentence)) return field;
  const description: StringValueNode = { kind: Kind.STRING, value: current ? `${current}\n\n${sentence}` : sentence, block: true };
  return { ...field, description };
}

/** `typeDefs` with every field mapped to a resource describing that resource. */
export function withAccessDescriptions(typeDefs: DocumentNode): DocumentNode {
  const describeFields = <T extends { name: { value: string }; directives?: readonly ConstDirectiveNode[] | undefined; fields?: readonly FieldDefinitionNode[] | undefined }>(
    type: T,
  ): T => {
    const typeResource = directive(type, 'resource');
    const rootAction = ROOT_ACTIONS[type.name.value];
    const fields = type.fields?.map((field) => {
      const resource = directive(field, 'resource') ?? typeResource;
      const name = resource?.get('name');
      if (!name) return field;
      const action = resource?.get('action') ?? rootAction;
      return withSentence(field, accessSentence(name, { action, mask: directive(field, 'masked')?.get('kind') }));
    });
    return fields ? { ...type, fields } : type;
  };
  return visit(typeDefs, {
    ObjectTypeDefinition: (node) => describeFields(node),
    ObjectTypeExtension: (node) => describeFields(node),
  });
}

/** A subgraph's SDL as its server builds it and composition reads it: shared definitions added, fields describing their resource. */
export function servedTypeDefs(typeDefs: DocumentNode): DocumentNode {
  return withAccessDescriptions(withSharedScalars(typeDefs));
}
