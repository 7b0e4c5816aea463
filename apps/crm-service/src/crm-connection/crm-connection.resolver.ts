import type { SubgraphContext } from '@gtm/runtime';
import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { mappedFields } from '../crm-provider/field-mapping.js';
import type { CrmLoaders } from '../loaders.js';
import type { CrmConnection } from './crm-connection.entity.js';
import { ConnectCrmInput } from './crm-connection.input.js';
import type { CrmConnectionService } from './crm-connection.service.js';
import { CrmConnectionType, CrmFieldMappingType } from './crm-connection.type.js';

type CrmContext = SubgraphContext<CrmLoaders>;

@Resolver(() => CrmConnectionType)
export class CrmConnectionResolver {
  constructor(private readonly connections: CrmConnectionService) {}

  @Query(() => CrmConnectionType, { nullable: true, description: 'A CRM connection of your tenant, or null.' })
  crmConnection(@Arg('id', () => ID) id: string, @Ctx() context: CrmContext) {
    return this.connections.get(context, id);
  }

  @Query(() => [CrmConnectionType], { description: 'Your CRM connections (disconnected ones left out), newest first.' })
  crmConnections(@Ctx() context: CrmContext) {
    return this.connections.list(context);
  }

  @Mutation(() => CrmConnectionType, { description: 'Connects a CRM account: the credentials are checked with the provider first, then stored encrypted.' })
  connectCrm(@Arg('input', () => ConnectCrmInput) input: ConnectCrmInput, @Ctx() context: CrmContext) {
    return this.connections.connect(context, input);
  }

  @Mutation(() => CrmConnectionType, { description: 'Stops syncing and erases the stored credentials; the leads stay.' })
  disconnectCrm(@Arg('id', () => ID) id: string, @Ctx() context: CrmContext) {
    return this.connections.disconnect(context, id);
  }

  @FieldResolver(() => String, { description: 'The absolute URL to register with the provider for its webhooks.' })
  webhookUrl(@Root() connection: CrmConnection) {
    return this.connections.webhookUrl(connection);
  }

  @FieldResolver(() => [CrmFieldMappingType], { description: 'Which provider field each lead field goes to.' })
  fieldMapping(@Root() connection: CrmConnection): CrmFieldMappingType[] {
    return mappedFields(connection.fieldMapping).map(([field, providerField]) => ({ field, providerField }));
  }
}
