import { Field, InputType } from 'type-graphql';

@InputType()
export class CreateCampaignInput {
  @Field({ description: 'The website the campaign is about, e.g. blossomer.io or https://blossomer.io.' })
  websiteUrl!: string;

  @Field(() => String, { nullable: true, description: 'At most 200 characters. Default (also when blank): the website\'s domain, e.g. blossomer.io.' })
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'What you want us to know about your offer, at most 5000 characters.' })
  userContext?: string | null;
}

@InputType()
export class CampaignFilter {
  @Field(() => String, { nullable: true, description: 'Case-insensitive match anywhere in the name.' })
  search?: string | null;

  @Field(() => String, { nullable: true, description: 'Campaigns for exactly this website; normalised first, so Acme.com/ finds https://acme.com.' })
  websiteUrl?: string | null;
}
