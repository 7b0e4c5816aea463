import { Directive, Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { CrmProvider } from '../crm-provider/crm-provider.js';
import { CrmLeadField } from '../crm-provider/field-mapping.js';
import { CrmConnectionStatus } from './crm-connection.entity.js';

registerEnumType(CrmProvider, { name: 'CrmProvider', description: 'A CRM GTM Graph syncs leads with.' });
registerEnumType(CrmConnectionStatus, { name: 'CrmConnectionStatus', description: 'Where a CRM connection stands.' });
registerEnumType(CrmLeadField, { name: 'CrmLeadField', description: 'A lead field a CRM connection keeps in step.' });

@ObjectType('CrmFieldMapping')
export class CrmFieldMappingType {
  @Field(() => CrmLeadField)
  field!: CrmLeadField;

  @Field()
  providerField!: string;
}

@ObjectType('CrmConnection', { description: "A tenant's connection to one CRM account. Its credentials are never returned." })
@Directive('@key(fields: "id")')
export class CrmConnectionType {
  @Field(() => ID)
  id!: string;

  @Field(() => CrmProvider)
  provider!: CrmProvider;

  @Field(() => CrmConnectionStatus)
  status!: CrmConnectionStatus;

  @Field(() => String, { nullable: true, description: 'Why the connection is not ACTIVE.' })
  statusMessage!: string | null;

  @Field({ description: 'The account the credentials open, as the provider names it.' })
  accountName!: string;

  @Field(() => String, { nullable: true })
  baseUrl!: string | null;

  @Field({ description: 'The credentials, masked (••••abcd).' })
  credentialsHint!: string;

  @Field(() => String, { nullable: true, description: 'The webhook secret, masked.' })
  webhookSecretHint!: string | null;

  @Field(() => Date, { nullable: true })
  lastSyncedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: "Set while the provider's daily cap pauses syncing: a run resumes then." })
  pausedUntil!: Date | null;

  @Field()
  createdAt!: Date;
}
