import { GraphQLJSON } from 'graphql-scalars';
import { Field, InputType } from 'type-graphql';
import { CrmProvider } from '../crm-provider/crm-provider.js';
import { CrmLeadField } from '../crm-provider/field-mapping.js';

@InputType({ description: 'Which provider field a lead field goes to.' })
export class CrmFieldMappingInput {
  @Field(() => CrmLeadField)
  field!: CrmLeadField;

  @Field(() => String, { nullable: true, description: "The provider's field name (HubSpot: `jobtitle`, Salesforce: `Title` …); empty stops syncing the field." })
  providerField?: string | null;
}

@InputType()
export class ConnectCrmInput {
  @Field(() => CrmProvider)
  provider!: CrmProvider;

  @Field(() => GraphQLJSON, {
    description:
      'Stored encrypted, never returned. HUBSPOT: { accessToken } or { clientId, clientSecret, refreshToken }; SALESFORCE: { instanceUrl, accessToken } or { clientId, clientSecret, refreshToken }; PIPEDRIVE: { apiToken }; CLOSE: { apiKey }; GOHIGHLEVEL: { accessToken, locationId }.',
  })
  credentials!: unknown;

  @Field(() => String, { nullable: true, description: "The provider's API base URL. Default: its public API." })
  baseUrl?: string | null;

  @Field(() => [CrmFieldMappingInput], { nullable: true, description: "Laid over the provider's default mapping." })
  fieldMapping?: CrmFieldMappingInput[] | null;

  @Field(() => String, {
    nullable: true,
    description:
      "What the provider signs its webhooks with, stored encrypted: HubSpot's app client secret, Close's signature key (hex), Pipedrive's `user:password` for basic auth, GoHighLevel's Ed25519 public key (PEM).",
  })
  webhookSecret?: string | null;
}
